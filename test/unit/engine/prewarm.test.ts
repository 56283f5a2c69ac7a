import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopbackWarmUpFrom, prewarmEngine, warmEngineThread } from '../../../src/engine/prewarm.js';
import { captureLog } from '../../support/log-capture.js';

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

test('with a loopback warm-up the engine thread runs it, not the in-memory one, and logs its kind and counts', async () => {
  const { log, records } = captureLog();
  const asked: number[] = [];
  await warmEngineThread(40, (calls) => {
    asked.push(calls);
    return Promise.resolve({ calls, completed: calls, ms: 12.4, gcMs: 3.2 });
  }, log);
  assert.deepEqual(asked, [40]);
  const lines = records.filter((r) => r.msg === 'engine: hot paths warmed before the listeners open');
  assert.deepEqual(lines.map((r) => [r.kind, r.calls, r.completed, r.ms, r.gcMs]), [['loopback', 40, 40, 12, 3]]);
});

test('a loopback warm-up that fails is logged with ERR_ENGINE_PREWARM, and the in-memory one runs instead', async () => {
  const { log, records } = captureLog();
  await warmEngineThread(30, () => Promise.reject(new Error('no loopback port')), log);
  const failed = records.filter((r) => r.code === 'ERR_ENGINE_PREWARM');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.level, 40, 'a warn line');
  assert.match(String((failed[0]!.err as { message?: string }).message), /no loopback port/);
  const lines = records.filter((r) => r.msg === 'engine: hot paths warmed before the listeners open');
  assert.deepEqual(lines.map((r) => [r.kind, r.calls, r.completed]), [['memory', 30, 30]]);
});

test('the loopback warm-up named by URL carries the plain b2bua\'s calls through real sockets of this thread', async () => {
  const url = new URL('../../../src/prewarm/b2bua-prewarm.ts', import.meta.url).href;
  const r = await loopbackWarmUpFrom(url, 2_000)(20);
  assert.deepEqual([r.calls, r.completed], [20, 20]);
});
