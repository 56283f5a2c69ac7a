import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallHold, CallLimits, isAtLimit, type B2buaPolicy } from '../../../src/b2bua/index.js';
import { retiredStats, sumStats } from '../../../src/b2bua/workers/sum-stats.js';
import type { B2buaStatsSnapshot } from '../../../src/b2bua/start-b2bua.js';

const policy = (tenantMax?: number, dialPeerMax?: number): B2buaPolicy => ({
  tenants: { pbx: { ...(tenantMax !== undefined ? { maxCalls: tenantMax } : {}) }, itsp: {} },
  categories: [],
  dialPeers: [
    { id: 'a', destinationPattern: '^1', tenant: 'itsp', ...(dialPeerMax !== undefined ? { maxCalls: dialPeerMax } : {}) },
    { id: 'b', destinationPattern: '^1', tenant: 'itsp' },
  ],
});

test('call limits: slots up to maxCalls, then none; a slot given back makes room; release twice gives back once', () => {
  const l = new CallLimits(policy(2));
  const s1 = l.take('tenant', 'pbx');
  const s2 = l.take('tenant', 'pbx');
  assert.ok(s1 && s2);
  assert.equal(l.take('tenant', 'pbx'), undefined, 'the third is refused');
  assert.equal(l.held('tenant', 'pbx'), 2);
  assert.deepEqual(l.limitOf('tenant', 'pbx'), { scope: 'tenant', name: 'pbx', max: 2, share: 2, held: 2 });
  s1.release();
  s1.release();
  assert.equal(l.held('tenant', 'pbx'), 1, 'a second release of the same slot gives nothing back');
  assert.ok(l.take('tenant', 'pbx'));
  s2.release();
  assert.equal(l.held('tenant', 'pbx'), 1);
  assert.deepEqual(l.snapshot(), { tenants: { pbx: { calls: 1, max: 2 } }, dialPeers: {} });
});

test('call limits: a name without a limit is counted all the same and never refused', () => {
  const l = new CallLimits(policy());
  const slots = Array.from({ length: 50 }, () => l.take('tenant', 'itsp'));
  assert.ok(slots.every((s) => s !== undefined));
  assert.equal(l.held('tenant', 'itsp'), 50);
  assert.equal(l.limitOf('tenant', 'itsp'), undefined);
  for (const s of slots) s!.release();
  assert.equal(l.held('tenant', 'itsp'), 0);
  assert.deepEqual(l.snapshot(), { tenants: {}, dialPeers: {} }, 'only names with a limit are shown');
});

test('call limits: a reload\'s limits apply to the calls already held; a name it removed still gives its slots back', () => {
  const l = new CallLimits(policy());
  const held = [l.take('tenant', 'pbx')!, l.take('tenant', 'pbx')!, l.take('tenant', 'pbx')!];
  l.configure(policy(2));
  assert.equal(l.take('tenant', 'pbx'), undefined, 'three held, the new limit is two');
  held[0]!.release();
  assert.equal(l.take('tenant', 'pbx'), undefined, 'two held: still at the limit');
  held[1]!.release();
  const again = l.take('tenant', 'pbx');
  assert.ok(again);
  l.configure({ ...policy(), tenants: { itsp: {} } });
  assert.deepEqual(l.snapshot().tenants, {}, 'the tenant is gone from the policy');
  held[2]!.release();
  again.release();
  assert.equal(l.held('tenant', 'pbx'), 0, 'its slots came back, and never below zero');
  again.release();
  assert.equal(l.held('tenant', 'pbx'), 0);
});

test('call limits: with N apps each allows ceil(maxCalls / N)', () => {
  const l = new CallLimits(policy(5, 1), 2);
  assert.equal(l.limitOf('tenant', 'pbx')!.share, 3);
  const taken = [l.take('tenant', 'pbx'), l.take('tenant', 'pbx'), l.take('tenant', 'pbx')];
  assert.ok(taken.every((s) => s !== undefined));
  assert.equal(l.take('tenant', 'pbx'), undefined, 'this app\'s share of 5 over 2 apps is 3');
  const one = new CallLimits(policy(undefined, 1), 4);
  assert.ok(one.take('dialPeer', 'a'), 'a limit below the number of apps still allows one call per app');
  assert.equal(one.take('dialPeer', 'a'), undefined);
});

test('call limits: a B leg takes its dial peer\'s and its tenant\'s slots together, or neither', () => {
  const p = policy(undefined, 1);
  const l = new CallLimits({ ...p, tenants: { ...p.tenants, itsp: { maxCalls: 2 } } });
  const first = l.takeLeg('a', 'itsp');
  assert.ok(!isAtLimit(first));
  const second = l.takeLeg('a', 'itsp');
  assert.ok(isAtLimit(second));
  assert.deepEqual(second, { scope: 'dialPeer', name: 'a', max: 1, share: 1, held: 1 });
  assert.equal(l.held('tenant', 'itsp'), 1, 'the tenant\'s slot was not kept for a refused leg');
  const viaB = l.takeLeg('b', 'itsp');
  assert.ok(!isAtLimit(viaB));
  const full = l.takeLeg('b', 'itsp');
  assert.ok(isAtLimit(full));
  assert.equal(full.scope, 'tenant');
  assert.equal(l.held('dialPeer', 'b'), 1, 'the dial peer\'s slot went back when its tenant was full');
  first.release();
  assert.equal(l.held('dialPeer', 'a'), 0);
  assert.equal(l.held('tenant', 'itsp'), 1);
});

test('call hold: every slot of a call goes back once; a slot added after the end goes back at once', () => {
  const l = new CallLimits(policy(1, 1));
  const hold = new CallHold();
  hold.add(l.take('tenant', 'pbx')!);
  const leg = l.takeLeg('a', 'itsp');
  assert.ok(!isAtLimit(leg));
  hold.add(leg);
  leg.release();
  hold.release();
  hold.release();
  assert.equal(l.held('tenant', 'pbx'), 0);
  assert.equal(l.held('dialPeer', 'a'), 0);
  assert.equal(l.held('tenant', 'itsp'), 0);
  assert.equal(hold.released, true);
  hold.add(l.take('tenant', 'pbx')!);
  assert.equal(l.held('tenant', 'pbx'), 0);
});

test('stats of several apps: calls held are summed, the limit is taken once; a stopped app holds none', () => {
  const app = (calls: number, extra: Record<string, unknown> = {}): B2buaStatsSnapshot => ({
    attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: calls, legsUp: 0,
    policy: { callLimits: { tenants: { pbx: { calls, max: 10 } }, dialPeers: {} }, skippedAtLimit: 1, ...extra },
  } as unknown as B2buaStatsSnapshot);
  const sum = sumStats(app(2), [app(3), app(4)]);
  assert.deepEqual(sum.policy?.callLimits, { tenants: { pbx: { calls: 9, max: 10 } }, dialPeers: {} });
  assert.equal(sum.policy?.skippedAtLimit, 3);
  const withStopped = sumStats(app(2), [retiredStats(app(4))]);
  assert.deepEqual(withStopped.policy?.callLimits, { tenants: { pbx: { calls: 2, max: 10 } }, dialPeers: {} });
  assert.equal(withStopped.policy?.skippedAtLimit, 2, 'its counters stay');
  assert.equal(withStopped.active, 2);
});
