/**
 * A key, its certificate and chain are replaced all or none: when one of the files cannot be put in place, the ones
 * already replaced get their old contents back and no temporary file is left behind; when all can, each has its new
 * content and the key is readable by its owner only. Putting a file back does not give up after a failed rename: its
 * old bytes are copied back, and when even that fails the backup holding them stays where the error says.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { writePemFiles } from '../../../src/pki/index.js';

function folder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tg-pem-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('all three replaced: new contents, the key 0600, nothing else in the folder', (t) => {
  const dir = folder(t);
  for (const f of ['cert.pem', 'chain.pem', 'key.pem']) writeFileSync(join(dir, f), `old ${f}`);
  writePemFiles([
    { path: join(dir, 'cert.pem'), text: 'new cert', secret: false },
    { path: join(dir, 'chain.pem'), text: 'new chain', secret: false },
    { path: join(dir, 'key.pem'), text: 'new key', secret: true },
  ]);
  assert.deepEqual(['cert.pem', 'chain.pem', 'key.pem'].map((f) => readFileSync(join(dir, f), 'utf8')), ['new cert', 'new chain', 'new key']);
  assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir).sort(), ['cert.pem', 'chain.pem', 'key.pem']);
});

test('the last one cannot be put in place: the first two get their old contents back, nothing is left behind', (t) => {
  const dir = folder(t);
  writeFileSync(join(dir, 'cert.pem'), 'old cert');
  writeFileSync(join(dir, 'chain.pem'), 'old chain');
  // A non-empty folder where the key should go: the rename onto it fails after the others were renamed in.
  mkdirSync(join(dir, 'key.pem'));
  writeFileSync(join(dir, 'key.pem', 'x'), 'x');
  assert.throws(() => writePemFiles([
    { path: join(dir, 'cert.pem'), text: 'new cert', secret: false },
    { path: join(dir, 'chain.pem'), text: 'new chain', secret: false },
    { path: join(dir, 'key.pem'), text: 'new key', secret: true },
  ]), { code: 'ERR_PKI_IO' });
  assert.equal(readFileSync(join(dir, 'cert.pem'), 'utf8'), 'old cert');
  assert.equal(readFileSync(join(dir, 'chain.pem'), 'utf8'), 'old chain');
  assert.deepEqual(readdirSync(dir).sort(), ['cert.pem', 'chain.pem', 'key.pem']);
});

test('a file that did not exist before and was put in is removed again when a later one fails', (t) => {
  const dir = folder(t);
  mkdirSync(join(dir, 'key.pem'));
  writeFileSync(join(dir, 'key.pem', 'x'), 'x');
  assert.throws(() => writePemFiles([
    { path: join(dir, 'cert.pem'), text: 'new cert', secret: false },
    { path: join(dir, 'key.pem'), text: 'new key', secret: true },
  ]), { code: 'ERR_PKI_IO' });
  assert.deepEqual(readdirSync(dir).sort(), ['key.pem']);
});

/** Makes fs.renameSync fail (EBUSY) whenever `fails` says so, for the code under test too (its named imports). */
function failRenames(t: TestContext, fails: (from: string, to: string) => boolean): void {
  const real = fs.renameSync;
  t.mock.method(fs, 'renameSync', (from: string, to: string) => {
    if (fails(String(from), String(to))) throw Object.assign(new Error(`EBUSY: resource busy, rename '${String(from)}'`), { code: 'EBUSY' });
    return real(from, to);
  });
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
}

const three = (dir: string) => [
  { path: join(dir, 'cert.pem'), text: 'new cert', secret: false },
  { path: join(dir, 'chain.pem'), text: 'new chain', secret: false },
  { path: join(dir, 'key.pem'), text: 'new key', secret: true },
];

test('the second file fails and the first cannot be renamed back: its old bytes are copied back, every file is as it was', (t) => {
  const dir = folder(t);
  for (const f of ['cert.pem', 'chain.pem', 'key.pem']) writeFileSync(join(dir, f), `old ${f}`, { mode: f === 'key.pem' ? 0o600 : 0o644 });
  // The chain cannot be put in place, and putting the certificate's backup back by a rename fails too (a busy file).
  failRenames(t, (from, to) => to.endsWith('chain.pem') || (from.includes('.bak-') && to.endsWith('cert.pem')));
  assert.throws(() => writePemFiles(three(dir)), (e: Error & { code?: string }) =>
    e.code === 'ERR_PKI_IO' && /the files there before are kept/.test(e.message));
  assert.deepEqual(['cert.pem', 'chain.pem', 'key.pem'].map((f) => readFileSync(join(dir, f), 'utf8')), ['old cert.pem', 'old chain.pem', 'old key.pem']);
  assert.deepEqual(readdirSync(dir).sort(), ['cert.pem', 'chain.pem', 'key.pem'], 'no temporary file or backup left');
});

test('a replaced file that cannot be put back at all keeps its old bytes in the backup the error names', (t) => {
  const dir = folder(t);
  for (const f of ['cert.pem', 'chain.pem', 'key.pem']) writeFileSync(join(dir, f), `old ${f}`);
  failRenames(t, (from, to) => to.endsWith('chain.pem') || (from.includes('.bak-') && to.endsWith('cert.pem')));
  t.mock.method(fs, 'copyFileSync', () => { throw Object.assign(new Error('EIO: i/o error, copyfile'), { code: 'EIO' }); });
  syncBuiltinESMExports();
  const named = (e: unknown): string => /its previous content is in (\S+)$/.exec((e as Error).message)?.[1] ?? '';
  let backup = '';
  assert.throws(() => writePemFiles(three(dir)), (e: Error & { code?: string }) => {
    backup = named(e);
    return e.code === 'ERR_PKI_IO' && e.message.includes(`${join(dir, 'cert.pem')} could not be put back: its previous content is in ${join(dir, 'cert.pem')}.bak-`);
  });
  assert.equal(readFileSync(backup, 'utf8'), 'old cert.pem', 'the only copy of the old certificate is kept');
  assert.equal(readFileSync(join(dir, 'chain.pem'), 'utf8'), 'old chain.pem');
  assert.equal(readFileSync(join(dir, 'key.pem'), 'utf8'), 'old key.pem');
  // The operator's retry, in the same process, fails the same way: the backup the first error named is still there.
  assert.throws(() => writePemFiles(three(dir)), (e: Error & { code?: string }) => e.code === 'ERR_PKI_IO' && named(e) !== backup);
  assert.equal(readFileSync(backup, 'utf8'), 'old cert.pem', 'a retry does not remove what the first failure kept');
});
