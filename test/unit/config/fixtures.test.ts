import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tryLoadConfig, type ConfigProblem } from '../../../src/config/index.js';
import { validateCipherName } from '../../../src/tls/cipher-names.js';

const root = join(import.meta.dirname, '../../fixtures/config');
const dirs = (kind: 'good' | 'bad') => readdirSync(join(root, kind)).sort().map((d) => join(root, kind, d));

interface Expected {
  file: string;
  path: string;
  code: string;
  line?: number;
}

const key = (p: { file?: string; path: string; code: string }) => `${p.file ? basename(p.file) : ''}|${p.path}|${p.code}`;

test('every good fixture loads', () => {
  const good = dirs('good');
  assert.ok(good.length >= 4);
  for (const dir of good) {
    const r = tryLoadConfig(dir, { validateCipherName });
    assert.ok(r.ok, `${basename(dir)}: ${r.ok ? '' : r.reason}`);
  }
});

test('every bad fixture fails with exactly the problems in its expected.json', () => {
  const bad = dirs('bad');
  assert.ok(bad.length >= 10);
  for (const dir of bad) {
    const name = basename(dir);
    const expected = (JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { problems: Expected[] }).problems;
    const r = tryLoadConfig(dir, { validateCipherName });
    assert.equal(r.ok, false, `${name} should fail`);
    if (r.ok) continue;
    assert.equal(r.code, 'ERR_CONFIG_INVALID');
    // One row per (file, path, code): a YAML parser may report one broken spot several times.
    const got = new Map<string, ConfigProblem>();
    for (const p of r.problems) if (!got.has(key(p))) got.set(key(p), p);
    assert.deepEqual([...got.keys()].sort(), expected.map(key).sort(), `${name}:\n${r.reason}`);
    for (const e of expected) {
      const p = got.get(key(e))!;
      assert.ok(p.message.length > 0, `${name} ${e.path}: a message`);
      if (e.line !== undefined) assert.equal(p.line, e.line, `${name} ${e.path}: line`);
    }
  }
});
