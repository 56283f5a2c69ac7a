import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prewarmEngine } from '../../../src/engine/prewarm.js';

test('the pre-warm runs every synthetic call through both legs and leaves no dialog behind', async () => {
  const r = await prewarmEngine(120);
  assert.equal(r.calls, 120);
  assert.equal(r.completed, 120, 'each call gets its INVITE, 180, 200, ACK and BYE through the throwaway core');
  assert.equal(r.dialogsLeft, 0);
});

test('no calls asked, none run', async () => {
  const r = await prewarmEngine(0);
  assert.deepEqual([r.calls, r.completed, r.dialogsLeft], [0, 0, 0]);
});
