// The call rates in /stats and /metrics: the pipeline's refusal and skip counters, served as the b2bua reports them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';

const policy = {
  deniedByCategory: {}, unknownPeerRejected: 0, unknownPeerAllowed: 0, noRoute: 0, tooManyHops: 0, cryptoRejected: 0, noTenant: 0,
  peerHeaderIgnored: 0, failovers: 0, skippedDown: 0, dnsFailures: 0, refusedAtTenantLimit: 0, skippedAtLimit: 0, refusedAtTargetLimit: 0,
  refusedOverTenantRate: 7, skippedOverRate: 5, refusedOverTargetRate: 2,
};
const services: AdminServices = {
  engineSnapshot: async () => { throw new Error('unused'); },
  b2buaStats: () => ({ attempted: 40, connected: 30, completed: 0, failed: { 503: 9 }, failedTotal: 9, active: 30, policy }) as never,
  reloadTls: async () => { throw new Error('unused'); },
  reloadConfig: async () => { throw new Error('unused'); },
  closeConnection: async () => undefined,
  engine: () => ({ mode: 'external', control: '127.0.0.1:9022', connected: true, hostport: 'udp/127.0.0.1:5060' }),
};

test('/stats serves the call-rate counters; /metrics has them too', async (t) => {
  const app = await buildAdmin(services, { processMetrics: false });
  t.after(() => app.close());
  const s = await app.inject({ method: 'GET', url: '/stats' });
  assert.equal(s.statusCode, 200, s.body);
  assert.deepEqual(s.json().b2bua.policy, policy);
  const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(m, /^trunkgate_calls_rate_refused_total\{scope="tenant"\} 7$/m);
  assert.match(m, /^trunkgate_calls_rate_refused_total\{scope="target"\} 2$/m);
  assert.match(m, /^trunkgate_calls_rate_skipped_total 5$/m);
});
