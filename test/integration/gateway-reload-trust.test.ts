// Trusted sources follow a configuration reload without a restart (the product's own entry, src/main.ts, with its
// engine in a worker thread): sipp from a source no tenant trusts (127.0.0.23) gets 403 with the Reason; the address
// added to the tenant's trustedSources and the gateway reloaded (admin API), the next call from it connects end to
// end (sipp ↔ sipp); removed again and reloaded (SIGHUP), 403 again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSippGatewayRig } from '../support/sipp-gateway-rig.js';
import { runSipp } from '../support/sipp.js';

const NEWCOMER = '127.0.0.23';

test('a source added to trustedSources is let in after a reload, and refused again once removed and reloaded', async (t) => {
  const { gw, remote, admin, writeGateway } = await startSippGatewayRig(t, {
    token: { env: 'RELOAD_TEST_TOKEN', value: 'cli-token' }, pbxSources: '127.0.0.1',
    sections: 'dialPeers:\n  - { id: 1, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }\n',
  });
  const refused = async (what: string): Promise<void> => {
    const r = await runSipp({ scenario: { file: 'uac-invite-403.xml' }, localIp: NEWCOMER, remote, service: '2001', calls: 1, timeoutSec: 10 });
    assert.equal(r.exitCode, 0, `${what}: ${r.errors || r.stderr}`);
  };
  const connects = async (what: string): Promise<void> => {
    const r = await runSipp({ scenario: { file: 'uac-call.xml' }, localIp: NEWCOMER, remote, service: '2002', calls: 1, timeoutSec: 20 });
    assert.equal(r.exitCode, 0, `${what}: ${r.errors || r.stderr}`);
    assert.equal(r.stats.successful, 1);
  };

  await refused('no tenant trusts the newcomer');

  // Added through the admin API's reload: applied, nothing waiting for a restart, and the next call connects.
  writeGateway({ pbxSources: `127.0.0.1, ${NEWCOMER}` });
  const { status, body } = await admin<{ applied: string[]; needsRestart: unknown[]; trust?: { ok: boolean; tenants: number } }>('/reload/config', 'POST');
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.applied, ['trustedSources'], JSON.stringify(body));
  assert.deepEqual(body.needsRestart, []);
  assert.deepEqual([body.trust?.ok, body.trust?.tenants], [true, 2]);
  await connects('the newcomer, trusted by pbx now');
  // /stats shows the plan the engine judges by now.
  type Plan = { tenants: { name: string; sources: string[] }[] };
  const plan = async (): Promise<Plan | undefined> => (await admin<{ engine: { trust?: { plan?: Plan } } }>('/stats')).body.engine.trust?.plan;
  assert.deepEqual((await plan())?.tenants.find((t) => t.name === 'pbx')?.sources, ['127.0.0.1', NEWCOMER]);

  // Removed again, reloaded by SIGHUP: refused again.
  writeGateway();
  const mark = gw.lines.length;
  gw.child.kill('SIGHUP');
  const reloaded = await gw.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: configuration reloaded'), 10_000, mark);
  assert.deepEqual(reloaded.line.applied, ['trustedSources']);
  assert.deepEqual(reloaded.line.needsRestart, []);
  await refused('the newcomer, no longer trusted');
  assert.deepEqual((await plan())?.tenants.find((t) => t.name === 'pbx')?.sources, ['127.0.0.1']);
});
