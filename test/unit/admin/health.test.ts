// /health answers without a token and carries the running configuration's standing warnings (policy bridge),
// so a monitor polling it sees a gateway that runs without its policy; being open, it takes one engine snapshot at
// a time and at most about one a second, however often and however many ask.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { shared } from '../../../src/admin/routes/health-route.js';

const unused = (): never => {
  throw new Error('not called by /health');
};
const services: AdminServices = { engineSnapshot: unused, b2buaStats: unused, reloadTls: unused, reloadConfig: unused };

test('/health lists the standing warnings (policy bridge) and stays open without the token', async (t) => {
  const app = await buildAdmin(services, {
    token: 'secret',
    warnings: [{ code: 'WARN_POLICY_BRIDGE', message: 'gateway.policy is bridge' }],
  });
  t.after(() => app.close());
  const r = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), { status: 'ok', warnings: [{ code: 'WARN_POLICY_BRIDGE', message: 'gateway.policy is bridge' }] });
});

test('/health of a gateway with no standing warning is a bare ok', async (t) => {
  const app = await buildAdmin(services, {});
  t.after(() => app.close());
  const r = await app.inject({ method: 'GET', url: '/health' });
  assert.deepEqual(r.json(), { status: 'ok' });
});

test('/health is degraded, naming the listener, when a tenant listener could not bind', async (t) => {
  const down = { id: 'tls-127.0.0.1-5063', protocol: 'tls', host: '127.0.0.1', port: 5063, tenant: 'carrier-backup', error: 'listen EADDRINUSE: address already in use 127.0.0.1:5063' };
  const app = await buildAdmin({ ...services, engineSnapshot: async () => ({ listenersDown: [down] }) as never }, {});
  t.after(() => app.close());
  const r = await app.inject({ method: 'GET', url: '/health' });
  assert.deepEqual(r.json(), { status: 'degraded', listenersDown: [down] });
});

test('/health takes at most one engine snapshot at a time and reuses it for a second, however many ask', async (t) => {
  let snapshots = 0;
  let release!: () => void;
  const held = new Promise<void>((res) => { release = res; });
  const engineSnapshot = async () => {
    snapshots++;
    await held;
    return { listenersDown: [] } as never;
  };
  const app = await buildAdmin({ ...services, engineSnapshot }, {});
  t.after(() => app.close());
  const started = Date.now();
  const concurrent = Array.from({ length: 50 }, () => app.inject({ method: 'GET', url: '/health' }));
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(snapshots, 1, 'one snapshot in flight, shared by every request meanwhile');
  release();
  for (const r of await Promise.all(concurrent)) assert.deepEqual(r.json(), { status: 'ok' });
  for (let i = 0; i < 200; i++) assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  // One more snapshot for each second the requests took, at most (none when they took less than a second).
  assert.ok(snapshots <= 1 + Math.floor((Date.now() - started) / 1_000), `${snapshots} snapshots`);
});

test('/health reuses a failed snapshot for its second too, and answers ok', async (t) => {
  let snapshots = 0;
  const app = await buildAdmin({ ...services, engineSnapshot: async () => { snapshots++; throw new Error('engine busy'); } }, {});
  t.after(() => app.close());
  const started = Date.now();
  for (let i = 0; i < 20; i++) assert.deepEqual((await app.inject({ method: 'GET', url: '/health' })).json(), { status: 'ok' });
  assert.ok(snapshots <= 1 + Math.floor((Date.now() - started) / 1_000), `${snapshots} snapshots`);
});

test('shared(): one call in flight, its result reused for maxAgeMs after it settled, then a new call', async () => {
  const clock = { t: 0, now() { return this.t; } };
  let calls = 0;
  const get = shared(async () => ++calls, 1_000, clock);
  assert.deepEqual(await Promise.all([get(), get(), get()]), [1, 1, 1]);
  clock.t = 999;
  assert.equal(await get(), 1);
  clock.t = 1_000;
  assert.equal(await get(), 2);
  clock.t = 500; // the clock set back: the value is not trusted
  assert.equal(await get(), 3);
  assert.equal(calls, 3);
});
