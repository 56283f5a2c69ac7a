// A configuration write goes where the profiles file's links lead: a file kept elsewhere and linked into profiles/
// stays linked (the file it leads to gets the new text), and the file written keeps its owner, group and mode. The
// way back and the check for a hand edit made since the read work on that file too.
import assert from 'node:assert/strict';
import fs, {
  chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigStore, type ApplyReport } from '../../../../src/config/write/index.js';
import { writeFileAtomic } from '../../../../src/config/write/atomic-write.js';
import { keep, putBack, swapIn } from '../../../../src/config/write/file-swap.js';
import { silentLogger } from '../../../../src/log/index.js';

const GATEWAY = 'gateway:\n  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]\n  defaultTenant: pbx\n  admin: { enabled: false }\n';
const TENANTS = '# tenants\ntenants:\n  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }\n';
/** nobody:nogroup on Debian; any ids other than the test's own do. */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

/** profiles/tenants.yaml → ../real/tenants.yaml, owned by nobody, mode 0640. */
function linked(t: TestContext) {
  const root = mkdtempSync(join(tmpdir(), 'tg-swap-symlink-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const prof = join(root, 'profiles');
  const real = join(root, 'real');
  mkdirSync(prof);
  mkdirSync(real);
  writeFileSync(join(prof, 'gateway.yaml'), GATEWAY);
  const target = join(real, 'tenants.yaml');
  writeFileSync(target, TENANTS, { mode: 0o640 });
  if (asRoot) chownSync(target, NOBODY, NOBODY);
  const link = join(prof, 'tenants.yaml');
  symlinkSync('../real/tenants.yaml', link);
  return { prof, real, target, link };
}

function assertStillLinked(l: ReturnType<typeof linked>, text: string): void {
  assert.ok(lstatSync(l.link).isSymbolicLink(), 'profiles/tenants.yaml is still a link');
  assert.equal(readlinkSync(l.link), '../real/tenants.yaml');
  assert.equal(readFileSync(l.target, 'utf8'), text);
  const s = statSync(l.target);
  assert.equal(s.mode & 0o777, 0o640);
  if (asRoot) assert.deepEqual([s.uid, s.gid], [NOBODY, NOBODY], 'owner and group kept');
  assert.deepEqual(readdirSync(l.real), ['tenants.yaml'], 'no temporary file or backup left');
  assert.deepEqual(readdirSync(l.prof).sort(), ['gateway.yaml', 'tenants.yaml']);
}

test('an API write into a linked file: the link stays, its target has the new entry, owner, group and mode kept', { skip: !asRoot && 'the owner part needs root (chown to nobody)' }, async (t) => {
  const l = linked(t);
  const ok: ApplyReport = { ok: true, changed: ['tenants'], applied: ['routing'], needsRestart: [], problems: [], warnings: [] };
  const store = new ConfigStore({ profilesDir: l.prof, loadOptions: { env: {} }, log: silentLogger(), apply: async () => ok });
  const r = await store.create('tenants', 'far', { sipServer: '127.0.0.1:5090' });
  assert.equal(r.file, 'tenants.yaml');
  const text = readFileSync(l.target, 'utf8');
  assert.match(text, /^# tenants\n/);
  assert.match(text, /far:/);
  assertStillLinked(l, text);
});

test('a refused write through a link is put back in the file it leads to; the link stays', { skip: !asRoot && 'needs root' }, (t) => {
  const l = linked(t);
  const swap = swapIn(l.link, TENANTS, `${TENANTS}  far: { sipServer: 127.0.0.1:5090 }\n`);
  assert.ok(lstatSync(l.link).isSymbolicLink());
  assert.equal(putBack(swap), undefined);
  assertStillLinked(l, TENANTS);
});

test('a hand edit of the linked file since it was read is not written over: refused, the edit and the link stay', { skip: !asRoot && 'needs root' }, (t) => {
  const l = linked(t);
  const edited = `${TENANTS}  # a hand edit\n`;
  writeFileSync(l.target, edited);
  assert.throws(() => swapIn(l.link, TENANTS, `${TENANTS}  far: { sipServer: 127.0.0.1:5090 }\n`), { code: 'ERR_CONFIG_ETAG_MISMATCH' });
  assertStillLinked(l, edited);
  const swap = swapIn(l.link, edited, 'tenants: {}\n');
  keep(swap);
  assertStillLinked(l, 'tenants: {}\n');
});

test('the mode is the old file\'s, not narrowed by the umask', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-atomic-mode-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'x.yaml');
  writeFileSync(f, 'old\n');
  fs.chmodSync(f, 0o664);
  const umask = process.umask(0o022);
  t.after(() => process.umask(umask));
  writeFileAtomic(f, 'new\n');
  assert.equal(statSync(f).mode & 0o777, 0o664);
});

test('an owner the process may not give: said once, and the writes go on', { skip: !asRoot && 'needs root to make a file owned by another user' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-atomic-owner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  t.mock.method(fs, 'fchownSync', () => {
    throw Object.assign(new Error('EPERM: operation not permitted, fchown'), { code: 'EPERM' });
  });
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
  const warned = t.mock.method(process, 'emitWarning', () => {});
  for (const name of ['a.yaml', 'b.yaml']) {
    const f = join(dir, name);
    writeFileSync(f, 'old\n', { mode: 0o640 });
    chownSync(f, NOBODY, NOBODY);
    writeFileAtomic(f, 'new\n');
    assert.equal(readFileSync(f, 'utf8'), 'new\n');
    assert.equal(statSync(f).mode & 0o777, 0o640);
  }
  assert.equal(warned.mock.callCount(), 1);
  assert.equal((warned.mock.calls[0]!.arguments[1] as { code: string }).code, 'WARN_CONFIG_WRITE_OWNER');
});
