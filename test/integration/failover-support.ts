import type { TestContext } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, sdp, ua, type Ua } from '../support/mini-ua.js';

/** A response's To with the tag `tag`. */
export const withTag = (m: string, tag: string) => m.replace(/^(To: [^\r\n]*?)(;tag=[^\r\n]*)?$/m, `$1;tag=${tag}`);

type Handler = (msg: string, self: Ua, from: number) => void;

/**
 * The real engine and b2bua on loopback, the caller's tenant `pbx` on a UDP listener, and two trunks (mini UAs)
 * behind dial peers `first` and `second` for every number, tried in that order. Trunk 1 answers as `one` says;
 * trunk 2 answers every INVITE 200. `appFinalTimeoutMs` goes to the engine and, as gateway.calls carries it, the b2bua.
 */
export async function twoTrunkRig(t: TestContext, one: Handler, o: { appFinalTimeoutMs?: number } = {}) {
  const t1 = await ua(t, one);
  const t2 = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(withTag(answer(msg, '200 OK', self.port, sdp), 't2tag'), from);
  });
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 's' },
    ...(o.appFinalTimeoutMs !== undefined ? { limits: { appFinalTimeoutMs: o.appFinalTimeoutMs } } : {}),
  } as never);
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const policy: B2buaPolicy = {
    tenants: {
      pbx: { transport: 'udp' },
      one: { transport: 'udp', sipServer: `127.0.0.1:${t1.port}` },
      two: { transport: 'udp', sipServer: `127.0.0.1:${t2.port}` },
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }],
    tlsPeers: {},
    dialPeers: [
      { id: 'first', destinationPattern: '^\\d+$', tenant: 'one', preference: 0 },
      { id: 'second', destinationPattern: '^\\d+$', tenant: 'two', preference: 1 },
    ],
    ...(o.appFinalTimeoutMs !== undefined ? { calls: { appFinalTimeoutMs: o.appFinalTimeoutMs } } : {}),
  };
  const { log, cdrs } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 's' }, policy, log });
  t.after(() => app.close());
  const uac = await ua(t);
  /** Sends a call to 5551234 as `callId` and resolves with its final response. */
  const call = (callId: string, branch: string): Promise<string> => {
    const lines = [`INVITE sip:5551234@127.0.0.1:${sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=${branch};rport`, 'Max-Forwards: 70',
      `From: <sip:1000@127.0.0.1:${uac.port}>;tag=${branch}`, `To: <sip:5551234@127.0.0.1:${sipPort}>`,
      `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${uac.port}>`,
      'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp];
    uac.send(lines.join('\r\n'), sipPort);
    return uac.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d[\\s\\S]*Call-ID: ${callId}`, 'im'));
  };
  return { t1, t2, cdrs, call };
}
