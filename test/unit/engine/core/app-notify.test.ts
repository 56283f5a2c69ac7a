import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../../src/common/clock.js';
import { AppNotify } from '../../../../src/engine/core/app-notify.js';
import type { AppHub } from '../../../../src/engine/types.js';

test('the frame time follows the clock to the millisecond, made once per millisecond', () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 5, 23, 4, 5, 678));
  const notify = new AppNotify({} as AppHub, clock);
  const first = notify.now();
  assert.equal(first, '23:04:05.678000');
  assert.equal(notify.now(), first);
  clock.advance(1);
  assert.equal(notify.now(), '23:04:05.679000');
  clock.advance(3_600_000 - 679);
  assert.equal(notify.now(), '00:04:05.000000');
});
