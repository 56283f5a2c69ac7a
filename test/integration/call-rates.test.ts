// A tenant's maxCallsPerSecond on the product's own entry (src/main.ts, as `npm start` runs it), with sipp on both
// sides: six calls sent at 50 a second against a rate of 2 a second with a burst of 2 — two connect, the others get
// 503 with the Reason naming the tenant and its rate (their CDRs say call-rate), and /stats counts them.
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
