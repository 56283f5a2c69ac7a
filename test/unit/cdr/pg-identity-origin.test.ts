import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CdrRecord } from '../../../src/b2bua/index.js';
import { COLUMNS, insertStatement, MIGRATIONS, SCHEMA_VERSION } from '../../../src/cdr/pg-schema.js';

const cell = (r: Partial<CdrRecord>) => COLUMNS.find(([name]) => name === 'identity_origin')![1](r as CdrRecord);

test('schema 4: identity_origin says who verified the caller\'s identities (tls or proxy), null when nobody did', () => {
  assert.deepEqual([cell({ identityOrigin: 'tls' }), cell({ identityOrigin: 'proxy' }), cell({ identityOrigin: null }), cell({})], ['tls', 'proxy', null, null]);
  assert.deepEqual(MIGRATIONS.find((m) => m.version === 4)!.sql('cdr'), ['ALTER TABLE "cdr" ADD COLUMN IF NOT EXISTS identity_origin text']);
  assert.ok(SCHEMA_VERSION >= 4);
  assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1), 'versions rise by one');
  assert.match(insertStatement('cdr', []).text, /[(,]identity_origin[,)]/);
});
