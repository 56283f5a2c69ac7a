// A reload (SIGHUP, the admin API, `trunkgate reload`: all go through GatewayReloader.reloadConfig) never takes a
// file caught mid-write for the new configuration. A file the running configuration has content from that is now
// empty, or only comments, is refused naming it (ERR_CONFIG_FILE_EMPTIED) and the running configuration stays; an
// administrator empties a list by writing it out (`dialPeers: []`). A file still being written is waited for. A
// start takes an empty file as empty, as it always has.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { b2buaPolicyFromConfig, loadConfig, readConfigDocumentsStable, reloadConfig, tryLoadConfig, type StableReadOptions } from '../../../src/config/index.js';
import type { Gateway } from '../../../src/gateway.js';
import { GatewayReloader } from '../../../src/gateway-reload.js';
import { silentLogger } from '../../../src/log/index.js';

const GATEWAY = `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]
  defaultTenant: pbx
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1] }
  far: { transport: udp, sipServer: 127.0.0.1:5998 }
`;
const PEERS = `# routes to the carrier
dialPeers:
  - { id: 1, destinationPattern: "^1\\\\d{3}$", tenant: far, from: [pbx] }
  - { id: 2, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }
  - { id: 3, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
`;
const PERMISSIONS = 'tlsPeers:\n  pbx.example.com: { tenants: [pbx] }\n';

/** The files were written long ago, as far as the reload's clock goes: no wait for a writer. */
const settled: StableReadOptions = { now: () => Date.now() + 10_000, sleep: async () => {} };

function profiles(t: TestContext, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-reload-stable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const all = { 'gateway.yaml': GATEWAY, 'dial-peers.yaml': PEERS, 'permissions.yaml': PERMISSIONS, ...files };
  for (const [name, text] of Object.entries(all)) writeFileSync(join(dir, name), text);
  return { dir, path: (name: string) => join(dir, name), write: (name: string, text: string) => writeFileSync(join(dir, name), text) };
}

function reloader(t: TestContext, dir: string, stableRead: StableReadOptions = settled) {
  const config = loadConfig(dir);
  let policy = b2buaPolicyFromConfig(config, {});
  let swaps = 0;
  const gateway = {
    b2bua: { get policy() { return policy; }, setPolicy: (p: typeof policy) => { policy = p; swaps++; } },
    reloadTls: async () => { throw new Error('no TLS in this test'); },
    engineSnapshot: async () => { throw new Error('no snapshot in this test'); },
    reloadTrust: async () => { throw new Error('no trust change in this test'); },
    retryListeners: async () => ({ bound: [], stillFailed: [] }),
  } as unknown as Gateway;
  const r = new GatewayReloader({ gateway, profilesDir: dir, config, env: {}, log: silentLogger(), stableRead });
  t.after(() => r.close());
  return { reloader: r, config, swaps: () => swaps, policy: () => policy };
}

test('a dial-peer file truncated to 0 bytes (cp, >) on a reload: refused naming it, the running dial peers stay', async (t) => {
  const { dir, path } = profiles(t);
  const { reloader: r, config, swaps, policy } = reloader(t, dir);
  const before = policy();
  truncateSync(path('dial-peers.yaml'), 0);
  for (const trigger of ['signal', 'api'] as const) {
    const report = await r.reloadConfig(trigger);
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems.map((p) => [p.code, p.file]), [['ERR_CONFIG_FILE_EMPTIED', path('dial-peers.yaml')]]);
    assert.match(report.problems[0]!.message, /dialPeers: \[\]/, 'says how to empty a list on purpose');
  }
  assert.equal(r.config, config);
  assert.equal(r.config.dialPeers.length, 3);
  assert.equal(swaps(), 0);
  assert.equal(policy(), before, 'the routing the calls use is the running one');
  assert.deepEqual(r.reloadCounts(), { signal: { ERR_CONFIG_FILE_EMPTIED: 1 }, api: { ERR_CONFIG_FILE_EMPTIED: 1 } }, 'each refusal counted by trigger and code');
});

test('an empty or comments-only permissions file is refused: the TLS-peer restrictions are not dropped', async (t) => {
  const { dir, path, write } = profiles(t);
  const { reloader: r, config } = reloader(t, dir);
  for (const text of ['', '\n  \n', '# tlsPeers:\n#   pbx.example.com: { tenants: [pbx] }\n']) {
    write('permissions.yaml', text);
    const report = await r.reloadConfig('api');
    assert.equal(report.ok, false, JSON.stringify(text));
    assert.deepEqual(report.problems.map((p) => [p.code, p.file]), [['ERR_CONFIG_FILE_EMPTIED', path('permissions.yaml')]]);
  }
  assert.equal(r.config, config);
  assert.deepEqual(Object.keys(r.config.tlsPeers), ['pbx.example.com']);
});

test('an explicit empty list is taken: dialPeers: [] empties the routes, with the warning', async (t) => {
  const { dir, write } = profiles(t);
  const { reloader: r, swaps } = reloader(t, dir);
  write('dial-peers.yaml', '# no routes until the carrier is back\ndialPeers: []\n');
  const report = await r.reloadConfig('api');
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.deepEqual(report.changed, ['dialPeers']);
  assert.deepEqual(report.warnings.map((w) => w.code), ['WARN_NO_DIAL_PEERS']);
  assert.equal(r.config.dialPeers.length, 0);
  assert.equal(swaps(), 1);
});

test('a dial-peer file caught mid-write (cut at a line) is waited for, and the whole file is what the reload takes', async (t) => {
  const { dir, write, path } = profiles(t);
  const cut = PEERS.split('\n').slice(0, 3).join('\n') + '\n';
  let offset = 0;
  const { reloader: r } = reloader(t, dir, {
    // The wall clock as it is: the cut file below was written just now. During the wait the writer finishes it.
    now: () => Date.now() + offset,
    sleep: async (ms) => {
      if (offset === 0) write('dial-peers.yaml', PEERS.replace('^3', '^4'));
      offset += ms + 1_000;
    },
  });
  write('dial-peers.yaml', cut);
  const report = await r.reloadConfig('signal');
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.deepEqual(r.config.dialPeers.map((d) => d.destinationPattern), ['^1\\d{3}$', '^2\\d{3}$', '^4\\d{3}$'], `not the 1 peer of ${path('dial-peers.yaml')} cut short`);
});

test('a file that never stops changing: the reload is refused naming it (ERR_CONFIG_FILE_UNSTABLE), the running configuration stays', async (t) => {
  const { dir, write, path } = profiles(t);
  let n = 0;
  const { reloader: r, config, swaps } = reloader(t, dir, {
    ...settled,
    afterRead: (f) => { if (f === path('dial-peers.yaml')) write('dial-peers.yaml', `${PEERS}# pass ${++n}\n`); },
  });
  const report = await r.reloadConfig('api');
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.map((p) => [p.code, p.file]), [['ERR_CONFIG_FILE_UNSTABLE', path('dial-peers.yaml')]]);
  assert.equal(r.config, config);
  assert.equal(swaps(), 0);
});

test('a file that was empty at start may be empty on a reload; a new empty file is taken too', async (t) => {
  const { dir, write } = profiles(t, { 'extra.yaml': '# for later\n' });
  const { reloader: r } = reloader(t, dir);
  write('new.yaml', '');
  const report = await r.reloadConfig('signal');
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.deepEqual(report.changed, []);
  assert.deepEqual(r.config.emptyFiles, [join(dir, 'extra.yaml'), join(dir, 'new.yaml')]);
});

test('the loader: a start takes an empty file as empty; a reload given the running configuration refuses it', async (t) => {
  const { dir, path } = profiles(t);
  const running = loadConfig(dir);
  truncateSync(path('dial-peers.yaml'), 0);
  const start = tryLoadConfig(dir);
  assert.equal(start.ok, true);
  assert.equal(start.ok && start.config.dialPeers.length, 0);
  const read = await readConfigDocumentsStable(dir, settled);
  const reload = reloadConfig(running, dir, { read, running });
  assert.equal(reload.ok, false);
  assert.ok(!reload.ok && reload.current === running);
  assert.deepEqual(!reload.ok && reload.problems.map((p) => [p.code, p.file, p.path]), [['ERR_CONFIG_FILE_EMPTIED', path('dial-peers.yaml'), '']]);
});
