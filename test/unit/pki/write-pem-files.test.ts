/**
 * A key, its certificate and chain are replaced all or none: when one of the files cannot be put in place, the ones
 * already replaced get their old contents back and no temporary file is left behind; when all can, each has its new
 * content and the key is readable by its owner only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
