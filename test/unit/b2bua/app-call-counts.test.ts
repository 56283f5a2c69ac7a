import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { plainModule } from '../../support/plain-module.js';
import { CallLimits, SharedCallCounts, SHARED_NAMES_MAX, type B2buaPolicy } from '../../../src/b2bua/index.js';

const policy = (tenantMax?: number, dialPeerMax?: number, extraPeers = 0): B2buaPolicy => ({
  tenants: { pbx: { ...(tenantMax !== undefined ? { maxCalls: tenantMax } : {}) }, itsp: {} },
  categories: [],
  dialPeers: [
    { id: 'a', destinationPattern: '^1', tenant: 'itsp', ...(dialPeerMax !== undefined ? { maxCalls: dialPeerMax } : {}) },
    ...Array.from({ length: extraPeers }, (_, i) => ({ id: `x${i}`, destinationPattern: '^1', tenant: 'itsp' })),
  ],
});

/** Two apps' CallLimits on one table, as the pool (app 0) and a worker (app 1) have them. */
function twoApps(p: B2buaPolicy): { pool: SharedCallCounts; a0: CallLimits; a1: CallLimits; w: SharedCallCounts } {
  const pool = SharedCallCounts.create(2, p);
  const w = SharedCallCounts.attach(pool.initFor(1));
  return { pool, w, a0: new CallLimits(p, 2, pool), a1: new CallLimits(p, 2, w) };
}

test('shared call counts: a tenant\'s maxCalls holds for all apps together, whichever app takes the calls', () => {
  const { a0, a1 } = twoApps(policy(3));
  assert.ok(a0.take('tenant', 'pbx'));
  assert.ok(a0.take('tenant', 'pbx'));
  const third = a1.take('tenant', 'pbx');
  assert.ok(third, 'app 1 takes the third call (a share per app would have allowed app 0 only 2)');
  assert.equal(a1.take('tenant', 'pbx'), undefined, 'the fourth is refused in app 1 too: 3 are held');
  assert.equal(a0.take('tenant', 'pbx'), undefined);
  assert.deepEqual(a1.limitOf('tenant', 'pbx'), { scope: 'tenant', name: 'pbx', max: 3, share: 3, held: 3 });
  third.release();
  third.release();
  assert.ok(a0.take('tenant', 'pbx'), 'a slot given back (once) by app 1 makes room in app 0');
  assert.equal(a1.take('tenant', 'pbx'), undefined);
});

test('shared call counts: a B leg takes its dial peer\'s and tenant\'s slots together across apps; a stopped app\'s slots are cleared', () => {
  const { pool, a0, a1 } = twoApps(policy(undefined, 1));
  const leg = a0.takeLeg('a', 'itsp');
  assert.ok(!('scope' in leg));
  const refused = a1.takeLeg('a', 'itsp');
  assert.ok('scope' in refused && refused.scope === 'dialPeer' && refused.held === 1, JSON.stringify(refused));
  assert.equal(a1.held('tenant', 'itsp'), 0, 'the tenant slot was given back when the dial peer was full');
  pool.clearApp(0);
  assert.ok(!('scope' in a1.takeLeg('a', 'itsp')), 'once app 0 stopped (its calls ended by the engine), its slots are free');
});

test('shared call counts: names a reload adds are numbered for every app; past the table\'s size a name is counted per app', () => {
  const p = policy(2);
  const { pool, w, a0, a1 } = twoApps(p);
  const next: B2buaPolicy = { ...p, tenants: { ...p.tenants, carrier: { maxCalls: 1 } } };
  const added = pool.number(next);
  assert.deepEqual(added.map(([k]) => k), ['tenant:carrier']);
  assert.deepEqual(pool.number(next), [], 'numbering is append-only: nothing new the second time');
  w.learn(added);
  a0.configure(next);
  a1.configure(next);
  assert.ok(a0.take('tenant', 'carrier'));
  assert.equal(a1.take('tenant', 'carrier'), undefined, 'the new tenant\'s limit of 1 holds across the apps');

  const big = SharedCallCounts.create(2, policy(undefined, 1, SHARED_NAMES_MAX));
  assert.notEqual(big.slotOf('dialPeer', 'a'), undefined);
  assert.equal(big.slotOf('dialPeer', `x${SHARED_NAMES_MAX - 1}`), undefined, 'the table is bounded');
  // 2 tenants + 1 + 4,096 dial peers: the 3 past the table are counted for the pool's ERR_B2BUA_SHARED_COUNTS_FULL line.
  assert.equal(big.unnumbered, 3);
  assert.equal(pool.unnumbered, 0);
});

async function race(racer: string, shared: boolean): Promise<{ peak: number; admitted: number }> {
  const p = policy(3);
  const pool = shared ? SharedCallCounts.create(2, p) : undefined;
  const tally = new SharedArrayBuffer(16);
  const workers = [0, 1].map((app) => new Worker(racer, { workerData: { init: pool?.initFor(app), policy: p, apps: 2, rounds: 100_000, tally } }));
  await Promise.all(workers.map((w) => once(w, 'message')));
  await Promise.all(workers.map((w) => w.terminate()));
  const t = new Int32Array(tally);
  return { peak: t[1]!, admitted: t[2]! };
}

test('shared call counts: two worker threads taking and giving back slots as fast as they can never hold more than maxCalls', async (t) => {
  const racer = plainModule(t, new URL('./app-call-counts-racer.ts', import.meta.url));
  const shared = await race(racer, true);
  assert.ok(shared.admitted > 1_000, `the apps took slots (${shared.admitted})`);
  assert.ok(shared.peak <= 3, `at most 3 held at once, seen ${shared.peak}`);
  // The same race with a share per app (no shared table): each app holds up to ceil(3 / 2) = 2, so up to 4 at once,
  // past the limit as configured (4 in every run here; how the threads interleave is the scheduler's).
  const perApp = await race(racer, false);
  assert.ok(perApp.admitted > 1_000 && perApp.peak <= 4, JSON.stringify(perApp));
});
