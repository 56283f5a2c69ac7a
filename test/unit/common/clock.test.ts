import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.js';

test('ManualClock fires due timers in order and skips cancelled ones', () => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 200);
  const c = clock.setTimeout(() => fired.push('c'), 150);
  clock.setTimeout(() => {
    fired.push('a');
    clock.setTimeout(() => fired.push('a2'), 10);
  }, 100);
  c.cancel();
  clock.advance(105);
  assert.deepEqual(fired, ['a']);
  assert.equal(clock.now(), 1105);
  clock.advance(200);
  assert.deepEqual(fired, ['a', 'a2', 'b']);
  assert.equal(clock.pending, 0);
});
