import type { Clock } from '../common/index.js';
import { parsePeerHeader } from './peer-header.js';
import { PEER_HEADER } from './policy-types.js';
import type { RegisterAnswer } from './register-timing.js';
import type { RegisterSrf } from './register-types.js';

/**
 * What a registrar's answer says about the flow it came over: the `rport` and `received` it put in our Via (RFC
 * 3581 §4: a server fills an empty rport with the request's source port). Over TCP and TLS the port is our end of the connection, so
 * a different one means a new connection: the registrar restarted, or the old connection dropped and was opened
 * again. Undefined when the registrar filled in neither.
 */
export function flowOfAnswer(res: RegisterAnswer): string | undefined {
  const via = res.get?.('Via') ?? '';
  const rport = /;\s*rport=(\d{1,5})/i.exec(via)?.[1];
  const received = /;\s*received=([0-9A-Fa-f:.[\]]+)/i.exec(via)?.[1];
  if (rport === undefined && received === undefined) return undefined;
  return `${received ?? '-'}:${rport ?? '-'}`;
}

/** An answer the engine made itself (no answer in time, the transport failed): the registrar was not reached. */
export function unreachable(res: RegisterAnswer): boolean {
  if (res.status !== 408 && res.status !== 503) return false;
  return parsePeerHeader(res.get?.(PEER_HEADER))?.origin === 'engine';
}

export type ProbeOutcome = { reached: true; flow: string | undefined } | { reached: false; why: string };

/**
 * One OPTIONS to the registrar, along the same target as the REGISTER (so over the same connection while it is
 * open): whether the registrar answered at all (any status it sent itself) and over which flow.
 */
export function probeRegistrar(srf: RegisterSrf, target: { uri: string; proxy?: string; headers: Record<string, string> }, clock: Clock, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome): void => {
      if (done) return;
      done = true;
      timer.cancel();
      resolve(o);
    };
    const timer = clock.setTimeout(() => finish({ reached: false, why: `no answer in ${timeoutMs} ms` }), timeoutMs);
    try {
      srf.request(target.uri, { method: 'OPTIONS', headers: target.headers, ...(target.proxy !== undefined ? { proxy: target.proxy } : {}) }, (err, req) => {
        if (err || !req) return finish({ reached: false, why: `not sent: ${err instanceof Error ? err.message : String(err)}` });
        req.on('response', (res) => {
          if (res.status < 200) return;
          finish(unreachable(res) ? { reached: false, why: `engine answered ${res.status}` } : { reached: true, flow: flowOfAnswer(res) });
        });
      });
    } catch (err) {
      finish({ reached: false, why: `not sent: ${err instanceof Error ? err.message : String(err)}` });
    }
  });
}
