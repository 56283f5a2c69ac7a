// The call limits and call rates in /stats and /metrics: the pipeline's refusal and skip counters, and the calls held
// per tenant and dial peer with a maxCalls, served as the b2bua reports them (the response schema keeps every policy field).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';

/** An admin API whose b2bua reports `policy` and `failed503` calls failed with 503; /stats is checked to serve `policy` as it came. */
async function servePolicy(t: TestContext, policy: Record<string, unknown>, failed503: number): Promise<{ metrics: string }> {
  const services: AdminServices = {
    engineSnapshot: async () => { throw new Error('unused'); },
    b2buaStats: () => ({ attempted: 40, connected: 30, completed: 0, failed: { 503: failed503 }, failedTotal: failed503, active: 30, policy }) as never,
    reloadTls: async () => { throw new Error('unused'); },
    reloadConfig: async () => { throw new Error('unused'); },
    closeConnection: async () => undefined,
    engine: () => ({ mode: 'external', control: '127.0.0.1:9022', connected: true, hostport: 'udp/127.0.0.1:5060' }),
  };
  const app = await buildAdmin(services, { processMetrics: false });
  t.after(() => app.close());
  const s = await app.inject({ method: 'GET', url: '/stats' });
  assert.equal(s.statusCode, 200, s.body);
  assert.deepEqual(s.json().b2bua.policy, policy);
  return { metrics: (await app.inject({ method: 'GET', url: '/metrics' })).body };
}

test('/stats serves the call-limit counters and the calls held per limit; /metrics has them too', async (t) => {
  const policy = {
    deniedByCategory: { international: 2 }, unknownPeerRejected: 0, unknownPeerAllowed: 0, noRoute: 1, tooManyHops: 0, cryptoRejected: 0, noTenant: 0,
    peerHeaderIgnored: 0, failovers: 0, skippedDown: 0, dnsFailures: 0, refusedAtTenantLimit: 4, skippedAtLimit: 6, refusedAtTargetLimit: 1,
    callLimits: { tenants: { pbx: { calls: 30, max: 30 } }, dialPeers: { '100': { calls: 1, max: 2 } } },
  };
  const { metrics: m } = await servePolicy(t, policy, 5);
  assert.match(m, /^trunkgate_calls_limit_refused_total\{scope="tenant"\} 4$/m);
  assert.match(m, /^trunkgate_calls_limit_refused_total\{scope="target"\} 1$/m);
  assert.match(m, /^trunkgate_calls_limit_skipped_total 6$/m);
  assert.match(m, /^trunkgate_calls_limit_held\{scope="tenant",name="pbx"\} 30$/m);
  assert.match(m, /^trunkgate_calls_limit_held\{scope="dialPeer",name="100"\} 1$/m);
  assert.match(m, /^trunkgate_calls_limit_max\{scope="dialPeer",name="100"\} 2$/m);
});

test('/stats serves the call-rate counters and each rate\'s tokens; /metrics has them too', async (t) => {
  const policy = {
    deniedByCategory: {}, unknownPeerRejected: 0, unknownPeerAllowed: 0, noRoute: 0, tooManyHops: 0, cryptoRejected: 0, noTenant: 0,
    peerHeaderIgnored: 0, failovers: 0, skippedDown: 0, dnsFailures: 0, refusedAtTenantLimit: 0, skippedAtLimit: 0, refusedAtTargetLimit: 0,
    refusedOverTenantRate: 7, skippedOverRate: 5, refusedOverTargetRate: 2,
    callRates: { tenants: { pbx: { perSecond: 5, burst: 10, tokens: 3.5 } }, dialPeers: { '100': { perSecond: 0.5, burst: 1, tokens: -0.25 } } },
  };
  const { metrics: m } = await servePolicy(t, policy, 9);
  assert.match(m, /^trunkgate_calls_rate_tokens\{scope="tenant",name="pbx"\} 3\.5$/m);
  assert.match(m, /^trunkgate_calls_rate_tokens\{scope="dialPeer",name="100"\} -0\.25$/m);
  assert.match(m, /^trunkgate_calls_rate_per_second\{scope="dialPeer",name="100"\} 0\.5$/m);
  assert.match(m, /^trunkgate_calls_rate_refused_total\{scope="tenant"\} 7$/m);
  assert.match(m, /^trunkgate_calls_rate_refused_total\{scope="target"\} 2$/m);
  assert.match(m, /^trunkgate_calls_rate_skipped_total 5$/m);
});
