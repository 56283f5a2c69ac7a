// /health answers without a token and carries the running configuration's standing warnings (policy bridge),
// so a monitor polling it sees a gateway that runs without its policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';

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
