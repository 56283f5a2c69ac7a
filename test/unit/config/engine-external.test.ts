// gateway.engine.mode external: `trunkgate start` plans the b2bua alone against drachtio-server, with the secret
// from the variable secretEnv names (unset: the start is refused with that name), and the policy marked so the
// b2bua never believes X-Trunkgate-Peer; the REGISTER relay, which needs the engine's flows, is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { tryLoadConfig } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { planStartup } from '../../../src/startup.js';
import { validateCipherName } from '../../../src/tls/index.js';

const base = `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  defaultTenant: carrier
  engine: { mode: external, host: 127.0.0.1, port: 9022, secretEnv: DRACHTIO_SECRET }
cdr: { file: { enabled: false } }
tenants:
  carrier: { transport: udp, trustedSources: [127.0.0.1/32] }
  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }
dialPeers:
  - { id: to-pbx, destinationPattern: "^\\\\d{4}$", tenant: pbx, from: [carrier] }
`;

function dir(t: TestContext, yaml: string): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-ext-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  writeFileSync(join(d, 'gateway.yaml'), yaml);
  return d;
}

test('engine external: the plan connects to drachtio-server with the secret from secretEnv, policy marked external', (t) => {
  const plan = planStartup(dir(t, base), { DRACHTIO_SECRET: 's3cret' }, silentLogger());
  assert.deepEqual(plan.external, { host: '127.0.0.1', port: 9022, secret: 's3cret' });
  assert.deepEqual(plan.options.control, { host: '127.0.0.1', port: 9022 });
  assert.equal(plan.options.policy?.engine, 'external');
  const embedded = planStartup(dir(t, base.replace(/ {2}engine: .*\n/, '  engine: { mode: embedded, control: { port: 0 } }\n')), {}, silentLogger());
  assert.equal(embedded.external, undefined);
  assert.equal(embedded.options.policy?.engine, undefined);
});

test('engine external: an unset or empty secret variable refuses the start, naming it', (t) => {
  const d = dir(t, base);
  for (const env of [{}, { DRACHTIO_SECRET: '' }]) {
    assert.throws(() => planStartup(d, env, silentLogger()), (e: Error & { code?: string }) =>
      e.code === 'ERR_CONFIG_INVALID' && /DRACHTIO_SECRET is not set/.test(e.message));
  }
});

test('engine external: a tenant with registerRelay is refused (ERR_CONFIG_ENGINE_MODE)', (t) => {
  const yaml = base.replace('carrier: { transport: udp, trustedSources: [127.0.0.1/32] }',
    'carrier: { transport: udp, trustedSources: [127.0.0.1/32], registerRelay: { to: pbx } }');
  const r = tryLoadConfig(dir(t, yaml), { validateCipherName, env: {} });
  assert.equal(r.ok, false);
  const problems = r.ok ? [] : r.problems.filter((p) => p.code === 'ERR_CONFIG_ENGINE_MODE');
  assert.deepEqual(problems.map((p) => p.path), ['tenants.carrier.registerRelay']);
  const embedded = tryLoadConfig(dir(t, yaml.replace(/ {2}engine: .*\n/, '')), { validateCipherName, env: {} });
  assert.equal(embedded.ok, true, embedded.ok ? '' : JSON.stringify(embedded.problems));
});
