// A configuration reload that changes the trust plan applies it to the running engine (Gateway.reloadTrust) instead
// of asking for a restart: after the TLS profiles, before the routing; a failure is reported and leaves the running
// plan (the next reload tries again); an engine started without trusted sources keeps needing a restart for them.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { GatewayError } from '../../src/common/index.js';
import { b2buaPolicyFromConfig, loadConfig, type TrustPlan } from '../../src/config/index.js';
import type { TrustReloadResult } from '../../src/engine/source-trust.js';
import type { Gateway } from '../../src/gateway.js';
import { GatewayReloader } from '../../src/gateway-reload.js';
import { silentLogger } from '../../src/log/index.js';

const yaml = (pbxSources: string, extra = ''): string => `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]
  defaultTenant: pbx
tenants:
  pbx: { transport: udp, trustedSources: [${pbxSources}] }
  far: { transport: udp, sipServer: 127.0.0.1:5998 }
dialPeers:
  - { id: 1, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }
${extra}`;

const PERMISSIONS = 'permissions:\n  p: { patterns: ["^2"], default: true, order: 0 }\n';

type Answer = (plan: TrustPlan) => Promise<TrustReloadResult>;
const applied: Answer = async (plan) => ({ ok: true, tenants: plan.tenants.length, hosts: 0, unresolved: [] });

function setup(t: TestContext, answer: Answer) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-reload-trust-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => writeFileSync(join(dir, 'gateway.yaml'), text);
  write(yaml('127.0.0.1'));
  const config = loadConfig(dir);
  const steps: string[] = [];
  const plans: TrustPlan[] = [];
  let policy = b2buaPolicyFromConfig(config, {});
  const gateway = {
    b2bua: { get policy() { return policy; }, setPolicy: (p: typeof policy) => { steps.push('routing'); policy = p; } },
    reloadTls: async () => { throw new Error('no TLS in this test'); },
    engineSnapshot: async () => { throw new Error('no snapshot in this test'); },
    retryListeners: async () => ({ bound: [], stillFailed: [] }),
    reloadTrust: (plan: TrustPlan) => {
      steps.push('trust');
      plans.push(plan);
      return answer(plan);
    },
  } as unknown as Gateway;
  const reloader = new GatewayReloader({ gateway, profilesDir: dir, config, env: {}, log: silentLogger() });
  t.after(() => reloader.close());
  return { write, reloader, steps, plans };
}

test('an address added to a tenant\'s trustedSources is applied to the engine, before the routing, and nothing needs a restart', async (t) => {
  const { write, reloader, steps, plans } = setup(t, applied);
  write(yaml('127.0.0.1, 127.0.0.23', PERMISSIONS));
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  assert.deepEqual(r.needsRestart, [], 'trusted sources no longer wait for a restart');
  assert.deepEqual(r.applied, ['trustedSources', 'routing']);
  assert.deepEqual(steps, ['trust', 'routing'], 'the engine admits the new source before the routing has the change');
  assert.deepEqual(plans[0]!.tenants.find((x) => x.name === 'pbx')!.sources, ['127.0.0.1', '127.0.0.23']);
  assert.deepEqual(r.trust, { ok: true, tenants: 2, hosts: 0, unresolved: [], problems: [] });
  // Removed again: applied again (the routing has not changed this time).
  write(yaml('127.0.0.1', PERMISSIONS));
  const back = await reloader.reloadConfig('signal');
  assert.deepEqual(back.applied, ['trustedSources']);
  assert.deepEqual(plans[1]!.tenants.find((x) => x.name === 'pbx')!.sources, ['127.0.0.1']);
});

test('a reload that leaves the trust plan as it is does not ask the engine', async (t) => {
  const { write, reloader, steps } = setup(t, applied);
  write(yaml('127.0.0.1', PERMISSIONS));
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  assert.deepEqual(steps, ['routing']);
  assert.equal(r.trust, undefined);
});

test('an engine that cannot apply the plan: the reload goes on, reports it, the running plan stays, and the next reload tries again', async (t) => {
  let fail = true;
  const { write, reloader, steps } = setup(t, async (plan) => {
    if (fail) throw new GatewayError('ERR_ENGINE_WORKER', 'engine worker did not answer a trusted-source reload within 10000 ms');
    return applied(plan);
  });
  write(yaml('127.0.0.1, 127.0.0.23'));
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true, 'the rest of the configuration is taken');
  assert.deepEqual(r.applied, []);
  assert.equal(r.trust?.ok, false);
  assert.deepEqual(r.trust?.problems.map((p) => p.code), ['ERR_ENGINE_WORKER']);
  assert.ok(r.warnings.some((w) => w.code === 'ERR_ENGINE_WORKER' && /trusted sources not applied/.test(w.message)), JSON.stringify(r.warnings));
  assert.deepEqual(r.needsRestart, []);
  fail = false;
  const again = await reloader.reloadConfig('api');
  assert.deepEqual(again.applied, ['trustedSources'], 'the plan the engine runs is still the old one: applied now');
  assert.deepEqual(steps, ['trust', 'trust']);
  const quiet = await reloader.reloadConfig('api');
  assert.equal(quiet.trust, undefined, 'and then it is in force');
});

// The gateway's own refusal is tested in test/integration/gateway-external.test.ts; here a fake gives it, and what is
// checked is how the reload reports it.
test('a trust reload refused as ERR_ADMIN_ENGINE_EXTERNAL: the reload takes the rest and warns that the trusted sources are not applied', async (t) => {
  const { write, reloader } = setup(t, async () => {
    throw new GatewayError('ERR_ADMIN_ENGINE_EXTERNAL', 'applying trusted sources needs the embedded engine; this gateway runs against drachtio-server at 127.0.0.1:9022');
  });
  write(yaml('127.0.0.1, 127.0.0.23'));
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true);
  assert.deepEqual(r.trust?.problems.map((p) => p.code), ['ERR_ADMIN_ENGINE_EXTERNAL']);
  assert.ok(!r.applied.includes('trustedSources'));
  assert.ok(r.warnings.some((w) => w.code === 'ERR_ADMIN_ENGINE_EXTERNAL' && /^trusted sources not applied: .*embedded engine/.test(w.message)), JSON.stringify(r.warnings));
});

test('an engine started without trusted sources does not start checking them on a reload: that still needs a restart, and says why', async (t) => {
  const { write, reloader } = setup(t, async () => ({ ok: false, enforced: false, code: 'ERR_ENGINE_WORKER', reason: 'the engine was started without trusted sources: it checks none' }));
  write(yaml('127.0.0.1, 127.0.0.23'));
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true);
  assert.deepEqual(r.needsRestart.map((n) => n.what), ['trusted sources']);
  assert.match(r.needsRestart[0]!.reason, /started without trusted sources.*restart/);
  assert.equal(r.trust, undefined);
  assert.deepEqual(r.warnings, []);
  write(yaml('127.0.0.1'));
  assert.deepEqual((await reloader.reloadConfig('api')).needsRestart, [], 'back to the plan it started with: nothing pending');
});
