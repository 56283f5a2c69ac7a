import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { plainModule } from '../../support/plain-module.js';
import { ManualClock } from '../../../src/common/clock.js';
import { SharedRateBuckets } from '../../../src/b2bua/app-rate-buckets.js';
import { SharedCallCounts } from '../../../src/b2bua/app-call-counts.js';
import { CallRates, type B2buaPolicy } from '../../../src/b2bua/index.js';
import { sumStats } from '../../../src/b2bua/workers/sum-stats.js';
import type { B2buaStatsSnapshot } from '../../../src/b2bua/start-b2bua.js';

const policy = (perSecond: number, callBurst?: number): B2buaPolicy => ({
  tenants: { pbx: { maxCallsPerSecond: perSecond, ...(callBurst !== undefined ? { callBurst } : {}) }, itsp: {} },
  categories: [],
  dialPeers: [{ id: 'a', destinationPattern: '^1', tenant: 'itsp' }],
});

test('a shared bucket starts full, refills at its rate, keeps its tokens when configured again, and starts full again once unset', () => {
  const b = SharedRateBuckets.create(4);
  b.configure(2, 2, 3, 1_000);
  assert.equal(b.tokens(2, 1_000), 3);
  assert.deepEqual([b.take(2, 1_000), b.take(2, 1_000), b.take(2, 1_000), b.take(2, 1_000)], [true, true, true, false]);
  assert.equal(b.take(2, 1_499), false, 'one token takes 500 ms at 2 a second');
  assert.equal(b.take(2, 1_500), true);
  b.spend(2, 1_500);
  assert.equal(b.tokens(2, 1_500), -1, 'spent below zero: the refill pays it back first');
  // Another app configuring the same rate (its start, or its copy of a reload) changes nothing.
  b.configure(2, 2, 3, 1_500);
  assert.equal(b.tokens(2, 1_500), -1);
  // A reload to burst 1: the tokens earned until then are kept, at most the new burst.
  b.configure(2, 2, 1, 60_000);
  assert.equal(b.tokens(2, 60_000), 1);
  b.unset(2);
  assert.equal(b.take(2, 60_000) && b.take(2, 60_000), true, 'an unset bucket limits nothing');
  b.configure(2, 10, 5, 60_000);
  assert.equal(b.tokens(2, 60_000), 5, 'a rate given again starts full');
  assert.equal(b.tokens(1, 60_000), 0, 'the other slots are apart');
  assert.throws(() => b.take(4, 0), RangeError);
});

test('two apps on shared buckets: the burst and the rate hold for the gateway, whichever app the calls reach', () => {
  const p = policy(10, 5);
  const pool = SharedCallCounts.create(2, p);
  const clock = new ManualClock(1_000);
  const app0 = new CallRates(clock, p, 2, pool);
  const app1 = new CallRates(clock, p, 2, SharedCallCounts.attach(pool.initFor(1)));
  assert.deepEqual(app0.rateOf('tenant', 'pbx'), { scope: 'tenant', name: 'pbx', perSecond: 10, burst: 5, sharePerSecond: 10, shareBurst: 5 });
  // All five calls of the burst reach app 0 (a share per app would have let 3 through there, and 3 more at app 1).
  let got = 0;
  for (let i = 0; i < 6; i++) if (app0.take('tenant', 'pbx')) got++;
  assert.equal(got, 5);
  assert.equal(app1.take('tenant', 'pbx'), false, 'the other app finds the bucket empty');
  clock.advance(100);
  assert.equal(app1.take('tenant', 'pbx'), true, 'one token in 100 ms at 10 a second, for either app');
  assert.equal(app0.take('tenant', 'pbx'), false);
  // /stats: the tokens of a shared bucket are the gateway's, shown once and not summed over the apps.
  clock.advance(200);
  const stats = (r: CallRates): B2buaStatsSnapshot =>
    ({ attempted: 0, connected: 0, failed: {}, policy: { callRates: r.snapshot() } }) as unknown as B2buaStatsSnapshot;
  assert.deepEqual(sumStats(stats(app0), [stats(app1)]).policy?.callRates?.tenants, { pbx: { perSecond: 10, burst: 5, tokens: 2 } });
  // A reload that takes the rate away unsets the bucket; a later one that gives it back starts it full.
  app0.configure({ ...p, tenants: { pbx: {}, itsp: {} } });
  assert.equal(app1.take('tenant', 'pbx') && app1.take('tenant', 'pbx') && app1.take('tenant', 'pbx'), true, 'unset: nothing refused meanwhile');
  app0.configure(policy(1, 2));
  app1.configure(policy(1, 2));
  assert.equal(app1.tokens('tenant', 'pbx'), 2);
});

test('shared rate buckets: two worker threads taking tokens as fast as they can get the burst between them, never more', async (t0) => {
  const p = policy(1e-9, 200_000);
  const pool = SharedCallCounts.create(2, p);
  const tally = new SharedArrayBuffer(12);
  const racer = plainModule(t0, new URL('./app-rate-buckets-racer.ts', import.meta.url));
  const workers = [0, 1].map((app) => new Worker(racer, { workerData: { init: pool.initFor(app), policy: p, app, tries: 200_000, tally } }));
  await Promise.all(workers.map((w) => once(w, 'message')));
  await Promise.all(workers.map((w) => w.terminate()));
  const t = new Int32Array(tally);
  // Each app alone could take all 200,000; together they get exactly the burst, however their takes interleave.
  assert.equal(t[0]! + t[1]!, 200_000, `app 0 got ${t[0]}, app 1 got ${t[1]}`);
  // Without the lock the two apps' read-refill-write steps overlap and the sum passed the burst in five runs of five, by 755 to 4,431.
  t0.diagnostic(`app 0 got ${t[0]}, app 1 got ${t[1]}`);
});
