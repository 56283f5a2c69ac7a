// What a configuration write may replace and how it is put back: a profiles file the gateway could not read or
// parse is never replaced (409 naming it), a refused write gives its one file back byte for byte even when the first
// way back fails, and when it cannot the answer names the copy that holds the previous bytes; a failure mid-way
// through the write leaves the previous file as it was.
import assert from 'node:assert/strict';
import fs, { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigStore, type ApplyReport } from '../../../../src/config/write/index.js';
import { silentLogger } from '../../../../src/log/index.js';

const GATEWAY = 'gateway:\n  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]\n  defaultTenant: pbx\n  admin: { enabled: false }\n';
const TENANTS = '# tenants\ntenants:\n  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }\n';

const ok: ApplyReport = { ok: true, changed: ['tenants'], applied: ['routing'], needsRestart: [], problems: [], warnings: [] };
const refused: ApplyReport = { ...ok, ok: false, problems: [{ code: 'ERR_TLS_PROFILE_INVALID', message: 'no' }] };

function store(t: TestContext, apply: () => Promise<ApplyReport> = async () => ok) {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-store-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY);
  writeFileSync(join(dir, 'tenants.yaml'), TENANTS);
  let applied = 0;
  const s = new ConfigStore({ profilesDir: dir, loadOptions: { env: {} }, log: silentLogger(), apply: () => { applied++; return apply(); } });
  return { s, dir, applied: () => applied, bytes: (f: string) => readFileSync(join(dir, f)) };
}

type Refusal = Error & { code?: string; details?: { file?: string; backup?: string; problems?: { code: string }[] } };
const refusedWith = (code: string, file: string) => (e: Refusal) => e.code === code && e.details?.file === file && e.message.includes(file);

/** Makes fs.renameSync fail (EIO) whenever `fails` says so, for the code under test too (its named imports). */
function failRenames(t: TestContext, fails: (from: string, to: string) => boolean): void {
  const real = fs.renameSync;
  t.mock.method(fs, 'renameSync', (from: string, to: string) => {
    if (fails(String(from), String(to))) throw Object.assign(new Error(`EIO: i/o error, rename '${String(from)}'`), { code: 'EIO' });
    return real(from, to);
  });
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
}

test('a file that does not parse, or holds no mapping, is not replaced by a write into it: 409 naming it', async (t) => {
  const { s, dir, bytes, applied } = store(t);
  for (const text of ['tlsPeers:\n  a.example: { tenants: [pbx] }\n-- cut off by a full disk', '- tlsPeers\n- a.example\n']) {
    writeFileSync(join(dir, 'permissions.yaml'), text);
    await assert.rejects(s.create('tlsPeers', 'b.example', { tenants: ['pbx'] }), refusedWith('ERR_CONFIG_FILE_UNREADABLE', 'permissions.yaml'));
    assert.equal(bytes('permissions.yaml').toString(), text);
  }
  assert.equal(applied(), 0);
  assert.equal(s.counts().create?.ERR_CONFIG_FILE_UNREADABLE, 2);
});

test('a profiles file that cannot be read refuses every write, naming it, and is neither replaced nor removed', async (t) => {
  const { s, dir, bytes, applied } = store(t, async () => refused);
  // A link to where the file is not (a mount that is not there): the gateway could not read it either.
  symlinkSync(join(dir, 'elsewhere', 'permissions.yaml'), join(dir, 'permissions.yaml'));
  await assert.rejects(s.create('tlsPeers', 'b.example', { tenants: ['pbx'] }), refusedWith('ERR_CONFIG_FILE_UNREADABLE', 'permissions.yaml'));
  await assert.rejects(s.create('tenants', 'far', { sipServer: '127.0.0.1:5090' }), refusedWith('ERR_CONFIG_FILE_UNREADABLE', 'permissions.yaml'));
  assert.ok(lstatSync(join(dir, 'permissions.yaml')).isSymbolicLink());
  assert.equal(bytes('tenants.yaml').toString(), TENANTS);
  assert.equal(applied(), 0);
});

test('a file that is not UTF-8 text is not rewritten: its bytes would not survive the edit', async (t) => {
  const { s, dir, bytes } = store(t);
  const latin1 = Buffer.concat([Buffer.from('# Z\xfcrich PBX\n', 'latin1'), Buffer.from(TENANTS)]);
  writeFileSync(join(dir, 'tenants.yaml'), latin1);
  await assert.rejects(s.create('tenants', 'far', { sipServer: '127.0.0.1:5090' }), refusedWith('ERR_CONFIG_FILE_UNREADABLE', 'tenants.yaml'));
  assert.deepEqual(bytes('tenants.yaml'), latin1);
});

test('a refused write whose first way back fails still gets its file back byte for byte: 422, nothing left beside it', async (t) => {
  let applying = false;
  const { s, dir, bytes } = store(t, async () => { applying = true; return refused; });
  // Once the gateway has the new text, every rename into tenants.yaml fails once (the first way back).
  let failed = 0;
  failRenames(t, (_from, to) => applying && to.endsWith('tenants.yaml') && failed++ === 0);
  await assert.rejects(s.create('tenants', 'far', { sipServer: '127.0.0.1:5090' }), (e: Refusal) => e.code === 'ERR_CONFIG_APPLY_REFUSED');
  assert.equal(failed, 2, 'the way back was tried again after the failure');
  assert.equal(bytes('tenants.yaml').toString(), TENANTS);
  assert.deepEqual(readdirSync(dir).sort(), ['gateway.yaml', 'tenants.yaml']);
});

test('a refused write that cannot be put back at all: 500 ERR_CONFIG_RESTORE naming the file and the copy of its previous bytes', async (t) => {
  let applying = false;
  const { s, dir } = store(t, async () => { applying = true; return refused; });
  failRenames(t, (_from, to) => applying && to.endsWith('tenants.yaml'));
  await assert.rejects(s.create('tenants', 'far', { sipServer: '127.0.0.1:5090' }), (e: Refusal) => {
    assert.equal(e.code, 'ERR_CONFIG_RESTORE');
    assert.equal(e.details?.file, 'tenants.yaml');
    assert.ok(e.details?.backup && e.message.includes(e.details.backup), e.message);
    assert.deepEqual(e.details?.problems?.map((p) => p.code), ['ERR_TLS_PROFILE_INVALID']);
    assert.equal(readFileSync(join(dir, e.details!.backup!), 'utf8'), TENANTS, 'the previous bytes are kept');
    return true;
  });
  assert.equal(s.counts().create?.ERR_CONFIG_RESTORE, 1);
});

test('a write that fails mid-way (the rename into place) leaves the previous file as it was, nothing beside it, nothing applied', async (t) => {
  const { s, dir, bytes, applied } = store(t);
  failRenames(t, (from, to) => from.endsWith('.tmp') && to.endsWith('tenants.yaml'));
  await assert.rejects(s.create('tenants', 'far', { sipServer: '127.0.0.1:5090' }), refusedWith('ERR_CONFIG_WRITE', 'tenants.yaml'));
  assert.equal(bytes('tenants.yaml').toString(), TENANTS);
  assert.deepEqual(readdirSync(dir).sort(), ['gateway.yaml', 'tenants.yaml']);
  assert.equal(applied(), 0);
});

test('a file changed by hand while the gateway took a write is not overwritten by the way back', async (t) => {
  const edit = '# edited by hand meanwhile\ntenants:\n  pbx: { transport: udp, sipServer: 127.0.0.1:5081 }\n';
  let dir = '';
  const made = store(t, async () => { writeFileSync(join(dir, 'tenants.yaml'), edit); return refused; });
  dir = made.dir;
  await assert.rejects(made.s.create('tenants', 'far', { sipServer: '127.0.0.1:5090' }), (e: Refusal) =>
    e.code === 'ERR_CONFIG_RESTORE' && e.details?.file === 'tenants.yaml' && readFileSync(join(dir, e.details.backup!), 'utf8') === TENANTS);
  assert.equal(made.bytes('tenants.yaml').toString(), edit);
});
