// The reloader of a gateway started with `policy: bridge`: routing sections cannot change a bridge, so a reload
// that changes them says a restart is needed, and the next reload still says so; going back to the started
// configuration clears it. So does a new longest call duration, which the bridge takes at start. The gateway is a stand-in that records what the reloader asks of it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tryLoadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway.js';
import { GatewayReloader } from '../../src/gateway-reload.js';
import { silentLogger } from '../../src/log/index.js';

test('a bridge gateway: a dial-peer change needs a restart, and every later reload keeps saying so until it is undone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-bridge-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gatewayYaml = `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]
  defaultTenant: pbx
  policy: bridge
`;
  const tenantsYaml = `tenants:
  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }
`;
  writeFileSync(join(dir, 'gateway.yaml'), gatewayYaml + tenantsYaml);
  const peers = (text: string) => writeFileSync(join(dir, 'dial-peers.yaml'), text);
  peers('dialPeers: []\n');
  const loaded = tryLoadConfig(dir, { env: {} });
  assert.ok(loaded.ok, JSON.stringify(loaded));
  const set: unknown[] = [];
  const gateway = {
    b2bua: { policy: undefined, setPolicy: (p: unknown) => void set.push(p) },
    engineSnapshot: () => Promise.reject(new Error('no engine here')),
    reloadTls: () => Promise.reject(new Error('no TLS here')),
    retryListeners: () => Promise.resolve({ bound: [], stillFailed: [] }),
  } as unknown as Gateway;
  const reloader = new GatewayReloader({ gateway, profilesDir: dir, config: loaded.config, env: {}, log: silentLogger() });
  t.after(() => reloader.close());

  peers('dialPeers:\n  - { id: 1, destinationPattern: "^2", tenant: pbx }\n');
  const first = await reloader.reloadConfig('api');
  assert.equal(first.ok, true, JSON.stringify(first));
  assert.deepEqual(first.needsRestart.map((n) => n.what), ['routing mode']);
  assert.deepEqual(first.applied, [], 'a bridge has no policy to swap');

  // Nothing changed since the last reload: the change from the first is still waiting for the restart.
  const second = await reloader.reloadConfig('api');
  assert.deepEqual(second.changed, []);
  assert.deepEqual(second.needsRestart.map((n) => n.what), ['routing mode'], 'the pending restart is still reported');

  peers('dialPeers: []\n');
  const back = await reloader.reloadConfig('api');
  assert.deepEqual(back.needsRestart, [], 'the started configuration again: nothing pending');
  assert.deepEqual(set, []);

  // The bridge reads its calls' longest duration at start: a new one is reported as waiting for the restart.
  writeFileSync(join(dir, 'gateway.yaml'), `${gatewayYaml}  calls: { maxDurationSeconds: 3600 }\n${tenantsYaml}`);
  const longest = await reloader.reloadConfig('api');
  assert.equal(longest.ok, true, JSON.stringify(longest));
  assert.deepEqual(longest.needsRestart.map((n) => n.what), ['gateway.calls.maxDurationSeconds']);
});
