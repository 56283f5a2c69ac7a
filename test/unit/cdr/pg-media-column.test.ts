import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CdrRecord } from '../../../src/b2bua/index.js';
import { COLUMNS, MIGRATIONS, SCHEMA_VERSION } from '../../../src/cdr/pg-schema.js';

const media = (r: Partial<CdrRecord>) => COLUMNS.find(([name]) => name === 'media')![1](r as CdrRecord);

test('the CDR table\'s media column holds rtpengine\'s per-leg figures as JSON, null for a call whose media flowed around', () => {
  const totals = {
    a: { packets: 50, bytes: 8600, errors: 0, rtcpPackets: 2, lost: 1, lossPercent: 0, jitterMs: 2, mos: 4.4 },
    b: { packets: 49, bytes: 8428, errors: 1, rtcpPackets: 2, lost: null, lossPercent: null, jitterMs: null, mos: null },
  };
  assert.deepEqual(JSON.parse(String(media({ media: totals }))), totals);
  assert.equal(media({}), null);
  assert.deepEqual(MIGRATIONS.find((m) => m.version === 2)!.sql('cdr'), ['ALTER TABLE "cdr" ADD COLUMN IF NOT EXISTS media jsonb']);
});

test('schema 3: each leg\'s reported loss and jitter in columns of their own, null for a flow-around call or a leg without RTCP', () => {
  const cell = (name: string, r: Partial<CdrRecord>) => COLUMNS.find(([n]) => n === name)![1](r as CdrRecord);
  const leg = { packets: 50, bytes: 8600, errors: 0, rtcpPackets: 2 };
  const r = { media: { a: { ...leg, lost: 15, lossPercent: 9, jitterMs: 5, mos: 3.3 }, b: { ...leg, lost: null, lossPercent: null, jitterMs: null, mos: null } } };
  assert.deepEqual(['media_lost_a', 'media_lost_b', 'media_jitter_a_ms', 'media_jitter_b_ms'].map((c) => cell(c, r)), [15, null, 5, null]);
  assert.deepEqual(['media_lost_a', 'media_jitter_b_ms'].map((c) => cell(c, {})), [null, null]);
  assert.ok(SCHEMA_VERSION >= 3);
  const sql = MIGRATIONS.find((m) => m.version === 3)!.sql('cdr').join(' ');
  for (const c of ['media_lost_a', 'media_lost_b', 'media_jitter_a_ms', 'media_jitter_b_ms']) assert.match(sql, new RegExp(`ADD COLUMN IF NOT EXISTS ${c} integer`));
});
