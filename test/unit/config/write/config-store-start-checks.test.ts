// What the start refuses a write refuses too: a trustpoint folder with no key and certificate where no start creates
// one, and a bridge whose default tenant has no host:port sipServer. The write is answered 422 ERR_CONFIG_INVALID
// through the API, nothing is written, nothing applied; the loader (start, reload, config check) says the same.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../../src/admin/index.js';
import { tryLoadConfig } from '../../../../src/config/index.js';
import { ConfigStore, type ApplyReport } from '../../../../src/config/write/index.js';
import { silentLogger } from '../../../../src/log/index.js';
import { planStartup } from '../../../../src/startup.js';
import { validateCipherName } from '../../../../src/tls/cipher-names.js';

const ok: ApplyReport = { ok: true, changed: [], applied: [], needsRestart: [], problems: [], warnings: [] };
const PIPELINE = 'gateway:\n  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]\n  defaultTenant: pbx\n  admin: { enabled: false }\n';
const BRIDGE = PIPELINE.replace('gateway:\n', 'gateway:\n  policy: bridge\n');
const TENANTS = 'tenants:\n  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }\n';

function store(t: TestContext, gateway: string) {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-startcheck-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'profiles');
  mkdirSync(dir);
  writeFileSync(join(dir, 'gateway.yaml'), gateway);
  writeFileSync(join(dir, 'tenants.yaml'), TENANTS);
  let applied = 0;
  const s = new ConfigStore({ profilesDir: dir, loadOptions: { validateCipherName, env: {} }, log: silentLogger(), apply: async () => { applied++; return ok; } });
  return { s, root, dir, applied: () => applied, read: (f: string) => readFileSync(join(dir, f), 'utf8') };
}

const problemsOf = (e: unknown) => ((e as { details?: { problems?: { code: string; path: string }[] } }).details?.problems ?? []).map((p) => [p.code, p.path]);

test('a trustpoint folder no start would create, with no key and certificate, is refused by the write, the loader and the start alike', async (t) => {
  const { s, root, dir, applied, read } = store(t, PIPELINE);
  const before = read('gateway.yaml');
  await assert.rejects(s.create('trustpoints', 'spare', { dir: '../pki/spare' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ERR_CONFIG_INVALID');
    assert.deepEqual(problemsOf(e), [['ERR_CONFIG_REFERENCE', 'trustpoints.spare.dir']]);
    return true;
  });
  assert.equal(read('gateway.yaml'), before);
  assert.equal(applied(), 0);
  assert.equal(s.counts().create?.ERR_CONFIG_INVALID, 1);

  // Where the first start creates it (<pki>/trustpoints/<name>), or a folder already provisioned: taken.
  await s.create('trustpoints', 'spare', { dir: '../pki/trustpoints/spare' });
  mkdirSync(join(root, 'certs', 'edge'), { recursive: true });
  for (const f of ['key.pem', 'cert.pem']) writeFileSync(join(root, 'certs', 'edge', f), '');
  await s.create('trustpoints', 'edge', { dir: '../certs/edge' });
  assert.equal(applied(), 2);

  // The same file written by hand: config check (the loader) and the start refuse it with the same path.
  writeFileSync(join(dir, 'pki.yaml'), 'trustpoints:\n  hand: { dir: ../pki/hand }\n');
  const r = tryLoadConfig(dir, { validateCipherName, env: {} });
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.problems.map((p) => [p.code, p.path]), [['ERR_CONFIG_REFERENCE', 'trustpoints.hand.dir']]);
  assert.throws(() => planStartup(dir, {}, silentLogger()), (e: Error & { details?: unknown }) => {
    assert.deepEqual(problemsOf(e), [['ERR_CONFIG_REFERENCE', 'trustpoints.hand.dir']]);
    return true;
  });
});

test('under policy bridge, a default tenant whose sipServer becomes a dns: name (or goes) is refused before it is written', async (t) => {
  const { s, applied, read } = store(t, BRIDGE);
  for (const value of [{ transport: 'udp', sipServer: 'dns:pbx.example.com' }, { transport: 'udp' }]) {
    await assert.rejects(s.replace('tenants', 'pbx', value, '*'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_CONFIG_INVALID');
      assert.deepEqual(problemsOf(e), [['ERR_CONFIG_TENANT', 'tenants.pbx.sipServer']]);
      return true;
    });
  }
  assert.equal(read('tenants.yaml'), TENANTS);
  assert.equal(applied(), 0);
  // The pipeline resolves dns: names itself: the same write is taken there.
  const pipeline = store(t, PIPELINE);
  await pipeline.s.replace('tenants', 'pbx', { transport: 'udp', sipServer: 'dns:pbx.example.com' }, '*');
});

test('a bridge with no default tenant is refused by the loader, not left to the start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-startcheck-'));
  try {
    writeFileSync(join(dir, 'gateway.yaml'), BRIDGE.replace('  defaultTenant: pbx\n', ''));
    const l = tryLoadConfig(dir, {});
    assert.deepEqual(l.ok ? [] : l.problems.map((p) => [p.code, p.path]), [['ERR_CONFIG_REFERENCE', 'gateway.defaultTenant']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('through the API the refused write is 422 ERR_CONFIG_INVALID with the problem', async (t) => {
  const { s } = store(t, BRIDGE);
  const a = await buildAdmin({ configStore: s } as unknown as AdminServices, { token: 'tok' });
  t.after(() => a.close());
  const headers = { authorization: 'Bearer tok', 'if-match': '*' };
  const r = await a.inject({ method: 'PUT', url: '/config/tenants/pbx', headers, payload: { value: { transport: 'udp', sipServer: 'dns:pbx.example.com' } } });
  assert.equal(r.statusCode, 422);
  assert.equal(r.json().code, 'ERR_CONFIG_INVALID');
  assert.deepEqual(r.json().problems.map((p: { path: string }) => p.path), ['tenants.pbx.sipServer']);
  const tp = await a.inject({ method: 'POST', url: '/config/trustpoints', headers, payload: { name: 'spare', value: { dir: '../pki/spare' } } });
  assert.deepEqual([tp.statusCode, tp.json().code], [422, 'ERR_CONFIG_INVALID']);
});
