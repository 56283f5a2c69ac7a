/**
 * Trusted sources and where responses go, over real UDP and TCP sockets on loopback: a new request from an address
 * no tenant trusts gets 403 with a Reason (reject) or no byte at all (drop) and never reaches the SIP core; one from
 * a trusted address does; a UDP response goes to the packet's source, never to a Via maddr. The "untrusted" source
 * is 127.0.0.2, the trusted one 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import { udpPeer } from '../support/udp-peer.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import type { SourceTrustOptions } from '../../src/engine/source-trust.js';
import { until } from '../support/until.js';

const TRUST: SourceTrustOptions = {
  defaultTenant: 'pbx',
  tenants: [{ name: 'pbx', transport: 'udp', sources: ['127.0.0.1'], hosts: [], restrictTls: false },
    { name: 'pbx-tcp', transport: 'tcp', sources: ['127.0.0.1'], hosts: [], restrictTls: false }],
};

async function engine(t: { after(fn: () => unknown): void }, trust: SourceTrustOptions): Promise<{ e: Engine; udp: number; tcp: number }> {
  const e = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'trust' }, trust,
  });
  t.after(() => e.close());
  const sip = e.addresses()!.sip;
  return { e, udp: sip.find((l) => l.protocol === 'udp')!.port, tcp: sip.find((l) => l.protocol === 'tcp')!.port };
}

function invite(host: string, port: number, proto: 'UDP' | 'TCP', branch: string, via = `${host}:${port}`): string {
  return `INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${proto} ${via};branch=${branch}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@${host}>;tag=f${branch}\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: ${branch}@test\r\nCSeq: 1 INVITE\r\n`
    + `Contact: <sip:a@${host}:${port}>\r\nContent-Length: 0\r\n\r\n`;
}

const udpSocket = udpPeer;

/** Waits until `cond` holds; the verdict is the condition, the deadline only bounds a broken run. */
/** A probe from the trusted socket is answered; once its answer is in, an answer to the earlier packet would be too. */
async function settle(port: number, trusted: { s: UdpSocket; port: number; got: string[] }, branch: string): Promise<void> {
  const before = trusted.got.length;
  trusted.s.send(invite('127.0.0.1', trusted.port, 'UDP', branch), port, '127.0.0.1');
  await until(() => trusted.got.slice(before).some((m) => / 503 /.test(m.split('\r\n')[0]!)), 'the probe\'s answer');
}

test('UDP: an untrusted source gets 403 with a Reason and the core never sees it; a trusted one reaches the core', async (t) => {
  const { e, udp } = await engine(t, TRUST);
  const bad = await udpSocket(t, '127.0.0.2');
  const good = await udpSocket(t, '127.0.0.1');
  bad.s.send(invite('127.0.0.2', bad.port, 'UDP', 'z9hG4bKu1'), udp, '127.0.0.1');
  await until(() => bad.got.length > 0, 'the 403');
  assert.match(bad.got[0]!, /^SIP\/2\.0 403 Forbidden\r\n/);
  assert.match(bad.got[0]!, /\r\nReason: SIP;cause=403;text="untrusted source"\r\n/i);
  assert.equal((e.core as unknown as { stats(): { serverPending: number } }).stats().serverPending, 0);
  await settle(udp, good, 'z9hG4bKg1');
  assert.ok(good.got.some((m) => m.startsWith('SIP/2.0 100 Trying')), 'the trusted INVITE reached the core (its 100 Trying)');
  const s = e.trust!.stats();
  assert.equal(s.rejected, 1);
  assert.ok(s.admitted >= 1);
  assert.equal(bad.got.length, 1, 'no retransmissions of a stateless 403');
});

test('UDP: the 403s to one untrusted source are bounded per second; the rest are dropped and counted', async (t) => {
  const { e, udp } = await engine(t, { ...TRUST, rejectsPerSecondPerSource: 3 });
  const bad = await udpSocket(t, '127.0.0.2');
  const good = await udpSocket(t, '127.0.0.1');
  let sent = 0;
  for (let i = 0; i < 50; i++) {
    const text = invite('127.0.0.2', bad.port, 'UDP', `z9hG4bKflood${i}`);
    sent += Buffer.byteLength(text);
    bad.s.send(text, udp, '127.0.0.1');
  }
  await until(() => e.trust!.stats().rejected + e.trust!.stats().dropped === 50, 'all 50 judged');
  await settle(udp, good, 'z9hG4bKg2');
  const back = bad.got.reduce((n, m) => n + Buffer.byteLength(m), 0);
  assert.ok(bad.got.length <= 3 * 2, `at most the per-second share of 403s (got ${bad.got.length})`);
  assert.ok(back <= sent, `bytes back ${back} ≤ bytes received ${sent}`);
  t.diagnostic(`amplification for an untrusted source in reject mode: ${(back / sent).toFixed(3)} (${back} B back for ${sent} B)`);
});

test('drop mode: an untrusted source gets no byte back, over UDP and TCP', async (t) => {
  const { e, udp, tcp } = await engine(t, { ...TRUST, untrusted: 'drop' });
  const bad = await udpSocket(t, '127.0.0.2');
  const good = await udpSocket(t, '127.0.0.1');
  bad.s.send(invite('127.0.0.2', bad.port, 'UDP', 'z9hG4bKd1'), udp, '127.0.0.1');
  const c = connect({ host: '127.0.0.1', port: tcp, localAddress: '127.0.0.2' });
  let tcpBytes = 0;
  let tcpText = '';
  c.on('data', (d) => { tcpBytes += d.length; tcpText += JSON.stringify(d.toString()); });
  await once(c, 'connect');
  t.after(() => c.destroy());
  c.write(invite('127.0.0.2', (c.address() as { port: number }).port, 'TCP', 'z9hG4bKd2'));
  await until(() => e.trust!.stats().dropped === 2, 'both dropped');
  await settle(udp, good, 'z9hG4bKg3');
  assert.equal(bad.got.length, 0);
  assert.equal(tcpBytes, 0, tcpText);
  assert.deepEqual(Object.values(e.trust!.stats().byListener), [1, 1], 'one refusal counted on each listener');
});

test('TCP: an untrusted source gets 403 on its connection', async (t) => {
  const { tcp } = await engine(t, TRUST);
  const c = connect({ host: '127.0.0.1', port: tcp, localAddress: '127.0.0.2' });
  let got = '';
  c.on('data', (d) => (got += d.toString()));
  await once(c, 'connect');
  t.after(() => c.destroy());
  c.write(invite('127.0.0.2', (c.address() as { port: number }).port, 'TCP', 'z9hG4bKt1'));
  await until(() => got.includes('\r\n\r\n'), 'the 403');
  assert.match(got, /^SIP\/2\.0 403 Forbidden\r\n/);
});

test('UDP: responses go to the packet\'s source, never to a maddr in the top Via', async (t) => {
  const { udp } = await engine(t, TRUST);
  const good = await udpSocket(t, '127.0.0.1');
  const third = await udpSocket(t, '127.0.0.4');
  const text = invite('127.0.0.1', good.port, 'UDP', 'z9hG4bKm1', `127.0.0.1:${third.port};maddr=127.0.0.4`);
  good.s.send(text, udp, '127.0.0.1');
  await until(() => good.got.some((m) => / 503 /.test(m.split('\r\n')[0]!)), 'the final answer at the source');
  await settle(udp, good, 'z9hG4bKm2');
  assert.equal(third.got.length, 0, 'the maddr socket received nothing');
});

test('Engine.reloadTrust: a source added is let in and a source removed is refused without a restart; an engine started without trust stays without', async (t) => {
  const { e, udp } = await engine(t, TRUST);
  const newcomer = await udpSocket(t, '127.0.0.2');
  const good = await udpSocket(t, '127.0.0.1');
  newcomer.s.send(invite('127.0.0.2', newcomer.port, 'UDP', 'z9hG4bKr1'), udp, '127.0.0.1');
  await until(() => newcomer.got.length > 0, 'the 403');
  assert.match(newcomer.got[0]!, /^SIP\/2\.0 403 Forbidden\r\n/);
  const added = await e.reloadTrust({ ...TRUST, tenants: [{ ...TRUST.tenants[0]!, sources: ['127.0.0.1', '127.0.0.2'] }] });
  assert.deepEqual(added, { ok: true, tenants: 1, hosts: 0, unresolved: [] });
  newcomer.s.send(invite('127.0.0.2', newcomer.port, 'UDP', 'z9hG4bKr2'), udp, '127.0.0.1');
  await until(() => newcomer.got.some((m) => m.startsWith('SIP/2.0 100 Trying')), 'the INVITE to reach the core');
  await e.reloadTrust(TRUST);
  const before = newcomer.got.length;
  newcomer.s.send(invite('127.0.0.2', newcomer.port, 'UDP', 'z9hG4bKr3'), udp, '127.0.0.1');
  await until(() => newcomer.got.length > before && newcomer.got.slice(before).some((m) => m.includes('z9hG4bKr3')), 'the answer');
  assert.match(newcomer.got.slice(before).find((m) => m.includes('z9hG4bKr3'))!, /^SIP\/2\.0 403 Forbidden\r\n/, 'removed again: refused');
  await settle(udp, good, 'z9hG4bKr4');
  assert.equal(e.trust!.stats().rejected, 2, 'the counters go on across reloads');

  const open = await startEngine({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { host: '127.0.0.1', port: 0, secret: 'none' } });
  t.after(() => open.close());
  const r = await open.reloadTrust(TRUST);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.enforced, false, 'started without trusted sources: the plan is not taken');
  assert.equal(open.trust, undefined);
});
