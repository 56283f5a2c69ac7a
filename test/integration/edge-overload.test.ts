/**
 * Overload control over real UDP sockets with a real drachtio-srf app on the engine: while the app has more new
 * INVITEs than the limit unanswered, each further new INVITE gets a stateless 503 with Retry-After and
 * `Reason: SIP;cause=503;text="overloaded"` and never reaches the app; a call already ringing is answered, ACKed and
 * hung up meanwhile; once the app catches up, new INVITEs reach it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Srf from 'drachtio-srf';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { startEngine } from '../../src/engine/index.js';
import { until } from '../support/until.js';

const SECRET = 'overload';
interface LooseReq { uri: string }
interface LooseRes { send(status: number, opts?: { body?: string; headers?: Record<string, string> }): void }
interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  invite(fn: (req: LooseReq, res: LooseRes) => void): void;
  bye(fn: (req: LooseReq, res: LooseRes) => void): void;
  disconnect(): void;
}

function request(method: string, peer: UdpPeer, user: string, branch: string, extra = '', toTag = '', cseq = 1): string {
  return `${method} sip:${user}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${branch}\r\n`
    + `Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=f-${user}\r\nTo: <sip:${user}@127.0.0.1>${toTag}\r\n`
    + `Call-ID: ${user}@overload\r\nCSeq: ${cseq} ${method}\r\nContact: <sip:a@127.0.0.1:${peer.port}>\r\n${extra}Content-Length: 0\r\n\r\n`;
}

const overloaded = (m: string) => /\r\nReason: SIP;cause=503;text="overloaded"\r\n/.test(m);

test('past the unanswered-INVITE limit new INVITEs get 503 overloaded at the edge; the call in progress goes on; then new calls pass again', async (t) => {
  const e = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: SECRET },
    transportLimits: { requestsPerSecondPerSource: 0 },
    limits: { retryAfterSeconds: 3 },
    overload: { maxUnansweredInvites: 5, maxEventLoopDelayMs: 0, maxUtilization: 0, lightSourceInvites: 0 },
  });
  t.after(() => e.close());
  const udp = e.addresses()!.sip[0]!.port;
  const held: LooseRes[] = [];
  let ringing: LooseRes | undefined;
  const seen: string[] = [];
  const srf = new Srf() as unknown as LooseSrf;
  srf.on('error', () => undefined);
  srf.invite((req, res) => {
    const user = /^sip:([^@]+)@/.exec(req.uri)?.[1] ?? '';
    seen.push(user);
    if (user === 'ring') {
      ringing = res;
      res.send(180);
    } else held.push(res);
  });
  srf.bye((_req, res) => res.send(200));
  await new Promise<void>((resolve, reject) => {
    srf.on('connect', (err) => (err ? reject(err) : resolve()));
    srf.connect({ host: '127.0.0.1', port: e.addresses()!.control.port, secret: SECRET });
  });
  t.after(() => srf.disconnect());
  const pbx = await udpPeer(t, '127.0.0.1');
  const send = (text: string) => pbx.s.send(text, udp, '127.0.0.1');

  send(request('INVITE', pbx, 'ring', 'ring1'));
  await until(() => pbx.got.some((m) => m.startsWith('SIP/2.0 180 ')), 'the 180 of the call in progress');
  for (let i = 0; i < 5; i++) send(request('INVITE', pbx, `hold${i}`, `hold${i}`));
  await until(() => seen.length === 6 && (e.core.unansweredInvites?.() ?? -1) === 5, 'five INVITEs held by the app');

  for (let i = 0; i < 3; i++) send(request('INVITE', pbx, `shed${i}`, `shed${i}`));
  await until(() => pbx.got.filter(overloaded).length === 3, 'three 503 overloaded');
  for (const m of pbx.got.filter(overloaded)) {
    assert.match(m, /^SIP\/2\.0 503 Service Unavailable\r\n/);
    assert.match(m, /\r\nRetry-After: 3\r\n/);
    assert.match(m, /\r\nCall-ID: shed\d@overload\r\n/);
  }
  assert.equal(e.transactions.stats().created.ist, 6, 'a shed INVITE makes no transaction');

  // The ringing call is answered, ACKed and hung up while new INVITEs are shed.
  ringing!.send(200);
  await until(() => pbx.got.some((m) => m.startsWith('SIP/2.0 200 ') && /Call-ID: ring@overload/.test(m)), 'the 200 of the call in progress');
  const ok = pbx.got.find((m) => m.startsWith('SIP/2.0 200 ') && /Call-ID: ring@overload/.test(m))!;
  const toTag = /\r\nTo: [^\r]*(;tag=[^;\r]+)/.exec(ok)![1]!;
  send(request('ACK', pbx, 'ring', 'ringack', '', toTag));
  send(request('BYE', pbx, 'ring', 'ringbye', '', toTag, 2));
  await until(() => pbx.got.some((m) => m.startsWith('SIP/2.0 200 ') && /CSeq: 2 BYE/.test(m)), 'the BYE answered by the app');
  assert.ok(e.overload.stats().shedding, 'still shedding: the held INVITEs are unanswered');

  for (const res of held) res.send(486);
  await until(() => (e.core.unansweredInvites?.() ?? -1) === 0, 'the app caught up');
  send(request('INVITE', pbx, 'after', 'after1'));
  await until(() => seen.includes('after'), 'a new INVITE reaching the app after the hold');
  const s = e.overload.stats();
  assert.deepEqual([s.episodes, s.rejected, s.dropped, s.byCause['unanswered-invites']], [1, 3, 0, 3]);
  assert.deepEqual(seen.filter((u) => u.startsWith('shed')), [], 'the app never saw a shed INVITE');
  assert.equal(pbx.got.filter(overloaded).length, 3);
  assert.equal(e.overload.stats().unansweredInvites, 1, 'the last INVITE waits for the app');
  // Every INVITE that reached the app was timed through the engine's stages; the shed ones never got that far.
  // Twelve messages came in: nine INVITEs (three shed), the ring call's ACK and BYE, and the one after.
  const st = e.stages.summary().stages;
  assert.equal(st.ingress.count, 7, 'ring, five held and the one after');
  assert.equal(st.app.count, 6, 'answered by the app: ring and the five held');
  assert.equal(st.trying.count, 7);
  assert.ok(st.parse.count === 12 && st.egress.count >= 8, JSON.stringify({ parse: st.parse.count, egress: st.egress.count }));
});
