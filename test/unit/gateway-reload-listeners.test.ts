// Every configuration reload that validates tries again the tenant listeners that could not bind at start
// (Gateway.retryListeners) and says what came of it under `listeners`, only when some had failed; a refused
// reload tries nothing; an engine that cannot be asked is a warning.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { b2buaPolicyFromConfig, loadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway.js';
import { GatewayReloader } from '../../src/gateway-reload.js';
import { silentLogger } from '../../src/log/index.js';
import type { ListenerRetry } from '../../src/sip/transport/index.js';

const YAML = `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]
  defaultTenant: pbx
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1] }
  far: { transport: udp, sipServer: 127.0.0.1:5998 }
dialPeers:
  - { id: 1, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }
`;

function setup(t: TestContext, answer: () => Promise<ListenerRetry>) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-reload-listeners-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => writeFileSync(join(dir, 'gateway.yaml'), text);
  write(YAML);
  const config = loadConfig(dir);
  let policy = b2buaPolicyFromConfig(config, {});
  let asked = 0;
  const gateway = {
    b2bua: { get policy() { return policy; }, setPolicy: (p: typeof policy) => { policy = p; } },
    reloadTls: async () => { throw new Error('no TLS in this test'); },
    engineSnapshot: async () => { throw new Error('no snapshot in this test'); },
    reloadTrust: async () => { throw new Error('no trust change in this test'); },
    retryListeners: () => {
      asked++;
      return answer();
    },
  } as unknown as Gateway;
  const reloader = new GatewayReloader({ gateway, profilesDir: dir, config, env: {}, log: silentLogger() });
  t.after(() => reloader.close());
  return { write, reloader, asked: () => asked };
}

test('a listener that binds on the reload is reported bound and applied; one still held is reported with its error', async (t) => {
  const { reloader } = setup(t, async () => ({
    bound: [{ id: 'far-udp', protocol: 'udp', address: '127.0.0.1', port: 5997, tenant: 'far' }],
    stillFailed: [{ id: 'far-tcp', protocol: 'tcp', host: '127.0.0.1', port: 5997, tenant: 'far', error: 'listen EADDRINUSE: address already in use 127.0.0.1:5997' }],
  }));
  const r = await reloader.reloadConfig('signal');
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  assert.deepEqual(r.listeners, { bound: ['far-udp'], stillFailed: [{ id: 'far-tcp', error: 'listen EADDRINUSE: address already in use 127.0.0.1:5997' }] });
  assert.deepEqual(r.applied, ['listeners']);
  assert.deepEqual(r.needsRestart, [], 'the listener spec did not change');
});

test('nothing had failed: no listeners part; a refused reload does not ask', async (t) => {
  const { reloader, write, asked } = setup(t, async () => ({ bound: [], stillFailed: [] }));
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true);
  assert.equal(r.listeners, undefined);
  assert.deepEqual(r.applied, []);
  assert.equal(asked(), 1);
  write('gateway: [not, a, map]\n');
  const refused = await reloader.reloadConfig('api');
  assert.equal(refused.ok, false);
  assert.equal(asked(), 1, 'the listeners are tried only after the configuration validated');
});

test('an engine that does not answer: the reload is applied, with a warning, and no listeners part', async (t) => {
  const { reloader } = setup(t, () => Promise.reject(Object.assign(new Error('engine worker did not answer a retry of the failed listeners within 10000 ms'), { code: 'ERR_ENGINE_WORKER' })));
  const r = await reloader.reloadConfig('api');
  assert.equal(r.ok, true);
  assert.equal(r.listeners, undefined);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.path]), [['ERR_ENGINE_WORKER', 'listeners']]);
});
