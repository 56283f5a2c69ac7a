/**
 * ACKs and CANCELs that match nothing, over real sockets on loopback with a real drachtio-srf app on the engine.
 * A CANCEL for no INVITE is a stray like an in-dialog request for no dialog, To tag or not: judged by the trusted
 * sources, charged to its source's rate, answered 481 statelessly. A CANCEL for an INVITE under way still gets 200
 * and the INVITE 487, over UDP and TCP. An ACK with a To tag our 2xx did not carry leaves the 2xx retransmission
 * and its ACK timeout running: the call still ends with a BYE. 127.0.0.1 is the trusted PBX, 127.0.0.7 a stranger.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import Srf from 'drachtio-srf';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import { until } from '../support/until.js';

const SECRET = 'stray-ack-cancel';
interface LooseReq { uri: string; on(event: 'cancel', fn: () => void): void }
interface LooseRes { send(status: number): void }
interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  invite(fn: (req: LooseReq, res: LooseRes) => void): void;
  disconnect(): void;
}

/** The engine (UDP and TCP listeners, a burst of 5 requests per source that does not refill during a test) and its app. */
async function engine(t: TestContext, app: 'hold' | 'answer' | 'none', timers?: { T1: number }) {
  const e: Engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: SECRET },
    trust: { defaultTenant: 'pbx', tenants: [{ name: 'pbx', transport: 'udp', sources: ['127.0.0.1'], hosts: [], restrictTls: false }] },
    transportLimits: { requestsPerSecondPerSource: 0.001, requestBurstPerSource: 5 },
    ...(timers ? { timers } : {}),
  });
  t.after(() => e.close());
  const cancelled: string[] = [];
  if (app !== 'none') {
    const srf = new Srf() as unknown as LooseSrf;
    srf.on('error', () => undefined);
    srf.invite((req, res) => {
      req.on('cancel', () => cancelled.push(req.uri));
      if (app === 'answer') res.send(200);
    });
    await new Promise<void>((resolve, reject) => {
      srf.on('connect', (err) => (err ? reject(err) : resolve()));
      srf.connect({ host: '127.0.0.1', port: e.addresses()!.control.port, secret: SECRET });
    });
    t.after(() => srf.disconnect());
  }
  const sip = e.addresses()!.sip;
  return { e, cancelled, udp: sip.find((l) => l.protocol === 'udp')!.port, tcp: sip.find((l) => l.protocol === 'tcp')!.port };
}

function request(method: string, o: { proto?: 'UDP' | 'TCP'; host?: string; port: number; branch: string; call: string; toTag?: string; cseq?: number }): string {
  const host = o.host ?? '127.0.0.1';
  return `${method} sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${o.proto ?? 'UDP'} ${host}:${o.port};branch=${o.branch}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@127.0.0.1>;tag=f-${o.call}\r\nTo: <sip:1000@127.0.0.1>${o.toTag ?? ''}\r\nCall-ID: ${o.call}@test\r\n`
    + `CSeq: ${o.cseq ?? 1} ${method === 'ACK' ? 'ACK' : method}\r\nContact: <sip:a@127.0.0.1:${o.port}>\r\nContent-Length: 0\r\n\r\n`;
}

const coreStats = (e: Engine): Record<string, number> => (e.core as { stats?: () => Record<string, number> }).stats?.() ?? {};

test('100 CANCELs with a To tag from a source no tenant trusts: 403 or nothing, never a 481, and no transaction', async (t) => {
  const { e, udp } = await engine(t, 'none');
  const stranger = await udpPeer(t, '127.0.0.7');
  for (let i = 0; i < 100; i++) {
    stranger.s.send(request('CANCEL', { host: '127.0.0.7', port: stranger.port, branch: `z9hG4bKu${i}`, call: `u${i}`, toTag: `;tag=made-up-${i}` }), udp, '127.0.0.1');
  }
  await until(() => e.trust!.stats().rejected + e.trust!.stats().dropped === 100, 'each CANCEL judged by the trusted sources');
  // Once the PBX's probe is answered, the stranger's answers are in too (one socket, read in order).
  const pbx = await udpPeer(t, '127.0.0.1');
  pbx.s.send(request('OPTIONS', { port: pbx.port, branch: 'z9hG4bKprobe', call: 'probe' }), udp, '127.0.0.1');
  await until(() => pbx.got.length >= 1, 'the probe\'s answer');
  assert.ok(stranger.got.length > 0 && stranger.got.length <= 5, `at most 5 403s a second to a source: ${stranger.got.length}`);
  for (const m of stranger.got) assert.match(m, /^SIP\/2\.0 403 Forbidden\r\n/);
  assert.equal(e.transactions.stats().created.nist, 1, 'only the probe made a transaction');
});

test('CANCELs for no INVITE from a trusted source are charged to its rate and answered 481 statelessly, counted', async (t) => {
  const { e, udp } = await engine(t, 'none');
  const pbx = await udpPeer(t, '127.0.0.1');
  for (let i = 0; i < 8; i++) {
    pbx.s.send(request('CANCEL', { port: pbx.port, branch: `z9hG4bKs${i}`, call: `s${i}`, toTag: i % 2 === 0 ? `;tag=made-up-${i}` : '' }), udp, '127.0.0.1');
  }
  await until(() => pbx.got.length >= 8, 'an answer to each');
  const stray = pbx.got.filter((m) => /^SIP\/2\.0 481 /.test(m));
  assert.equal(stray.length, 5, 'the burst of 5');
  for (const m of stray) assert.match(m, /\r\nReason: SIP;cause=481;text="no such transaction"\r\n/);
  assert.equal(pbx.got.filter((m) => /\r\nReason: SIP;cause=503;text="source over its request rate"\r\n/.test(m)).length, 3);
  assert.deepEqual([e.rate.stats().admitted, e.rate.stats().rejected], [5, 3]);
  await new Promise((r) => setTimeout(r, 700)); // Timer E/G would resend a kept 481 after 500 ms: none is kept.
  assert.equal(pbx.got.length, 8);
  assert.equal(e.transactions.stats().created.nist, 0, 'no transaction for any of them');
  // The edge tells the core of each stray it answered (strayInDialog): CANCELs are kept apart from other strays.
  const s = coreStats(e);
  assert.deepEqual([s['unmatchedCancel'] ?? 0, s['noDialog'] ?? 0], [5, 0]);
});

test('a CANCEL for an INVITE under way gets 200, the INVITE 487 and the app the CANCEL, over UDP, uncharged', async (t) => {
  const { e, udp, cancelled } = await engine(t, 'hold');
  const pbx = await udpPeer(t, '127.0.0.1');
  const call = { port: pbx.port, branch: 'z9hG4bKheld', call: 'held' };
  pbx.s.send(request('INVITE', call), udp, '127.0.0.1');
  await until(() => (e.core.unansweredInvites?.() ?? 0) === 1, 'the INVITE held by the app');
  pbx.s.send(request('CANCEL', call), udp, '127.0.0.1');
  await until(() => pbx.got.some((m) => m.startsWith('SIP/2.0 487 ')) && cancelled.length === 1, 'the 487 and the app\'s cancel');
  assert.ok(pbx.got.some((m) => m.startsWith('SIP/2.0 200 OK\r\n') && /\r\nCSeq: 1 CANCEL\r\n/.test(m)));
  assert.equal(pbx.got.filter((m) => /^SIP\/2\.0 481 /.test(m)).length, 0);
  assert.equal(e.rate.stats().admitted, 1, 'only the INVITE was charged');
});

test('a CANCEL for an INVITE under way over TCP gets 200 and the INVITE 487', async (t) => {
  const { e, tcp, cancelled } = await engine(t, 'hold');
  const sock = connect(tcp, '127.0.0.1');
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  let got = '';
  sock.on('data', (b: Buffer) => { got += b.toString(); });
  const call = { proto: 'TCP' as const, port: sock.localPort!, branch: 'z9hG4bKheldtcp', call: 'heldtcp' };
  sock.write(request('INVITE', call));
  await until(() => (e.core.unansweredInvites?.() ?? 0) === 1, 'the INVITE held by the app');
  sock.write(request('CANCEL', call));
  await until(() => got.includes('SIP/2.0 487 ') && cancelled.length === 1, 'the 487 and the app\'s cancel');
  assert.match(got, /SIP\/2\.0 200 OK\r\n(?:[^\r]+\r\n)*CSeq: 1 CANCEL\r\n/);
  assert.doesNotMatch(got, /SIP\/2\.0 481 /);
});

test('an ACK with a To tag our 2xx did not carry leaves the 2xx re-sent, and the ACK timeout still ends the call with a BYE', async (t) => {
  // T1 of 50 ms: the ACK timeout (64*T1) comes after 3.2 s.
  const { e, udp } = await engine(t, 'answer', { T1: 50 });
  const pbx = await udpPeer(t, '127.0.0.1');
  const stranger = await udpPeer(t, '127.0.0.7');
  const call = { port: pbx.port, branch: 'z9hG4bKans', call: 'answered' };
  pbx.s.send(request('INVITE', call), udp, '127.0.0.1');
  const oks = (p: UdpPeer) => p.got.filter((m) => m.startsWith('SIP/2.0 200 OK\r\n') && /\r\nCSeq: 1 INVITE\r\n/.test(m));
  await until(() => oks(pbx).length >= 1, 'the 200');
  stranger.s.send(request('ACK', { ...call, host: '127.0.0.7', port: stranger.port, branch: 'z9hG4bKforged', toTag: ';tag=not-ours' }), udp, '127.0.0.1');
  await until(() => coreStats(e)['unmatchedAck'] === 1, 'the forged ACK counted');
  const seen = oks(pbx).length;
  await until(() => oks(pbx).length >= seen + 2, 'the 200 still re-sent after the forged ACK');
  await until(() => pbx.got.some((m) => m.startsWith('BYE ')), 'the BYE at the ACK timeout', 8000);
  const bye = pbx.got.find((m) => m.startsWith('BYE '))!;
  assert.match(bye, /\r\nReason: SIP;cause=408;text="ACK timeout"\r\n/);
  assert.equal(coreStats(e)['dialogs'], 0, 'no dialog is left waiting for its ACK');
  assert.equal(stranger.got.length, 0, 'an ACK is never answered');
});
