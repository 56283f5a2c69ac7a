import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { burstOf, CallRates, type B2buaPolicy } from '../../../src/b2bua/index.js';
import { retiredStats, sumStats } from '../../../src/b2bua/workers/sum-stats.js';
import type { B2buaStatsSnapshot } from '../../../src/b2bua/start-b2bua.js';

const policy = (tenant?: { maxCallsPerSecond: number; callBurst?: number }, dialPeer?: { maxCallsPerSecond: number; callBurst?: number }): B2buaPolicy => ({
  tenants: { pbx: { ...tenant }, itsp: {} },
  categories: [],
  dialPeers: [
    { id: 'a', destinationPattern: '^1', tenant: 'itsp', ...dialPeer },
    { id: 'b', destinationPattern: '^1', tenant: 'itsp' },
  ],
});

const takes = (r: CallRates, scope: 'tenant' | 'dialPeer', name: string, n: number): number => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (r.take(scope, name)) ok++;
  return ok;
};

test('call rates: a full bucket lets callBurst calls through at once, then none until it refills', () => {
  const clock = new ManualClock(1_000);
  const r = new CallRates(clock, policy({ maxCallsPerSecond: 2, callBurst: 3 }));
  assert.equal(takes(r, 'tenant', 'pbx', 5), 3);
  assert.equal(r.allows('tenant', 'pbx'), false);
  clock.advance(499);
  assert.equal(r.take('tenant', 'pbx'), false, 'one token takes 500 ms at 2 a second');
  clock.advance(1);
  assert.equal(r.take('tenant', 'pbx'), true);
  assert.equal(r.take('tenant', 'pbx'), false);
  clock.advance(60_000);
  assert.equal(r.tokens('tenant', 'pbx'), 3, 'never more than the burst');
  assert.deepEqual(r.rateOf('tenant', 'pbx'), { scope: 'tenant', name: 'pbx', perSecond: 2, burst: 3, sharePerSecond: 2, shareBurst: 3 });
});

test('call rates: a name without a rate is never refused, and has no bucket', () => {
  const r = new CallRates(new ManualClock(), policy({ maxCallsPerSecond: 1 }));
  assert.equal(takes(r, 'tenant', 'itsp', 1000), 1000);
  assert.equal(takes(r, 'dialPeer', 'a', 1000), 1000);
  assert.equal(takes(r, 'tenant', 'nobody', 10), 10);
  assert.equal(r.rateOf('tenant', 'itsp'), undefined);
  assert.equal(r.tokens('dialPeer', 'b'), undefined);
});

test('call rates: a fractional rate refills one token every 1/rate seconds; the default burst is max(1, ceil(rate))', () => {
  assert.equal(burstOf(0.5, undefined), 1);
  assert.equal(burstOf(2.5, undefined), 3);
  assert.equal(burstOf(2.5, 7), 7);
  const clock = new ManualClock();
  const r = new CallRates(clock, policy(undefined, { maxCallsPerSecond: 0.5 }));
  assert.equal(r.take('dialPeer', 'a'), true);
  assert.equal(r.take('dialPeer', 'a'), false, 'burst 1');
  clock.advance(1_000);
  assert.equal(r.tokens('dialPeer', 'a'), 0.5);
  assert.equal(r.take('dialPeer', 'a'), false, 'half a token is not a call');
  clock.advance(1_000);
  assert.equal(r.take('dialPeer', 'a'), true, 'two seconds at 0.5 a second');
  assert.equal(r.take('dialPeer', 'a'), false);
});

test('call rates: allows takes nothing; spend takes a token even below one, and the refill pays the debt first', () => {
  const clock = new ManualClock();
  const r = new CallRates(clock, policy(undefined, { maxCallsPerSecond: 1, callBurst: 1 }));
  assert.equal(r.allows('dialPeer', 'a'), true);
  assert.equal(r.allows('dialPeer', 'a'), true, 'nothing was taken');
  r.spend('dialPeer', 'a');
  r.spend('dialPeer', 'a');
  assert.equal(r.tokens('dialPeer', 'a'), -1);
  clock.advance(1_000);
  assert.equal(r.allows('dialPeer', 'a'), false, 'the debt is paid before the next call');
  clock.advance(1_000);
  assert.equal(r.allows('dialPeer', 'a'), true);
});

test('call rates: a reload keeps the tokens, clamps them to the new burst, applies the new rate; a new bucket starts full, a removed one goes', () => {
  const clock = new ManualClock();
  const r = new CallRates(clock, policy({ maxCallsPerSecond: 10, callBurst: 10 }));
  assert.equal(takes(r, 'tenant', 'pbx', 4), 4);
  r.configure(policy({ maxCallsPerSecond: 1, callBurst: 20 }));
  assert.equal(r.tokens('tenant', 'pbx'), 6, 'a larger burst does not refill the bucket');
  r.configure(policy({ maxCallsPerSecond: 1, callBurst: 2 }));
  assert.equal(r.tokens('tenant', 'pbx'), 2, 'clamped to the smaller burst');
  assert.equal(takes(r, 'tenant', 'pbx', 3), 2);
  clock.advance(500);
  assert.equal(r.tokens('tenant', 'pbx'), 0.5, 'refilled at the new rate, 1 a second');
  assert.equal(r.tokens('dialPeer', 'a'), undefined);
  r.configure(policy({ maxCallsPerSecond: 1, callBurst: 2 }, { maxCallsPerSecond: 5 }));
  assert.equal(r.tokens('dialPeer', 'a'), 5, 'a rate a reload adds starts with a full bucket');
  r.configure(policy(undefined, { maxCallsPerSecond: 5 }));
  assert.equal(r.rateOf('tenant', 'pbx'), undefined);
  assert.equal(takes(r, 'tenant', 'pbx', 50), 50, 'a rate a reload removes no longer applies');
});

test('call rates: with N apps each refills at rate / N and holds ceil(burst / N)', () => {
  const clock = new ManualClock();
  const r = new CallRates(clock, policy({ maxCallsPerSecond: 10, callBurst: 5 }), 4);
  assert.deepEqual(r.rateOf('tenant', 'pbx'), { scope: 'tenant', name: 'pbx', perSecond: 10, burst: 5, sharePerSecond: 2.5, shareBurst: 2 });
  assert.equal(takes(r, 'tenant', 'pbx', 5), 2);
  clock.advance(400);
  assert.equal(r.take('tenant', 'pbx'), true, 'one token in 400 ms at 2.5 a second');
  assert.equal(r.take('tenant', 'pbx'), false);
  const one = new CallRates(clock, policy({ maxCallsPerSecond: 1 }), 3);
  assert.equal(one.rateOf('tenant', 'pbx')?.shareBurst, 1, 'each app holds at least one token');
});

test('stats of several apps: the call-rate counters are summed', () => {
  const app = (n: number): B2buaStatsSnapshot => ({
    attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0, legsUp: 0,
    policy: { refusedOverTenantRate: n, skippedOverRate: 2 * n, refusedOverTargetRate: 3 * n },
  } as unknown as B2buaStatsSnapshot);
  const sum = sumStats(app(1), [app(2), retiredStats(app(4))]);
  assert.deepEqual([sum.policy?.refusedOverTenantRate, sum.policy?.skippedOverRate, sum.policy?.refusedOverTargetRate], [7, 14, 21]);
});
