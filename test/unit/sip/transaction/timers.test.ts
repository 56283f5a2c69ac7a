import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TIMER_SETTINGS, resolveTimerSettings, timerValues } from '../../../../src/sip/transaction/timers.js';

test('RFC 3261 Table 4 values for UDP and for reliable transports', () => {
  const s = resolveTimerSettings();
  assert.deepEqual(s, { T1: 500, T2: 4000, T4: 5000 });
  assert.deepEqual(timerValues(s, false), {
    T1: 500, T2: 4000, T4: 5000, A: 500, B: 32000, D: 32000, E: 500, F: 32000, G: 500, H: 32000, I: 5000, J: 32000, K: 5000, L: 32000, M: 32000,
  });
  const r = timerValues(s, true);
  assert.deepEqual([r.D, r.I, r.J, r.K], [0, 0, 0, 0]);
  assert.deepEqual([r.B, r.F, r.H, r.L, r.M], [32000, 32000, 32000, 32000, 32000]);
});

test('T1/T2/T4 are configurable; Timer D stays at least 32 s', () => {
  const v = timerValues(resolveTimerSettings({ T1: 100, T2: 400, T4: 1000 }), false);
  assert.deepEqual([v.A, v.B, v.D, v.F, v.I, v.K], [100, 6400, 32000, 6400, 1000, 1000]);
  assert.equal(timerValues(resolveTimerSettings({ T1: 1000, T2: 4000 }), false).D, 64000);
  assert.ok(Object.isFrozen(DEFAULT_TIMER_SETTINGS));
});

test('bad timer settings are refused', () => {
  assert.throws(() => resolveTimerSettings({ T1: 0 }), TypeError);
  assert.throws(() => resolveTimerSettings({ T1: 1000, T2: 500 }), TypeError);
  assert.throws(() => resolveTimerSettings({ T4: Number.NaN }), TypeError);
});
