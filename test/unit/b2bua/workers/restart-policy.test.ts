import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF_MAX_MS, RestartPolicy } from '../../../../src/b2bua/workers/restart-policy.js';

test('five quick restarts a minute, then a backoff from a minute doubling up to ten', () => {
  const p = new RestartPolicy();
  let now = 0;
  for (let i = 0; i < 5; i++) assert.deepEqual(p.stopped(now += 100), { delayMs: 1_000, backoff: false });
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    const d = p.stopped(now += 100);
    assert.equal(d.backoff, true);
    waits.push(d.delayMs);
    now += d.delayMs;
    p.connected(now);
  }
  assert.deepEqual(waits, [60_000, 120_000, 240_000, 480_000, BACKOFF_MAX_MS, BACKOFF_MAX_MS]);
});

test('a worker that stays connected a minute ends the backoff; older stops leave the window', () => {
  const p = new RestartPolicy();
  let now = 0;
  for (let i = 0; i < 5; i++) p.stopped(now += 100);
  assert.equal(p.stopped(now += 100).delayMs, 60_000);
  p.connected(now += 60_000);
  assert.deepEqual(p.stopped(now += 60_000), { delayMs: 1_000, backoff: false });
  // Without a backoff, stops more than a minute apart never reach the limit.
  for (let i = 0; i < 20; i++) assert.equal(p.stopped(now += 61_000).backoff, false);
});
