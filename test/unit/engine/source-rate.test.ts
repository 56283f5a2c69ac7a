import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.js';
import { silentLogger } from '../../../src/log/index.js';
import type { Flow } from '../../../src/sip/transport/types.js';
import { SourceRate, type SourceRateOptions } from '../../../src/engine/source-rate.js';

function flow(remoteAddress: string): Flow {
  return { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress, remotePort: 40000, listenerId: 'udp-shared' };
}

function rate(o: SourceRateOptions) {
  const clock = new ManualClock(1_000_000);
  return { r: new SourceRate(o, { log: silentLogger(), clock }), clock };
}

function takeN(r: SourceRate, n: number, source = '10.0.0.1'): Record<string, number> {
  const out: Record<string, number> = { admit: 0, reject: 0, drop: 0 };
  for (let i = 0; i < n; i++) out[r.take(flow(source))]!++;
  return out;
}

test('a source gets its burst at once, then its rate, and a 503 for each request over it', () => {
  const { r, clock } = rate({ ratePerSecond: 10, burst: 30, rejectsPerSecond: 1_000 });
  assert.deepEqual(takeN(r, 40), { admit: 30, reject: 10, drop: 0 });
  clock.advance(500);
  assert.deepEqual(takeN(r, 10), { admit: 5, reject: 5, drop: 0 }, 'half a second refills half the rate');
  clock.advance(60_000);
  assert.deepEqual(takeN(r, 31), { admit: 30, reject: 1, drop: 0 }, 'a quiet minute refills the bucket to its burst, no more');
  assert.deepEqual(r.stats(), { admitted: 65, rejected: 16, dropped: 0, sources: 1, evicted: 0 });
});

test('the burst defaults to twice the rate, and each source has a bucket of its own', () => {
  const { r } = rate({ ratePerSecond: 5 });
  assert.deepEqual(takeN(r, 11, '10.0.0.1'), { admit: 10, reject: 1, drop: 0 });
  assert.deepEqual(takeN(r, 10, '10.0.0.2'), { admit: 10, reject: 0, drop: 0 }, 'another source is not charged for the first');
});

test('IPv6 sources share a bucket per /64: one host cannot pass the rate by changing its address', () => {
  const { r } = rate({ ratePerSecond: 5 });
  let admitted = 0;
  for (let i = 1; i <= 20; i++) if (r.take(flow(`2001:db8:1:2::${i.toString(16)}`)) === 'admit') admitted++;
  assert.equal(admitted, 10, 'twenty addresses of one /64 get one burst');
  assert.deepEqual(takeN(r, 10, '2001:db8:1:3::1'), { admit: 10, reject: 0, drop: 0 }, 'another /64 has its own');
  assert.equal(r.stats().sources, 2);
});

test('503s to one source are bounded per second; past that, and with action drop, requests go unanswered', () => {
  const a = rate({ ratePerSecond: 1, burst: 1, rejectsPerSecond: 3 });
  assert.deepEqual(takeN(a.r, 10), { admit: 1, reject: 3, drop: 6 });
  a.clock.advance(1_000);
  assert.deepEqual(takeN(a.r, 10), { admit: 1, reject: 3, drop: 6 }, 'the 503 allowance is per second');
  const d = rate({ ratePerSecond: 1, burst: 1, action: 'drop' });
  assert.deepEqual(takeN(d.r, 5), { admit: 1, reject: 0, drop: 4 });
});

test('rate 0 turns the limit off', () => {
  const { r } = rate({ ratePerSecond: 0 });
  assert.equal(r.enabled, false);
  assert.deepEqual(takeN(r, 10_000), { admit: 10_000, reject: 0, drop: 0 });
  assert.equal(r.stats().sources, 0, 'no bucket is kept when the limit is off');
});

test('the bucket table is bounded: full buckets go first, else the oldest tenth, and a source that comes back starts full', () => {
  const { r, clock } = rate({ ratePerSecond: 10, burst: 10, maxSources: 100 });
  for (let i = 0; i < 100; i++) takeN(r, 10, `10.0.1.${i}`);
  assert.equal(r.stats().sources, 100);
  takeN(r, 1, '10.0.2.1');
  assert.equal(r.stats().sources, 91, 'none had refilled: the 10 oldest were forgotten');
  assert.equal(r.stats().evicted, 10);
  clock.advance(2_000);
  for (let i = 0; i < 9; i++) takeN(r, 1, `10.0.3.${i}`);
  takeN(r, 1, '10.0.4.1');
  assert.equal(r.stats().sources, 10, 'the 91 refilled buckets were forgotten; the 9 just charged and the new one kept');
  assert.deepEqual(takeN(r, 10, '10.0.1.50'), { admit: 10, reject: 0, drop: 0 });
});

test('forgetting sources that still owed their burst is logged once (ERR_ENGINE_SOURCE_RATE), the count exact', () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const r = new SourceRate({ ratePerSecond: 10, burst: 10, maxSources: 100 }, { log, clock: new ManualClock(1_000_000) });
  for (let i = 0; i < 100; i++) takeN(r, 10, `10.0.1.${i}`);
  takeN(r, 1, '10.0.2.1');
  takeN(r, 1, '10.0.2.2');
  for (let i = 0; i < 20; i++) takeN(r, 1, `10.0.5.${i}`);
  const table = lines.filter((l) => l['code'] === 'ERR_ENGINE_SOURCE_RATE' && l['maxSources'] === 100);
  assert.equal(table.length, 1, 'one line however often it happens in the minute');
  assert.equal(r.stats().evicted, 30, 'three times the oldest tenth');
});
