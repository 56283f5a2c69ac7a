// TLS profiles removed by one reload and added back by a later one reach the engine: the engine has had a TLS store
// since its start, so the second reload is applied like any TLS change, not skipped because the running
// configuration had no profile at that moment.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway.js';
import { GatewayReloader } from '../../src/gateway-reload.js';
import { silentLogger } from '../../src/log/index.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';

await requireOpenssl();

test('profiles removed, then added back: the second reload hands them to the engine', async (t) => {
  const ca = await createTestCa({ cn: 'reload tls CA' });
  t.after(() => ca.cleanup());
  const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
  const dir = mkdtempSync(join(tmpdir(), 'tg-reload-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base = `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]
  defaultTenant: pbx
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1] }
`;
  const withTls = `${base}trustpoints:\n  gw: { certificate: ${gw.certPath}, key: ${gw.keyPath} }\ntrustStores:\n  local: ${ca.certPath}\n`
    + 'tlsProfiles:\n  out: { trustpoint: gw, trustStore: local }\n';
  const write = (text: string) => writeFileSync(join(dir, 'gateway.yaml'), text);
  write(withTls);
  const reloads: number[] = [];
  const gateway = {
    b2bua: { policy: undefined, setPolicy: () => undefined },
    reloadTls: async (inputs: unknown[]) => {
      reloads.push(inputs.length);
      return { ok: true, version: reloads.length, names: inputs.map((_, i) => `p${i}`) };
    },
    engineSnapshot: async () => { throw new Error('no snapshot in this test'); },
    retryListeners: async () => ({ bound: [], stillFailed: [] }),
    reloadTrust: async () => ({ ok: true }),
    setRetryAfterSeconds: () => undefined,
  } as unknown as Gateway;
  const reloader = new GatewayReloader({ gateway, profilesDir: dir, config: loadConfig(dir), env: {}, log: silentLogger() });
  t.after(() => reloader.close());

  write(base);
  const removed = await reloader.reloadConfig('api');
  assert.equal(removed.ok, true, JSON.stringify(removed.problems));
  assert.deepEqual(reloads, [0], 'the removal went to the engine');

  write(withTls);
  const back = await reloader.reloadConfig('api');
  assert.equal(back.ok, true, JSON.stringify(back.problems));
  assert.deepEqual(reloads, [0, 1], 'the profile added back went to the engine too');
  assert.deepEqual(back.needsRestart, []);
});
