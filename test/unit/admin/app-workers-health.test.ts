// The app workers' supervision as the admin API shows it (src/b2bua/workers/app-pool.ts): /health degraded while an
// app worker's place has none connected, and its counters in /stats and /metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { minimalAdminServices } from '../../support/admin-services.js';

const withWorkers = (down: number): AdminServices => {
  const base = minimalAdminServices();
  return { ...base, b2buaStats: () => ({ ...base.b2buaStats(), appWorkerRestarts: 7, appWorkersDown: down, appWorkersUnresponsive: 2 }) };
};
const auth = { authorization: 'Bearer tok' };

test('/health is degraded, with how many, while an app worker is down; ok again once none is', async (t) => {
  for (const [down, status] of [[1, 'degraded'], [0, 'ok']] as const) {
    const app = await buildAdmin(withWorkers(down), { token: 'tok', processMetrics: false });
    t.after(() => app.close());
    const h = (await app.inject({ method: 'GET', url: '/health' })).json() as { status: string; appWorkersDown?: number };
    assert.equal(h.status, status);
    assert.equal(h.appWorkersDown, down > 0 ? down : undefined);
  }
});

test('the app workers\' restarts, those down and those ended as unresponsive are in /stats and /metrics', async (t) => {
  const app = await buildAdmin(withWorkers(1), { token: 'tok', processMetrics: false });
  t.after(() => app.close());
  const stats = (await app.inject({ method: 'GET', url: '/stats', headers: auth })).json() as { b2bua: Record<string, unknown> };
  assert.deepEqual([stats.b2bua.appWorkerRestarts, stats.b2bua.appWorkersDown, stats.b2bua.appWorkersUnresponsive], [7, 1, 2]);
  const text = (await app.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
  assert.match(text, /^trunkgate_app_worker_restarts_total 7$/m);
  assert.match(text, /^trunkgate_app_workers_down 1$/m);
  assert.match(text, /^trunkgate_app_workers_unresponsive_total 2$/m);
});
