import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.js';
import { OverloadGuard } from '../../../src/engine/overload.js';

test('an app hovering at maxUnansweredInvites makes one overload episode, which ends once it is a tenth below', () => {
  const clock = new ManualClock(1_000_000);
  const q = { unanswered: 0 };
  const log = pino({ level: 'silent' });
  const g = new OverloadGuard({ maxUnansweredInvites: 10, lightSourceInvites: 0 }, { log, clock, unansweredInvites: () => q.unanswered });
  // Five seconds of an app at 10 unanswered when an INVITE comes, 9 when the window is sampled.
  for (let w = 0; w < 50; w++) {
    q.unanswered = 10;
    assert.equal(g.admitInvite(undefined, '192.0.2.1'), 'reject');
    q.unanswered = 9;
    clock.advance(100);
    g.window({ utilization: 0.5, delayMs: 0 });
  }
  assert.equal(g.stats().episodes, 1);
  assert.equal(g.stats().shedding, true);
  q.unanswered = 8;
  g.window({ utilization: 0.5, delayMs: 0 });
  assert.equal(g.stats().shedding, false, 'a tenth below the limit: the episode is over');
  q.unanswered = 10;
  g.admitInvite(undefined, '192.0.2.1');
  assert.equal(g.stats().episodes, 2);
});

test('with maxUnansweredInvites 1 an episode still ends once nothing is unanswered', () => {
  const clock = new ManualClock(1_000_000);
  const q = { unanswered: 1 };
  const g = new OverloadGuard({ maxUnansweredInvites: 1, lightSourceInvites: 0 }, { log: pino({ level: 'silent' }), clock, unansweredInvites: () => q.unanswered });
  g.admitInvite(undefined, '192.0.2.1');
  assert.equal(g.stats().shedding, true);
  q.unanswered = 0;
  g.window({ utilization: 0.1, delayMs: 0 });
  assert.equal(g.stats().shedding, false);
});
