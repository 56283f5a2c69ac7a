/**
 * gateway.limits.retryAfterSeconds changed on a running engine (a configuration reload): every 503 the engine sends
 * from then on carries the new Retry-After, the edge's (a source over its request rate), the core's (no app to
 * take the request, an app that does not answer) and the transaction layer's (past its cap on transactions at work),
 * with the engine in this thread and in its worker thread. Real UDP on loopback; the rate is far below a request a
 * second, so which request the edge refuses is exact.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Srf from 'drachtio-srf';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { startEngine, startEngineWorker } from '../../src/engine/index.js';
import { until } from '../support/until.js';
import type { SourceTrustOptions } from '../../src/engine/source-trust.js';

const TRUST: SourceTrustOptions = {
  defaultTenant: 'pbx',
  tenants: [{ name: 'pbx', transport: 'udp', sources: ['127.0.0.1', '127.0.0.3'], hosts: [], restrictTls: false }],
};
const OPTIONS = {
  listen: [{ transport: 'udp' as const, host: '127.0.0.1', port: 0 }], trust: TRUST,
  transportLimits: { requestsPerSecondPerSource: 0.001, requestBurstPerSource: 1 },
  limits: { retryAfterSeconds: 7 },
};

function invite(peer: UdpPeer, branch: string): string {
  return `INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${branch}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@127.0.0.1>;tag=f${branch}\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: ${branch}@test\r\nCSeq: 1 INVITE\r\n`
    + `Contact: <sip:a@127.0.0.1:${peer.port}>\r\nContent-Length: 0\r\n\r\n`;
}

/** Sends one INVITE and waits for its final answer: its Retry-After and the Reason's text. */
async function refusal(peer: UdpPeer, udpPort: number, branch: string): Promise<{ retryAfter: string | undefined; reason: string | undefined }> {
  const before = peer.got.length;
  peer.s.send(invite(peer, branch), udpPort, '127.0.0.1');
  const end = Date.now() + 5_000;
  for (;;) {
    const m = peer.got.slice(before).find((x) => x.startsWith('SIP/2.0 503 ') && x.includes(branch));
    if (m) return { retryAfter: /\r\nRetry-After: (\d+)\r\n/.exec(m)?.[1], reason: /\r\nReason: SIP;cause=503;text="([^"]*)"/.exec(m)?.[1] };
    assert.ok(Date.now() < end, `no 503 for ${branch}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Before and after the change: the core's 503 (first request of a source, no app) and the edge's (its second). */
async function exercise(t: TestContext, udpPort: number, change: () => Promise<void>): Promise<void> {
  const a = await udpPeer(t, '127.0.0.1');
  const b = await udpPeer(t, '127.0.0.3');
  assert.deepEqual(await refusal(a, udpPort, 'z9hG4bKa1'), { retryAfter: '7', reason: 'no application' });
  assert.deepEqual(await refusal(a, udpPort, 'z9hG4bKa2'), { retryAfter: '7', reason: 'source over its request rate' });
  await change();
  assert.deepEqual(await refusal(b, udpPort, 'z9hG4bKb1'), { retryAfter: '42', reason: 'no application' }, 'the core\'s 503');
  assert.deepEqual(await refusal(a, udpPort, 'z9hG4bKa3'), { retryAfter: '42', reason: 'source over its request rate' }, 'the edge\'s 503');
}

test('engine in this thread: after setRetryAfterSeconds the core\'s and the edge\'s 503s carry the new Retry-After', async (t) => {
  const e = await startEngine({ ...OPTIONS, control: { host: '127.0.0.1', port: 0, secret: 'ra' } });
  t.after(() => e.close());
  await exercise(t, e.addresses()!.sip[0]!.port, async () => e.setRetryAfterSeconds(42));
});

test('engine in its worker thread: the new Retry-After crosses to the worker before anything asked of it later', async (t) => {
  const w = await startEngineWorker({ ...OPTIONS, control: { port: 0, secret: 'ra' }, logLevel: 'silent' });
  t.after(() => w.close());
  await exercise(t, w.ports.sip[0]!.port, async () => {
    w.setRetryAfterSeconds(42);
    // The worker reads its messages in order: once this answers, the new value is in force.
    await w.snapshot();
  });
});

interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  invite(fn: () => void): void;
  disconnect(): void;
}

test('an app that does not answer, and the transaction layer\'s cap: their 503s carry the Retry-After in force', async (t) => {
  const e = await startEngine({
    listen: OPTIONS.listen, trust: TRUST, control: { host: '127.0.0.1', port: 0, secret: 'ra' },
    transportLimits: { maxTransactions: 3 }, limits: { retryAfterSeconds: 7, appAnswerTimeoutMs: 200 },
  });
  t.after(() => e.close());
  // An app that takes INVITEs and never answers one.
  const srf = new Srf() as unknown as LooseSrf;
  srf.on('error', () => undefined);
  srf.invite(() => undefined);
  await new Promise<void>((resolve, reject) => {
    srf.on('connect', (err) => (err ? reject(err) : resolve()));
    srf.connect({ host: '127.0.0.1', port: e.addresses()!.control.port, secret: 'ra' });
  });
  t.after(() => srf.disconnect());
  const port = e.addresses()!.sip[0]!.port;
  const a = await udpPeer(t, '127.0.0.1');
  // Each INVITE answered 503 and never ACKed stays at work (Timer H, 32 s): the third one fills the cap of 3.
  assert.deepEqual(await refusal(a, port, 'z9hG4bKn1'), { retryAfter: '7', reason: 'no answer from the application within 200 ms' });
  e.setRetryAfterSeconds(42);
  a.s.send(invite(a, 'z9hG4bKn2'), port, '127.0.0.1');
  a.s.send(invite(a, 'z9hG4bKn3'), port, '127.0.0.1');
  assert.deepEqual(await refusal(a, port, 'z9hG4bKn4'), { retryAfter: '42', reason: 'too many transactions at work' }, 'the transaction layer\'s 503');
  assert.equal(e.transactions.stats().rejectedOverLimit, 1);
  await until(() => a.got.some((m) => m.startsWith('SIP/2.0 503 ') && m.includes('z9hG4bKn2')), 'the 503 to the second INVITE');
  const n2 = a.got.find((m) => m.startsWith('SIP/2.0 503 ') && m.includes('z9hG4bKn2'))!;
  assert.match(n2, /\r\nReason: SIP;cause=503;text="no answer from the application within 200 ms"\r\n/);
  assert.match(n2, /\r\nRetry-After: 42\r\n/, 'the core\'s 503');
});
