// A drachtio-srf Dialog (node_modules/drachtio-srf/lib/dialog.js, its own code) over a scripted agent: each request it
// sends is answered by the script, with provisional responses first when the script says so.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { PassLeg } from '../../../src/b2bua/pass-through.js';

const require = createRequire(import.meta.url);
const Dialog = require('drachtio-srf/lib/dialog.js') as { prototype: object };

export interface Scripted {
  status: number;
  reason?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Provisional statuses sent before the final one (a 100 Trying, a 180). */
  before?: number[];
}

export interface RealDialog {
  leg: PassLeg & EventEmitter & { local: { sdp: string; contact: string }; remote: { sdp: string } };
  /** Each request the dialog sent: method, body and headers. */
  sent: Array<{ method: string; body?: string; headers?: Record<string, string> }>;
  /** ACKs sent, by the status they acknowledged. */
  acks: number[];
  /** The answers still to give; a request with none left waits for ever. */
  script: Scripted[];
}

export function realDialog(localSdp: string, script: Scripted[] = []): RealDialog {
  const sent: RealDialog['sent'] = [];
  const acks: number[] = [];
  const d = Object.create(Dialog.prototype) as RealDialog['leg'];
  EventEmitter.call(d);
  Object.assign(d, {
    connected: true, local: { sdp: localSdp, contact: '<sip:gw@192.0.2.1>' }, remote: { sdp: 'v=0\r\nREMOTE\r\n' },
    req: { socket: null, method: 'INVITE' }, res: { stackDialogId: 'dlg-1' }, _reinvitesInProgress: { count: 0, admitOne: [] },
    srf: { removeDialog: () => undefined },
    agent: {
      request(opts: { method: string; body?: string; headers?: Record<string, string> }, cb: (err: unknown, req?: EventEmitter) => void) {
        sent.push({ method: opts.method, ...(opts.body !== undefined ? { body: opts.body } : {}), headers: { ...opts.headers } });
        const req = new EventEmitter();
        cb(null, req);
        const answer = r.script.shift();
        if (!answer) return;
        const response = (status: number) => ({
          status, reason: answer.reason ?? 'Answer', body: status >= 200 ? (answer.body ?? '') : '',
          get: (n: string) => (status >= 200 ? answer.headers?.[n] : undefined),
        });
        setImmediate(() => {
          for (const p of answer.before ?? []) req.emit('response', response(p), () => undefined);
          req.emit('response', response(answer.status), () => acks.push(answer.status));
        });
      },
    },
  });
  const r: RealDialog = { leg: d, sent, acks, script };
  return r;
}

/** Lets setImmediate answers and the promise chains after them run. */
export async function turns(n = 4): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
