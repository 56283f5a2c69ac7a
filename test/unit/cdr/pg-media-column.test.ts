import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CdrRecord } from '../../../src/b2bua/index.js';
import { COLUMNS, MIGRATIONS, SCHEMA_VERSION } from '../../../src/cdr/pg-schema.js';

const media = (r: Partial<CdrRecord>) => COLUMNS.find(([name]) => name === 'media')![1](r as CdrRecord);

test('the CDR table\'s media column holds rtpengine\'s per-leg figures as JSON, null for a call whose media flowed around', () => {
  const totals = { a: { packets: 50, bytes: 8600, errors: 0, rtcpPackets: 2 }, b: { packets: 49, bytes: 8428, errors: 1, rtcpPackets: 2 } };
  assert.deepEqual(JSON.parse(String(media({ media: totals }))), totals);
  assert.equal(media({}), null);
  assert.equal(SCHEMA_VERSION, 2);
  assert.deepEqual(MIGRATIONS.at(-1)!.sql('cdr'), ['ALTER TABLE "cdr" ADD COLUMN IF NOT EXISTS media jsonb']);
});
