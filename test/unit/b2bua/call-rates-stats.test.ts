// /stats' policy.callRates: each tenant's and dial peer's rate and burst as configured and the tokens its bucket
// holds now (refilled), per app and summed over several apps (rate and burst taken once; a stopped app's buckets gone).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { CallRates, CallStats, PipelineStats, type B2buaPolicy, type CallRatesSnapshot } from '../../../src/b2bua/index.js';
import { retiredStats, sumStats } from '../../../src/b2bua/workers/sum-stats.js';
import type { B2buaStatsSnapshot } from '../../../src/b2bua/start-b2bua.js';

const policy: B2buaPolicy = {
  tenants: { pbx: { maxCallsPerSecond: 2, callBurst: 4 }, itsp: {} },
  categories: [],
  dialPeers: [
    { id: 'a', destinationPattern: '^1', tenant: 'itsp', maxCallsPerSecond: 0.5 },
    { id: 'b', destinationPattern: '^1', tenant: 'itsp' },
  ],
};

test('the snapshot has a row per bucket: rate and burst as configured, tokens refilled to now', () => {
  const clock = new ManualClock(1_000);
  const r = new CallRates(clock, policy);
  assert.deepEqual(r.snapshot(), {
    tenants: { pbx: { perSecond: 2, burst: 4, tokens: 4 } },
    dialPeers: { a: { perSecond: 0.5, burst: 1, tokens: 1 } },
  }, 'full buckets; no row for a name without a rate');
  for (let i = 0; i < 4; i++) r.take('tenant', 'pbx');
  r.take('dialPeer', 'a');
  r.spend('dialPeer', 'a');
  clock.advance(250);
  assert.deepEqual(r.snapshot(), {
    tenants: { pbx: { perSecond: 2, burst: 4, tokens: 0.5 } },
    dialPeers: { a: { perSecond: 0.5, burst: 1, tokens: -0.875 } },
  }, 'refilled since the last take, without a call asking; a spent debt shows below 0');
});

test('with several apps a bucket shows this app\'s share of the tokens, and the configured rate', () => {
  const r = new CallRates(new ManualClock(), policy, 3);
  assert.deepEqual(r.snapshot().tenants.pbx, { perSecond: 2, burst: 4, tokens: 2 }, 'ceil(4 / 3) tokens held by this app');
});

test('the pipeline\'s snapshot carries callRates when it is given the buckets', () => {
  const r = new CallRates(new ManualClock(), policy);
  assert.deepEqual(new PipelineStats(new CallStats(), undefined, r).snapshot().callRates, r.snapshot());
  assert.equal(new PipelineStats(new CallStats()).snapshot().callRates, undefined);
});

test('several apps: tokens summed, rate and burst once, a stopped app\'s buckets left out', () => {
  const app = (tokens: number, extra: Partial<CallRatesSnapshot['tenants']> = {}): B2buaStatsSnapshot => ({
    attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0, legsUp: 0,
    policy: { callRates: { tenants: { pbx: { perSecond: 2, burst: 4, tokens }, ...extra }, dialPeers: {} } },
  } as unknown as B2buaStatsSnapshot);
  const sum = sumStats(app(1.5), [app(2, { late: { perSecond: 1, burst: 1, tokens: 0.25 } }), retiredStats(app(2))]);
  assert.deepEqual(sum.policy?.callRates, {
    tenants: { pbx: { perSecond: 2, burst: 4, tokens: 3.5 }, late: { perSecond: 1, burst: 1, tokens: 0.25 } },
    dialPeers: {},
  });
});
