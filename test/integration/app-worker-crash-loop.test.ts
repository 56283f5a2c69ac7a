// An app worker in a crash loop (src/b2bua/workers/restart-policy.ts): started again a second after each of its first
// five stops in a minute; the sixth logs the limit and the slot waits a minute, then two, … with no worker, counted
// (appWorkerRestarts, appWorkersDown). The pool's restart timers run on a manual clock; the workers are real.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/common/index.js';
import { poolRig } from '../support/app-pool-rig.js';
import { until } from '../support/until.js';

test('a worker that stops every time it runs is started again after a backoff past the limit, never left stopped', { timeout: 90_000 }, async (t) => {
  const clock = new ManualClock(Date.now());
  const rig = await poolRig(t, { apps: 2, farPort: 9, fault: 'crash:50', clock });
  const pool = await rig.started;
  const stops = () => rig.records.filter((l) => l.code === 'ERR_B2BUA_WORKER' && /^b2bua: app worker 1 stopped/.test(String(l.msg)));
  const counters = () => {
    const s = pool.stats();
    return { restarts: s.appWorkerRestarts, down: s.appWorkersDown };
  };
  for (let k = 1; k <= 5; k++) {
    await until(() => stops().length === k, `stop ${k}`, 20_000);
    assert.match(String(stops()[k - 1]!.msg), /starting it again$/);
    assert.deepEqual(counters(), { restarts: k - 1, down: 1 });
    clock.advance(1_000);
    assert.equal(counters().restarts, k, `restart ${k} a second after the stop`);
  }
  await until(() => stops().length === 6, 'the sixth stop', 20_000);
  const limit = stops()[5]!;
  assert.match(String(limit.msg), /^b2bua: app worker 1 stopped 5 times in a minute; starting it again in 60 s/);
  assert.equal(limit.retryInMs, 60_000);
  assert.deepEqual(counters(), { restarts: 5, down: 1 });
  clock.advance(59_999);
  assert.equal(counters().restarts, 5, 'not before the backoff');
  clock.advance(1);
  assert.equal(counters().restarts, 6, 'started again after the backoff');
  // It stops again at once: the backoff doubles.
  await until(() => stops().length === 7, 'the seventh stop', 20_000);
  assert.equal(stops()[6]!.retryInMs, 120_000);
  assert.deepEqual(counters(), { restarts: 6, down: 1 });
});
