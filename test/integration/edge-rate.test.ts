/**
 * The per-source request rate in front of the SIP core, over real UDP sockets on loopback: a trusted source past
 * its burst gets 503 with Retry-After and a Reason (or nothing, with drop) for each new request, statelessly; its
 * retransmissions, CANCELs of its INVITEs and another source are not charged, a request for a dialog that does not
 * exist or a CANCEL for no INVITE is. The rate is set far below a request a second so that no token comes back while
 * a test runs: the counts are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import type { SourceTrustOptions } from '../../src/engine/source-trust.js';
import { until } from '../support/until.js';

const TRUST: SourceTrustOptions = {
  defaultTenant: 'pbx',
  tenants: [{ name: 'pbx', transport: 'udp', sources: ['127.0.0.1', '127.0.0.3'], hosts: [], restrictTls: false }],
};

async function engine(t: { after(fn: () => unknown): void }, overRate: 'reject' | 'drop' = 'reject'): Promise<{ e: Engine; udp: number }> {
  const e = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'rate' }, trust: TRUST,
    transportLimits: { requestsPerSecondPerSource: 0.001, requestBurstPerSource: 5, overRate },
    limits: { retryAfterSeconds: 7 },
  });
  t.after(() => e.close());
  return { e, udp: e.addresses()!.sip[0]!.port };
}

function request(method: string, peer: UdpPeer, branch: string, toTag = ''): string {
  return `${method} sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${branch}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@127.0.0.1>;tag=f${branch}\r\nTo: <sip:1000@127.0.0.1>${toTag}\r\nCall-ID: ${branch}@test\r\nCSeq: 1 ${method}\r\n`
    + `Contact: <sip:a@127.0.0.1:${peer.port}>\r\nContent-Length: 0\r\n\r\n`;
}

const finals = (p: UdpPeer) => p.got.filter((m) => !m.startsWith('SIP/2.0 100 '));
const overRate = (m: string) => /\r\nReason: SIP;cause=503;text="source over its request rate"\r\n/.test(m);

test('a trusted source past its burst gets 503 with Retry-After and a Reason for each new request, and no transaction', async (t) => {
  const { e, udp } = await engine(t);
  const pbx = await udpPeer(t, '127.0.0.1');
  for (let i = 0; i < 20; i++) pbx.s.send(request('INVITE', pbx, `z9hG4bKr${i}`), udp, '127.0.0.1');
  await until(() => finals(pbx).length >= 20, 'an answer to each INVITE');
  const limited = finals(pbx).filter(overRate);
  assert.equal(limited.length, 15, 'the burst of 5 went to the core, the other 15 were refused at the edge');
  for (const m of limited) {
    assert.match(m, /^SIP\/2\.0 503 Service Unavailable\r\n/);
    assert.match(m, /\r\nRetry-After: 7\r\n/);
    assert.match(m, /\r\nTo: <sip:1000@127\.0\.0\.1>;tag=\S+\r\n/);
  }
  assert.equal(e.transactions.stats().created.ist, 5, 'only the admitted INVITEs made a transaction');
  assert.deepEqual({ ...e.rate.stats(), sources: undefined }, { admitted: 5, rejected: 15, dropped: 0, evicted: 0, sources: undefined });
});

test('retransmissions and an INVITE\'s CANCEL are not charged, a BYE for no dialog and a CANCEL for no INVITE are; another source has its own bucket', async (t) => {
  const { e, udp } = await engine(t);
  const pbx = await udpPeer(t, '127.0.0.1');
  for (let i = 0; i < 5; i++) pbx.s.send(request('INVITE', pbx, `z9hG4bKb${i}`), udp, '127.0.0.1');
  await until(() => finals(pbx).length >= 5, 'the burst\'s answers');
  const before = pbx.got.length;
  pbx.s.send(request('INVITE', pbx, 'z9hG4bKb0'), udp, '127.0.0.1');
  // The INVITE b1 was answered (503, no app) and its transaction waits for the ACK: its CANCEL gets the core's 481.
  pbx.s.send(request('CANCEL', pbx, 'z9hG4bKb1'), udp, '127.0.0.1');
  pbx.s.send(request('CANCEL', pbx, 'z9hG4bKcancel'), udp, '127.0.0.1');
  pbx.s.send(request('BYE', pbx, 'z9hG4bKbye', ';tag=t1'), udp, '127.0.0.1');
  await until(() => pbx.got.length >= before + 4, 'four answers');
  const after = pbx.got.slice(before);
  // A made-up To tag is no pass: the BYE matches no dialog, so it is charged as a new request (edge-stray.test.ts);
  // nor is a CANCEL: one for no INVITE is charged the same (edge-stray-ack-cancel.test.ts).
  assert.deepEqual(after.filter(overRate).map((m) => /\r\nCall-ID: (\w+)@/.exec(m)?.[1]), ['z9hG4bKcancel', 'z9hG4bKbye'],
    'only the CANCEL for no INVITE and the BYE for no dialog were refused for the rate');
  assert.ok(after.some((m) => /^SIP\/2\.0 481 /.test(m) && /\r\nCall-ID: z9hG4bKb1@/.test(m)), 'the CANCEL of an answered INVITE got 481 from the core');
  const other = await udpPeer(t, '127.0.0.3');
  other.s.send(request('INVITE', other, 'z9hG4bKo1'), udp, '127.0.0.1');
  await until(() => finals(other).length >= 1, 'the other source\'s answer');
  assert.equal(finals(other).filter(overRate).length, 0);
  pbx.s.send(request('INVITE', pbx, 'z9hG4bKb9'), udp, '127.0.0.1');
  await until(() => pbx.got.slice(before).filter(overRate).length === 3, 'the first source still over its rate');
  assert.equal(e.rate.stats().admitted, 6);
  assert.equal(e.rate.stats().rejected, 3);
});

test('with overRate drop a source past its burst gets no byte, and the drops are counted', async (t) => {
  const { e, udp } = await engine(t, 'drop');
  const pbx = await udpPeer(t, '127.0.0.1');
  for (let i = 0; i < 12; i++) pbx.s.send(request('INVITE', pbx, `z9hG4bKd${i}`), udp, '127.0.0.1');
  await until(() => e.rate.stats().dropped + e.rate.stats().admitted === 12, 'each INVITE judged');
  // Once an answer from the other source is in, an answer to the earlier packets would be too (one socket, in order).
  const other = await udpPeer(t, '127.0.0.3');
  other.s.send(request('INVITE', other, 'z9hG4bKprobe'), udp, '127.0.0.1');
  await until(() => finals(other).length >= 1 && finals(pbx).length >= 5, 'the probe and the burst answered');
  assert.equal(finals(pbx).length, 5, 'only the 5 admitted INVITEs were answered');
  assert.equal(e.rate.stats().dropped, 7);
});
