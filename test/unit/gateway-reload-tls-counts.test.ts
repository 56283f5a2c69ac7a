// TLS reloads are counted by trigger and outcome wherever they run (src/gateway-reload.ts, gateway-reload-tls.ts): a
// TLS reload on its own and the TLS part of a configuration reload, applied or refused with the first problem's code.
// A configuration reload that does not touch the TLS sections is no TLS reload.
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

test('TLS reloads by trigger and outcome: alone, and inside a configuration reload', async (t) => {
  const ca = await createTestCa({ cn: 'reload counts CA' });
  t.after(() => ca.cleanup());
  const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
  const dir = mkdtempSync(join(tmpdir(), 'tg-reload-counts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = (minVersion: string, dialPeers = '[]') => `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]
  defaultTenant: pbx
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1] }
trustpoints:
  gw: { certificate: ${gw.certPath}, key: ${gw.keyPath} }
trustStores:
  local: ${ca.certPath}
tlsProfiles:
  out: { trustpoint: gw, trustStore: local, minVersion: ${minVersion} }
dialPeers: ${dialPeers}
`;
  writeFileSync(join(dir, 'gateway.yaml'), yaml('TLSv1.2'));
  // The engine refuses the next profile set it is handed once `refuse` is set, with the problem an engine gives.
  let refuse = false;
  let version = 0;
  const gateway = {
    b2bua: { policy: undefined, setPolicy: () => undefined },
    reloadTls: async (inputs: unknown[]) => refuse
      ? { ok: false, version, problems: [{ profile: 'out', code: 'ERR_PKI_KEY_MISMATCH', reason: 'key does not match' }] }
      : { ok: true, version: ++version, names: inputs.map((_, i) => `p${i}`) },
    engineSnapshot: async () => { throw new Error('no snapshot in this test'); },
    retryListeners: async () => ({ bound: [], stillFailed: [] }),
    reloadTrust: async () => ({ ok: true }),
    setRetryAfterSeconds: () => undefined,
  } as unknown as Gateway;
  const reloader = new GatewayReloader({ gateway, profilesDir: dir, config: loadConfig(dir), env: {}, log: silentLogger() });
  t.after(() => reloader.close());

  assert.equal((await reloader.reloadTls('api')).ok, true);
  writeFileSync(join(dir, 'gateway.yaml'), yaml('TLSv1.3'));
  assert.equal((await reloader.reloadConfig('signal')).ok, true);
  refuse = true;
  assert.equal((await reloader.reloadTls('file')).ok, false);
  writeFileSync(join(dir, 'gateway.yaml'), yaml('TLSv1.2'));
  const refused = await reloader.reloadConfig('signal');
  assert.equal(refused.ok, false);
  // Not a TLS change: no TLS reload to count.
  refuse = false;
  writeFileSync(join(dir, 'gateway.yaml'), yaml('TLSv1.3', '[{ id: 1, destinationPattern: "^9", tenant: pbx, sipServer: "127.0.0.1:5070", from: [pbx] }]'));
  const other = await reloader.reloadConfig('api');
  assert.equal(other.ok, true, JSON.stringify(other.problems));

  assert.deepEqual(reloader.tlsReloadCounts(), {
    api: { applied: 1 },
    signal: { applied: 1, ERR_PKI_KEY_MISMATCH: 1 },
    file: { ERR_PKI_KEY_MISMATCH: 1 },
  });
  assert.deepEqual(reloader.reloadCounts(), { signal: { applied: 1, ERR_PKI_KEY_MISMATCH: 1 }, api: { applied: 1 } });
});
