import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../../src/common/index.js';
import { watchLiveness, type Heard } from '../../../../src/b2bua/workers/liveness.js';

test('a connected worker silent past the bound is reported once; one heard from, or not connected, is not', (t) => {
  const clock = new ManualClock(0);
  const slots: Array<Heard & { name: string }> = [
    { name: 'silent', live: true, lastSeen: 0 }, { name: 'talks', live: true, lastSeen: 0 }, { name: 'down', live: false, lastSeen: 0 },
  ];
  const silent: string[] = [];
  const stop = watchLiveness({ clock, silentMs: 5_000, slots, onSilent: (s, ms) => silent.push(`${s.name} ${ms}`) });
  t.after(stop);
  for (let i = 0; i < 10; i++) {
    clock.advance(1_000);
    slots[1]!.lastSeen = clock.now();
  }
  assert.deepEqual(silent, ['silent 6000']);
  assert.equal(slots[0]!.live, false);
});

test('a check that comes late (this thread stalled) judges nothing: the messages queued meanwhile come first', (t) => {
  let now = 0;
  let due: (() => void) | undefined;
  const clock = { now: () => now, setTimeout: (fn: () => void) => ((due = fn), { cancel: () => (due = undefined) }) };
  const slots: Heard[] = [{ live: true, lastSeen: 0 }];
  let silent = 0;
  const stop = watchLiveness({ clock, silentMs: 5_000, slots, onSilent: () => silent++ });
  t.after(stop);
  // This thread was busy 8 s: its timer fires late, before the worker's messages of that time are read.
  now = 8_000;
  due!();
  assert.equal(silent, 0);
  slots[0]!.lastSeen = 8_000;
  now = 9_000;
  due!();
  assert.equal(silent, 0);
  // Silent for real from then on: found by the checks on time.
  for (now = 10_000; now <= 13_000; now += 1_000) due!();
  assert.equal(silent, 0, '5 s silent: within the bound');
  now = 14_000;
  due!();
  assert.equal(silent, 1);
});

test('a thread late on every turn still finds a silent worker: a late check looks again at once, after the queued input', (t) => {
  let now = 0;
  let due: (() => void) | undefined;
  const delays: number[] = [];
  const clock = { now: () => now, setTimeout: (fn: () => void, ms: number) => (delays.push(ms), (due = fn), { cancel: () => (due = undefined) }) };
  const slots: Heard[] = [{ live: true, lastSeen: 0 }];
  let silent = 0;
  const stop = watchLiveness({ clock, silentMs: 1_500, slots, onSilent: () => silent++ });
  t.after(stop);
  // Every 1 s check comes 2.5 s late; the re-check right after it (the worker's queued messages read: none) judges.
  for (let turn = 0; turn < 3 && silent === 0; turn++) {
    now += 2_500;
    due!();
    assert.equal(delays.at(-1), 0, 'a late check looks again at once');
    now += 5;
    due!();
  }
  assert.equal(silent, 1);
});
