import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorCodes, moduleOf } from '../../src/error-codes.js';
import { errorCodeTable, README_END, README_START } from '../../src/error-codes-table.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every quoted ERR_/WARN_ code written anywhere in src/, with the files that write it. */
function codesWrittenInSrc(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sources('src')) {
    if (file.endsWith('error-codes.ts')) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/['"`]((?:ERR|WARN)_[A-Z0-9_]+)['"`]/g)) {
      found.set(m[1]!, [...(found.get(m[1]!) ?? []), file]);
    }
  }
  return found;
}

test('every code src/ writes is in the registry, and every registered code is written somewhere', () => {
  const written = codesWrittenInSrc();
  const registered = new Set(Object.keys(errorCodes));
  const unregistered = [...written].filter(([c]) => !registered.has(c)).map(([c, f]) => `${c} (${f[0]})`);
  assert.deepEqual(unregistered, [], 'codes written in src/ but missing from src/error-codes.ts');
  const unused = [...registered].filter((c) => !written.has(c));
  assert.deepEqual(unused, [], 'codes in the registry that nothing writes');
  assert.ok(registered.size > 100, `only ${registered.size} codes`);
});

test('each code has a meaning of its own, one line, ending with a full stop', () => {
  const seen = new Map<string, string>();
  for (const [code, meaning] of Object.entries(errorCodes)) {
    assert.match(code, /^(ERR|WARN)_[A-Z0-9]+(_[A-Z0-9]+)+$/, code);
    assert.ok(meaning.length >= 20 && !meaning.includes('\n') && meaning.endsWith('.'), `${code}: ${meaning}`);
    assert.equal(seen.get(meaning), undefined, `${code} shares its meaning with ${seen.get(meaning)}`);
    seen.set(meaning, code);
  }
});

test('moduleOf reads the part from the prefix', () => {
  assert.equal(moduleOf('ERR_SIP_PARSE_VIA'), 'sip parse');
  assert.equal(moduleOf('ERR_SIP_TRANSPORT_BIND'), 'sip transport');
  assert.equal(moduleOf('ERR_TLS_CONTEXT'), 'tls');
  assert.equal(moduleOf('WARN_CONFIG_ENV'), 'config');
});

test('the README carries the table npm run codes prints, row for row', () => {
  const readme = readFileSync('README.md', 'utf8');
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  assert.ok(a >= 0 && b > a, 'README.md lacks the error-code markers');
  assert.equal(readme.slice(a + README_START.length + 1, b), errorCodeTable(), 'README table is stale: npm run codes -- --write');
  for (const code of Object.keys(errorCodes)) assert.ok(readme.includes(`\`${code}\``), code);
});
