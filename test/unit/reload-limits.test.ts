// A configuration reload applies gateway.limits.retryAfterSeconds to the running gateway (Gateway.setRetryAfterSeconds,
// listed under applied) and names gateway.limits as needing a restart only when another of its keys changed.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { b2buaPolicyFromConfig, loadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway.js';
import { GatewayReloader } from '../../src/gateway-reload.js';
import { silentLogger } from '../../src/log/index.js';
import { limitsReload } from '../../src/reload-limits.js';

const yaml = (limits: string): string => `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]
  defaultTenant: pbx
  limits: { ${limits} }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1] }
  far: { transport: udp, sipServer: 127.0.0.1:5998 }
dialPeers:
  - { id: 1, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }
`;

function setup(t: TestContext, limits: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-reload-limits-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => writeFileSync(join(dir, 'gateway.yaml'), text);
  write(yaml(limits));
  const config = loadConfig(dir);
  const steps: string[] = [];
  let policy = b2buaPolicyFromConfig(config, {});
  const gateway = {
    b2bua: { get policy() { return policy; }, setPolicy: (p: typeof policy) => { steps.push(`policy ${p.retryAfterSeconds}`); policy = p; } },
    reloadTls: async () => { throw new Error('no TLS in this test'); },
    engineSnapshot: async () => { throw new Error('no snapshot in this test'); },
    retryListeners: async () => ({ bound: [], stillFailed: [] }),
    reloadTrust: async () => { throw new Error('the trust plan does not change in this test'); },
    setRetryAfterSeconds: (s: number) => { steps.push(`engine ${s}`); },
  } as unknown as Gateway;
  const reloader = new GatewayReloader({ gateway, profilesDir: dir, config, env: {}, log: silentLogger() });
  t.after(() => reloader.close());
  return { write: (l: string) => write(yaml(l)), reloader, steps };
}

test('retryAfterSeconds changed: applied to the engine and the b2bua\'s policy, and nothing needs a restart', async (t) => {
  const { write, reloader, steps } = setup(t, 'retryAfterSeconds: 5');
  write('retryAfterSeconds: 30');
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  assert.deepEqual(r.needsRestart, []);
  assert.deepEqual(r.applied, ['gateway.limits.retryAfterSeconds', 'routing']);
  assert.deepEqual(steps, ['engine 30', 'policy 30']);
  // The same file again: nothing to apply; a change back is applied again.
  assert.deepEqual((await reloader.reloadConfig('api')).applied, []);
  write('retryAfterSeconds: 5');
  assert.deepEqual((await reloader.reloadConfig('signal')).applied, ['gateway.limits.retryAfterSeconds', 'routing']);
  assert.deepEqual(steps, ['engine 30', 'policy 30', 'engine 5', 'policy 5']);
});

test('another limit changed: gateway.limits needs a restart, naming the key, at every later reload; retryAfterSeconds still applies', async (t) => {
  const { write, reloader, steps } = setup(t, 'retryAfterSeconds: 5, maxDialogs: 100');
  write('retryAfterSeconds: 5, maxDialogs: 200');
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  assert.deepEqual(r.applied, []);
  assert.deepEqual(r.needsRestart.map((n) => n.what), ['gateway.limits']);
  assert.match(r.needsRestart[0]!.reason, /changed: maxDialogs\)/);
  assert.deepEqual(steps, []);
  write('retryAfterSeconds: 9, maxDialogs: 200');
  const again = await reloader.reloadConfig('api');
  assert.deepEqual(again.applied, ['gateway.limits.retryAfterSeconds', 'routing']);
  assert.deepEqual(again.needsRestart.map((n) => n.what), ['gateway.limits'], 'the maxDialogs change still waits for a restart');
});

test('limitsReload: the Retry-After against the running value, the other keys against the start', () => {
  const base = loadLimits();
  assert.deepEqual(limitsReload(base, base, base), {});
  assert.deepEqual(limitsReload(base, base, { ...base, retryAfterSeconds: 11 }), { retryAfterSeconds: 11 });
  // Already applied by an earlier reload: nothing to do, and nothing needs a restart for it.
  assert.deepEqual(limitsReload(base, { ...base, retryAfterSeconds: 11 }, { ...base, retryAfterSeconds: 11 }), {});
  const d = limitsReload(base, base, { ...base, maxDialogs: 1, overRate: 'drop' });
  assert.equal(d.retryAfterSeconds, undefined);
  assert.equal(d.needsRestart?.what, 'gateway.limits');
  assert.match(d.needsRestart!.reason, /changed: maxDialogs, overRate\)$/);
  // An optional key appearing counts as a change.
  assert.match(limitsReload(base, base, { ...base, requestBurstPerSource: 3 }).needsRestart!.reason, /requestBurstPerSource/);
});

function loadLimits() {
  const dir = mkdtempSync(join(tmpdir(), 'tg-reload-limits-'));
  try {
    writeFileSync(join(dir, 'gateway.yaml'), yaml(''));
    return loadConfig(dir).gateway.limits;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
