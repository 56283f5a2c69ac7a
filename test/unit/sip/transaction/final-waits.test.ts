import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../../src/common/clock.js';
import { FinalWaits, WAIT_TICK_MS, type WaitingTransaction } from '../../../../src/sip/transaction/final-waits.js';
import { captureLog } from '../../../support/log-capture.js';

function waiter(id: string, ended: string[], waits?: () => FinalWaits): WaitingTransaction {
  const t: WaitingTransaction = {
    id,
    endWait: () => {
      ended.push(id);
      waits?.().delete(t);
    },
  };
  return t;
}

test('waits of two lengths end when due, in order, from one pending timer', () => {
  const clock = new ManualClock(0);
  const waits = new FinalWaits(100, clock, undefined);
  const ended: string[] = [];
  waits.add(waiter('j1', ended, () => waits), 32_000);
  clock.advance(50);
  waits.add(waiter('k1', ended, () => waits), 5_000);
  waits.add(waiter('j2', ended, () => waits), 32_000);
  assert.equal(waits.size, 3);
  assert.equal(clock.pending, 1, 'one timer for every wait');
  clock.advance(4_949);
  assert.deepEqual(ended, []);
  clock.advance(WAIT_TICK_MS + 1);
  assert.deepEqual(ended, ['k1'], 'K ends within a tick of its 5 s (begun at 50 ms: ends at 5,100)');
  clock.advance(32_000 - 5_100 - 1);
  assert.deepEqual(ended, ['k1']);
  clock.advance(1);
  assert.deepEqual(ended, ['k1', 'j1']);
  clock.advance(WAIT_TICK_MS);
  assert.deepEqual(ended, ['k1', 'j1', 'j2']);
  assert.equal(waits.size, 0);
  assert.equal(clock.pending, 0, 'no timer left once nothing waits');
});

test('a transaction that ends otherwise leaves the wheel; past the cap the wait due soonest ends early, counted', () => {
  const clock = new ManualClock(0);
  const waits = new FinalWaits(2, clock, undefined);
  const ended: string[] = [];
  const a = waiter('a', ended, () => waits);
  waits.add(a, 32_000);
  waits.add(waiter('b', ended, () => waits), 5_000);
  waits.delete(a);
  assert.equal(waits.size, 1);
  waits.add(waiter('c', ended, () => waits), 32_000);
  waits.add(waiter('d', ended, () => waits), 32_000);
  assert.deepEqual(ended, ['b'], 'b was due soonest');
  assert.equal(waits.endedEarly, 1);
  assert.equal(waits.size, 2);
  waits.clear();
  assert.equal(clock.pending, 0);
  clock.advance(40_000);
  assert.deepEqual(ended, ['b'], 'nothing ends after clear');
});

test('waits ended early by the cap give one warn line with its code per 10 s, however many end', () => {
  const clock = new ManualClock(0);
  const cap = captureLog('info');
  const waits = new FinalWaits(1, clock, cap.log);
  const ended: string[] = [];
  for (let i = 0; i < 50; i++) waits.add(waiter(`t${i}`, ended, () => waits), 32_000);
  assert.equal(waits.endedEarly, 49);
  assert.equal(waits.size, 1);
  const lines = () => cap.records.filter((r) => r.code === 'ERR_SIP_TRANSACTION_WAIT_LIMIT');
  assert.equal(lines().length, 1);
  clock.advance(10_000);
  waits.add(waiter('late', ended, () => waits), 32_000);
  assert.equal(lines().length, 2);
  assert.equal(lines()[1]!.endedEarly, 50);
});
