// A tenant's maxCallsPerSecond on the product's own entry (src/main.ts, as `npm start` runs it), with sipp on both
// sides: six calls sent at 50 a second against a rate of 2 a second with a burst of 2 — two connect, the others get
// 503 with the Reason naming the tenant and its rate (their CDRs say call-rate), and /stats counts them. With two
// b2bua apps (gateway.workers 2) the burst holds for the gateway, not for each app.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSippGatewayRig } from '../support/sipp-gateway-rig.js';
import { runSipp } from '../support/sipp.js';

const REASON = 'SIP;cause=503;text="Tenant pbx over its call rate (2 calls a second)"';

interface Stats {
  b2bua: { policy?: { refusedOverTenantRate: number } };
}

test('a tenant with maxCallsPerSecond 2 and callBurst 2: of six calls at 50 a second two connect, the others get 503 with the Reason', async (t) => {
  const { gw, remote, admin } = await startSippGatewayRig(t, {
    token: { env: 'CALL_RATES_TEST_TOKEN', value: 'call-rates-token' }, pbx: ', maxCallsPerSecond: 2, callBurst: 2',
    sections: 'dialPeers:\n  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx] }\n',
  });

  const r = await runSipp({
    scenario: { file: 'uac-call.xml' }, remote, service: '3001', calls: 6, rate: 50, limit: 6, pauseMs: 100, timeoutSec: 10,
  });
  assert.equal(r.stats.successful, 2, `two calls connected: ${r.errors}${r.stderr}`);
  assert.equal(r.stats.failed, 4);

  const stats = (await admin<Stats>('/stats')).body;
  assert.equal(stats.b2bua.policy?.refusedOverTenantRate, 4);
  const cdrs = gw.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as { cause: string; status: number; reason: string | null });
  const refused = cdrs.filter((c) => c.cause === 'call-rate');
  assert.equal(refused.length, 4);
  assert.ok(refused.every((c) => c.status === 503 && c.reason === REASON), JSON.stringify(refused));
  assert.ok(gw.lines.some((l) => l.code === 'ERR_B2BUA_CALL_RATE'), 'the refusal has its coded line');
});

test('with two b2bua apps a tenant\'s callBurst 3 holds for the gateway: of eight calls at 50 a second three connect', async (t) => {
  // A rate of one call in 10 s refills nothing during the run, so what connects is the burst. The engine gives new
  // calls to the two apps in turn: with a bucket per app (ceil(3 / 2) = 2 tokens each) four would connect.
  const { remote, admin } = await startSippGatewayRig(t, {
    token: { env: 'CALL_RATES_APPS_TEST_TOKEN', value: 'call-rates-apps-token' }, gateway: '  workers: 2\n',
    pbx: ', maxCallsPerSecond: 0.1, callBurst: 3',
    sections: 'dialPeers:\n  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx] }\n',
  });
  const r = await runSipp({
    scenario: { file: 'uac-call.xml' }, remote, service: '3001', calls: 8, rate: 50, limit: 8, pauseMs: 100, timeoutSec: 10,
  });
  assert.equal(r.stats.successful, 3, `three calls connected: ${r.errors}${r.stderr}`);
  assert.equal(r.stats.failed, 5);
  type RateStats = Stats & { b2bua: { policy?: { callRates?: { tenants: Record<string, { tokens: number; burst: number }> } } } };
  // A worker app posts its counters twice a second: /stats has the five refusals of both apps within a moment.
  const deadline = Date.now() + 3_000;
  let stats = (await admin<RateStats>('/stats')).body;
  while (stats.b2bua.policy?.refusedOverTenantRate !== 5 && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 100));
    stats = (await admin<RateStats>('/stats')).body;
  }
  assert.equal(stats.b2bua.policy?.refusedOverTenantRate, 5, 'counted over both apps');
  // The apps share one bucket: its tokens are shown once (under one, refilling at 0.1 a second), not summed.
  const pbx = stats.b2bua.policy?.callRates?.tenants.pbx;
  assert.ok(pbx !== undefined && pbx.burst === 3 && pbx.tokens >= 0 && pbx.tokens < 1, JSON.stringify(pbx));
});
