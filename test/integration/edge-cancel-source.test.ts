/**
 * A CANCEL is hop by hop (RFC 3261 §9.1): only the hop that sent the INVITE may cancel it. One with the INVITE's
 * branch, Call-ID and CSeq from another address, or over UDP against an INVITE that came over TCP, or over another
 * TCP connection, cancels nothing: 481 statelessly, counted (cancelFromOtherSource) with one line, and the INVITE goes
 * on. Then the caller's own CANCEL, over UDP from another port of its address or over the INVITE's connection, gets
 * 200 and the INVITE 487. Over TLS a reconnect of the same verified peer may cancel, another certificate from the
 * same address may not. Real sockets on loopback, a real drachtio-srf app holding the INVITE: 127.0.0.1 is the
 * caller, 127.0.0.2 another trusted host that learnt the call's branch.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import tls from 'node:tls';
import Srf from 'drachtio-srf';
import { udpPeer } from '../support/udp-peer.js';
import { captureLog } from '../support/log-capture.js';
import { createTestCa, requireOpenssl, type TestCert } from '../support/test-certs.js';
import { until } from '../support/until.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import { profile } from './engine-tls-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'cancel source CA' });
process.on('exit', () => void ca.cleanup());
const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'IP:127.0.0.1'] });
const pbx = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test', 'URI:sip:pbx.test'] });
const otherPbx = await ca.issue({ cn: 'other.test', sans: ['DNS:other.test'] });

const SECRET = 'cancel-source';
interface LooseReq { uri: string; on(event: 'cancel', fn: () => void): void }
interface LooseRes { send(status: number): void }
interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  invite(fn: (req: LooseReq, res: LooseRes) => void): void;
  disconnect(): void;
}

/**
 * The engine (UDP, TCP and mutual-TLS listeners, both addresses trusted, both client certificates accepted) and an
 * app that holds every INVITE unanswered.
 */
async function engine(t: TestContext, transportLimits?: { requestsPerSecondPerSource: number; requestBurstPerSource: number }) {
  const capture = captureLog('warn');
  const e: Engine = await startEngine({
    ...(transportLimits ? { transportLimits } : {}),
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 },
      { transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'mtls', tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: SECRET },
    tls: { profiles: [profile({ name: 'mtls', requireClientCertificate: true, cnSanValidate: 'client', cnSan: ['pbx.test', 'other.test'] }, ca, gw)] },
    trust: { defaultTenant: 'pbx', tenants: [{ name: 'pbx', transport: 'udp', sources: ['127.0.0.1', '127.0.0.2'], hosts: [], restrictTls: false }] },
    log: capture.log,
  });
  t.after(() => e.close());
  const cancelled: string[] = [];
  const srf = new Srf() as unknown as LooseSrf;
  srf.on('error', () => undefined);
  srf.invite((req) => req.on('cancel', () => cancelled.push(req.uri)));
  await new Promise<void>((resolve, reject) => {
    srf.on('connect', (err) => (err ? reject(err) : resolve()));
    srf.connect({ host: '127.0.0.1', port: e.addresses()!.control.port, secret: SECRET });
  });
  t.after(() => srf.disconnect());
  const sip = e.addresses()!.sip;
  const port = (p: string): number => sip.find((l) => l.protocol === p)!.port;
  return { e, capture, cancelled, udp: port('udp'), tcp: port('tcp'), tls: port('tls') };
}

/** The caller's INVITE, or its CANCEL: the same Via (branch and sent-by), Call-ID, From and CSeq number. */
function request(method: 'INVITE' | 'CANCEL', o: { proto: 'UDP' | 'TCP' | 'TLS'; port: number; branch: string; call: string }): string {
  return `${method} sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${o.proto} 127.0.0.1:${o.port};branch=${o.branch}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@127.0.0.1>;tag=f-${o.call}\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: ${o.call}@test\r\n`
    + `CSeq: 1 ${method}\r\nContact: <sip:a@127.0.0.1:${o.port}>\r\nContent-Length: 0\r\n\r\n`;
}

const coreStats = (e: Engine): Record<string, number> => (e.core as { stats?: () => Record<string, number> }).stats?.() ?? {};
const toCancel = (m: string): boolean => /\r\nCSeq: 1 CANCEL\r\n/.test(m);
const NO_SUCH = /^SIP\/2\.0 481 Call\/Transaction Does Not Exist\r\n[\s\S]*\r\nReason: SIP;cause=481;text="no such transaction"\r\n/;

/** A TCP connection from 127.0.0.1 (or a TLS one with a client certificate) that keeps what it receives. */
async function tcpPeer(t: TestContext, port: number, cert?: TestCert): Promise<{ s: Socket; got: () => string }> {
  const s = cert
    ? tls.connect({ port, host: '127.0.0.1', servername: 'gw.test', ca: ca.cert, key: cert.key, cert: cert.cert })
    : connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
  t.after(() => s.destroy());
  await once(s, cert ? 'secureConnect' : 'connect');
  let got = '';
  s.on('data', (b: Buffer) => { got += b.toString(); });
  return { s, got: () => got };
}

test('over UDP: a CANCEL from another address gets 481 and the INVITE goes on; the caller\'s own, from another port, gets 200 and 487', async (t) => {
  const { e, capture, cancelled, udp } = await engine(t);
  const caller = await udpPeer(t, '127.0.0.1');
  const other = await udpPeer(t, '127.0.0.2');
  const call = { proto: 'UDP' as const, port: caller.port, branch: 'z9hG4bKudpsrc', call: 'udpsrc' };
  caller.s.send(request('INVITE', call), udp, '127.0.0.1');
  await until(() => (e.core.unansweredInvites?.() ?? 0) === 1, 'the INVITE held by the app');

  // The other host copies the INVITE's Via, Call-ID, From and CSeq: every field §9.2 matches on.
  other.s.send(request('CANCEL', call), udp, '127.0.0.1');
  other.s.send(request('CANCEL', call), udp, '127.0.0.1');
  await until(() => other.got.filter(toCancel).length === 2, 'an answer to each CANCEL from 127.0.0.2');
  for (const m of other.got) assert.match(m, NO_SUCH);
  assert.equal(e.transactions.stats().created.nist, 0, 'no transaction kept for either: answered statelessly');
  assert.equal(coreStats(e)['cancelFromOtherSource'], 2);
  assert.equal(coreStats(e)['unmatchedCancel'], 0);
  const lines = capture.records.filter((r) => r['code'] === 'ERR_ENGINE_CANCEL_OTHER_SOURCE');
  assert.equal(lines.length, 1, 'one line for both: rate-limited per code');
  assert.equal(lines[0]!['remote'], `127.0.0.2:${other.port}`);
  assert.deepEqual(cancelled, [], 'the app was not told of a cancel');
  assert.equal(e.core.unansweredInvites?.(), 1, 'the INVITE still waits for its app');
  assert.ok(!caller.got.some((m) => /^SIP\/2\.0 (487|481) /.test(m)), 'the caller got no final answer');

  // The caller's CANCEL from another socket of its address: the INVITE is cancelled.
  const callerAgain = await udpPeer(t, '127.0.0.1');
  callerAgain.s.send(request('CANCEL', call), udp, '127.0.0.1');
  await until(() => caller.got.some((m) => m.startsWith('SIP/2.0 487 ')) && cancelled.length === 1, 'the 487 and the app\'s cancel');
  assert.ok(callerAgain.got.some((m) => m.startsWith('SIP/2.0 200 OK\r\n') && toCancel(m)), 'the CANCEL got 200');
  assert.equal(coreStats(e)['cancelFromOtherSource'], 2);
});

test('over TCP: a CANCEL over UDP or another connection from the same address gets 481; over the INVITE\'s connection 200 and 487', async (t) => {
  const { e, cancelled, udp, tcp } = await engine(t);
  const conn = await tcpPeer(t, tcp);
  const call = { proto: 'TCP' as const, port: conn.s.localPort!, branch: 'z9hG4bKtcpsrc', call: 'tcpsrc' };
  conn.s.write(request('INVITE', call));
  await until(() => (e.core.unansweredInvites?.() ?? 0) === 1, 'the INVITE held by the app');

  const sameHostUdp = await udpPeer(t, '127.0.0.1');
  sameHostUdp.s.send(request('CANCEL', call), udp, '127.0.0.1');
  await until(() => sameHostUdp.got.some(toCancel), 'the answer to the CANCEL over UDP');
  assert.match(sameHostUdp.got.find(toCancel)!, NO_SUCH);
  const second = await tcpPeer(t, tcp);
  second.s.write(request('CANCEL', call));
  await until(() => /CSeq: 1 CANCEL\r\n/.test(second.got()), 'the answer to the CANCEL over another connection');
  assert.match(second.got(), NO_SUCH);
  assert.equal(coreStats(e)['cancelFromOtherSource'], 2);
  assert.deepEqual(cancelled, [], 'the app was not told of a cancel');
  assert.equal(e.core.unansweredInvites?.(), 1, 'the INVITE still waits for its app');
  assert.doesNotMatch(conn.got(), /SIP\/2\.0 48[17] /);

  conn.s.write(request('CANCEL', call));
  await until(() => conn.got().includes('SIP/2.0 487 ') && cancelled.length === 1, 'the 487 and the app\'s cancel');
  assert.match(conn.got(), /SIP\/2\.0 200 OK\r\n(?:[^\r]+\r\n)*CSeq: 1 CANCEL\r\n/);
});

test('over TLS: a CANCEL over a connection of another certificate gets 481; a reconnect of the INVITE\'s peer gets 200 and 487', async (t) => {
  const { e, cancelled, tls: port } = await engine(t);
  const conn = await tcpPeer(t, port, pbx);
  const call = { proto: 'TLS' as const, port: conn.s.localPort!, branch: 'z9hG4bKtlssrc', call: 'tlssrc' };
  conn.s.write(request('INVITE', call));
  await until(() => (e.core.unansweredInvites?.() ?? 0) === 1, 'the INVITE held by the app');

  const other = await tcpPeer(t, port, otherPbx);
  other.s.write(request('CANCEL', call));
  await until(() => /CSeq: 1 CANCEL\r\n/.test(other.got()), 'the answer to the CANCEL of another certificate');
  assert.match(other.got(), NO_SUCH);
  assert.equal(coreStats(e)['cancelFromOtherSource'], 1);
  assert.deepEqual(cancelled, [], 'the app was not told of a cancel');
  assert.equal(e.core.unansweredInvites?.(), 1, 'the INVITE still waits for its app');

  const reconnect = await tcpPeer(t, port, pbx);
  reconnect.s.write(request('CANCEL', call));
  await until(() => conn.got().includes('SIP/2.0 487 ') && cancelled.length === 1, 'the 487 on the INVITE\'s connection and the app\'s cancel');
  assert.match(reconnect.got(), /^SIP\/2\.0 200 OK\r\n(?:[^\r]+\r\n)*CSeq: 1 CANCEL\r\n/);
  assert.equal(coreStats(e)['cancelFromOtherSource'], 1);
});

test('a CANCEL from another address is charged to that source\'s request rate, like a CANCEL for nothing', async (t) => {
  const { e, udp } = await engine(t, { requestsPerSecondPerSource: 0.001, requestBurstPerSource: 3 });
  const caller = await udpPeer(t, '127.0.0.1');
  const other = await udpPeer(t, '127.0.0.2');
  const call = { proto: 'UDP' as const, port: caller.port, branch: 'z9hG4bKratesrc', call: 'ratesrc' };
  caller.s.send(request('INVITE', call), udp, '127.0.0.1');
  await until(() => (e.core.unansweredInvites?.() ?? 0) === 1, 'the INVITE held by the app');
  for (let i = 0; i < 6; i++) other.s.send(request('CANCEL', call), udp, '127.0.0.1');
  await until(() => other.got.filter(toCancel).length === 6, 'an answer to each CANCEL from 127.0.0.2');
  const overRate = other.got.filter((m) => /^SIP\/2\.0 503 [\s\S]*\r\nReason: SIP;cause=503;text="source over its request rate"\r\n/.test(m));
  assert.equal(overRate.length, 3, 'past its burst of 3 the source gets 503, not more 481s');
  assert.equal(other.got.filter((m) => NO_SUCH.test(m)).length, 3);
  assert.equal(coreStats(e)['cancelFromOtherSource'], 3);
  assert.equal(e.core.unansweredInvites?.(), 1, 'the INVITE still waits for its app');
});
