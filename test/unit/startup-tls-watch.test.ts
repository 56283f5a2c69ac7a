// The TLS file watch sees a certificate renewed by a symlink swap (src/tls-file-watch.ts): a Kubernetes Secret or
// ConfigMap volume renewed the way the kubelet does it (a new timestamped folder, `..data_tmp` linked to it and
// renamed over `..data`), certbot's live/ links into archive/ (relinked, or their target rewritten in place), and a
// trustpoint folder that is itself a link. Files next to a watched one, that it does not resolve to, change nothing.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway.js';
import { GatewayReloader } from '../../src/gateway-reload.js';
import { silentLogger, type Logger } from '../../src/log/index.js';
import { watchTlsFiles } from '../../src/startup-tls.js';
import { until } from '../support/until.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';

function tempRoot(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'tg-tls-watch-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** A volume as the kubelet lays it out: `..2026_a/<file>`, `..data -> ..2026_a`, `<file> -> ..data/<file>`. */
function kubeVolume(mount: string, files: Record<string, string>): void {
  mkdirSync(join(mount, '..2026_a'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(mount, '..2026_a', name), text);
  symlinkSync('..2026_a', join(mount, '..data'));
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(mount, name));
}

/** The kubelet's update (pkg/volume/util/atomic_writer.go): new folder, `..data_tmp` to it, renamed over `..data`, old folder removed. */
function kubeSwap(mount: string, from: string, to: string, files: Record<string, string>): void {
  mkdirSync(join(mount, to));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(mount, to, name), text);
  symlinkSync(to, join(mount, '..data_tmp'));
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
  rmSync(join(mount, from), { recursive: true });
}

/**
 * For the "changes nothing" steps: the watch's debounce runs on mocked timers, and a watch of our own on the folder
 * says when an event has been delivered. libuv hands one inotify event to every watcher of a folder in the same turn,
 * so once ours has it (and an immediate has run), the product's has it too, and ticking the clock runs the re-check.
 */
function settleOn(t: TestContext, dirs: string[]): (name: string) => Promise<void> {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const seen: string[] = [];
  for (const d of dirs) {
    const probe = watch(d, { persistent: false }, (_e, name) => seen.push(String(name)));
    t.after(() => probe.close());
  }
  return async (name) => {
    const deadline = Date.now() + 5000;
    while (!seen.includes(name)) {
      assert.ok(Date.now() < deadline, `no change event for ${name}`);
      await new Promise((r) => setImmediate(r));
    }
    seen.length = 0;
    await new Promise((r) => setImmediate(r));
    t.mock.timers.tick(1000);
  };
}

test('a trust store file in a Kubernetes volume: the kubelet\'s ..data swap fires, and so does a change where it resolves to now', async (t) => {
  const mount = join(tempRoot(t), 'trust');
  kubeVolume(mount, { 'ca.pem': 'a' });
  let calls = 0;
  const w = watchTlsFiles({ dirs: [], files: [join(mount, 'ca.pem')] }, () => calls++, { debounceMs: 50 });
  t.after(() => w.close());
  kubeSwap(mount, '..2026_a', '..2026_b', { 'ca.pem': 'b' });
  await until(() => calls >= 1, 'a reload after the ..data swap');
  // The second watch followed the realpath into ..2026_b: a change there (not the kubelet's way, any tool's) is seen.
  writeFileSync(join(mount, '..2026_b', 'ca.pem'), 'bb');
  await until(() => calls >= 2, 'a reload after the new target changed in place');
});

test('certbot-style links: the target rewritten in place fires, a relink fires, and the old target no longer counts', async (t) => {
  const root = tempRoot(t);
  const live = join(root, 'live');
  const archive = join(root, 'archive');
  mkdirSync(live);
  mkdirSync(archive);
  writeFileSync(join(archive, 'ca1.pem'), '1');
  symlinkSync('../archive/ca1.pem', join(live, 'ca.pem'));
  let calls = 0;
  const w = watchTlsFiles({ dirs: [], files: [join(live, 'ca.pem')] }, () => calls++, { debounceMs: 50 });
  t.after(() => w.close());
  writeFileSync(join(archive, 'ca1.pem'), '1, renewed in place');
  await until(() => calls >= 1, 'a reload after archive/ca1.pem changed');
  writeFileSync(join(archive, 'ca2.pem'), '2');
  unlinkSync(join(live, 'ca.pem')); // certbot's relink: unlink, then symlink to the new version
  symlinkSync('../archive/ca2.pem', join(live, 'ca.pem'));
  await until(() => calls >= 2, 'a reload after live/ca.pem was relinked to ca2.pem');

  const settled = settleOn(t, [archive]);
  writeFileSync(join(archive, 'ca1.pem'), '1, no longer linked');
  await settled('ca1.pem');
  assert.equal(calls, 2, 'the old version is not what live/ca.pem resolves to any more');
  writeFileSync(join(archive, 'ca2.pem'), '2, renewed in place');
  await settled('ca2.pem');
  assert.equal(calls, 3, 'the version it resolves to now changed');
});

test('an unrelated file next to a watched one, or next to what it resolves to, does not fire', async (t) => {
  const mount = join(tempRoot(t), 'trust');
  kubeVolume(mount, { 'ca.pem': 'a', 'other.pem': 'o' });
  let calls = 0;
  const w = watchTlsFiles({ dirs: [], files: [join(mount, 'ca.pem')] }, () => calls++, { debounceMs: 50 });
  t.after(() => w.close());
  const settled = settleOn(t, [mount, join(mount, '..2026_a')]);
  writeFileSync(join(mount, 'unrelated.pem'), 'z');
  await settled('unrelated.pem');
  writeFileSync(join(mount, '..2026_a', 'other.pem'), 'o2');
  await settled('other.pem');
  assert.equal(calls, 0, 'nothing the trust store resolves to changed');
  kubeSwap(mount, '..2026_a', '..2026_b', { 'ca.pem': 'b', 'other.pem': 'o' });
  await settled('..data');
  assert.equal(calls, 1, 'the trust store itself changed');
});

test('a trustpoint folder watched whole: the kubelet\'s swap inside it fires, and so does relinking the folder itself', async (t) => {
  const root = tempRoot(t);
  const mount = join(root, 'tp');
  kubeVolume(mount, { 'cert.pem': 'c', 'key.pem': 'k' });
  let calls = 0;
  const w = watchTlsFiles({ dirs: [mount], files: [] }, () => calls++, { debounceMs: 50 });
  t.after(() => w.close());
  kubeSwap(mount, '..2026_a', '..2026_b', { 'cert.pem': 'c2', 'key.pem': 'k2' });
  await until(() => calls >= 1, 'a reload after the ..data swap in the trustpoint folder');

  // A trustpoint folder that is a link (current -> v1), relinked the atomic way (a new link renamed over it).
  for (const v of ['v1', 'v2']) mkdirSync(join(root, v));
  symlinkSync('v1', join(root, 'current'));
  let linked = 0;
  const w2 = watchTlsFiles({ dirs: [join(root, 'current')], files: [] }, () => linked++, { debounceMs: 50 });
  t.after(() => w2.close());
  symlinkSync('v2', join(root, 'current.tmp'));
  renameSync(join(root, 'current.tmp'), join(root, 'current'));
  await until(() => linked >= 1, 'a reload after the trustpoint folder was relinked');
  writeFileSync(join(root, 'v2', 'cert.pem'), 'c3');
  await until(() => linked >= 2, 'a reload after a change in the folder it resolves to now');
});

test('a folder that cannot be watched is named in the log once, however many watched files sit in it', (t) => {
  const missing = join(tempRoot(t), 'not-there');
  const warns: unknown[] = [];
  const log = { warn: (o: unknown) => warns.push(o) } as unknown as Logger;
  const w = watchTlsFiles({ dirs: [], files: [join(missing, 'a.pem'), join(missing, 'b.pem')] }, () => undefined, { log });
  w.close();
  assert.equal(warns.length, 1, JSON.stringify(warns));
});

test('the reloader reads the renewed trust store after a ..data swap (trigger: file)', async (t) => {
  await requireOpenssl();
  const [ca1, ca2] = [await createTestCa({ cn: 'watch CA one' }), await createTestCa({ cn: 'watch CA two' })];
  t.after(() => Promise.all([ca1.cleanup(), ca2.cleanup()]));
  const gwCert = await ca1.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
  const dir = tempRoot(t);
  const mount = join(dir, 'trust');
  kubeVolume(mount, { 'ca.pem': ca1.cert });
  writeFileSync(join(dir, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]
  defaultTenant: pbx
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1] }
trustpoints:
  gw: { certificate: ${gwCert.certPath}, key: ${gwCert.keyPath} }
trustStores:
  local: ${join(mount, 'ca.pem')}
tlsProfiles:
  out: { trustpoint: gw, trustStore: local }
`);
  const seen: string[][] = [];
  const gateway = {
    reloadTls: async (inputs: { material: { trustedCaPems: string[] } }[]) => {
      seen.push(inputs.flatMap((i) => i.material.trustedCaPems));
      return { ok: true, version: seen.length, names: inputs.map((_, i) => `p${i}`) };
    },
    engineSnapshot: async () => { throw new Error('no snapshot in this test'); },
  } as unknown as Gateway;
  const reloader = new GatewayReloader({ gateway, profilesDir: dir, config: loadConfig(dir), env: {}, log: silentLogger() });
  t.after(() => reloader.close());
  reloader.watchTlsFiles(50);
  kubeSwap(mount, '..2026_a', '..2026_b', { 'ca.pem': ca2.cert });
  await until(() => seen.length >= 1, 'a TLS reload after the trust store was swapped');
  assert.equal(seen.at(-1)?.[0]?.trim(), ca2.cert.trim(), 'the engine got the renewed CA');
});
