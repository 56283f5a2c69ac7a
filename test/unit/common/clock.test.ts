import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterInputClock, ManualClock, systemClock, type Clock, type TimerHandle } from '../../../src/common/clock.js';

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

// A timer that falls due while the thread is busy, with a datagram already waiting in the socket buffer: the plain
// clock runs the timer first (a retransmission would go out although the answer has arrived); afterInputClock runs
// it after the datagram was read, and not at all when reading it cancelled the timer.
async function busyTurnOrder(clock: Clock, cancelOnInput: boolean): Promise<string[]> {
  const { createSocket } = await import('node:dgram');
  const rx = createSocket('udp4');
  const tx = createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
  const order: string[] = [];
  try {
    let timer: TimerHandle | undefined;
    const read = new Promise<void>((r) => rx.on('message', () => {
      order.push('input');
      if (cancelOnInput) timer?.cancel();
      r();
    }));
    timer = clock.setTimeout(() => order.push('timer'), 5);
    tx.send('answer', rx.address().port, '127.0.0.1');
    const until = Date.now() + 40;
    while (Date.now() < until) { /* the thread is busy past the timer's due time, the datagram waits */ }
    await read;
    // Past the timer's due time, then one check phase more: a thread held up for longer than this wait runs both
    // timers in one timers phase, and afterInputClock's timer then fires from the check phase after it.
    await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setImmediate(r));
    return order;
  } finally {
    rx.close();
    tx.close();
  }
}

test('the plain clock fires a timer that fell due during a busy turn before the waiting input', async () => {
  assert.deepEqual(await busyTurnOrder(systemClock, false), ['timer', 'input']);
});

test('afterInputClock: a due timer runs after the input that was already waiting', async () => {
  assert.deepEqual(await busyTurnOrder(afterInputClock(), false), ['input', 'timer']);
});

test('afterInputClock: input that cancels a due timer stops it from running', async () => {
  assert.deepEqual(await busyTurnOrder(afterInputClock(), true), ['input']);
});

test('afterInputClock: cancel before the due time, and a timer that runs once', async () => {
  const clock = afterInputClock();
  let ran = 0;
  clock.setTimeout(() => ran++, 1).cancel();
  const h = clock.setTimeout(() => ran++, 1);
  // Past the due time, then one check phase more: a thread held up past both times runs this wait's timer in the same
  // timers phase as the 1 ms one, whose run then comes from the check phase after it.
  await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setImmediate(r));
  h.cancel();
  assert.equal(ran, 1);
});

test('afterInputClock: a timer due while the kernel still holds input waits for that backlog first', async () => {
  let backlog = 60;
  const clock = afterInputClock(systemClock, { backlogMs: () => backlog });
  const t0 = Date.now();
  let firedAt = 0;
  clock.setTimeout(() => { firedAt = Date.now(); }, 5);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(firedAt, 0, 'not fired while 60 ms of input wait');
  backlog = 0;
  await new Promise((r) => setTimeout(r, 80));
  assert.ok(firedAt - t0 >= 60, `fired after the backlog: ${firedAt - t0} ms`);
});

test('afterInputClock: a backlog that never clears puts a timer off by maxDeferMs at most, and cancel still works meanwhile', async () => {
  const clock = afterInputClock(systemClock, { backlogMs: () => 1_000, maxDeferMs: 40 });
  const t0 = Date.now();
  let firedAt = 0;
  clock.setTimeout(() => { firedAt = Date.now(); }, 5);
  let cancelledRan = false;
  const c = clock.setTimeout(() => { cancelledRan = true; }, 5);
  await new Promise((r) => setTimeout(r, 20));
  c.cancel();
  await new Promise((r) => setTimeout(r, 100));
  // Node's timers count from the event loop's cached time, so Date.now() may see each of the two (5 ms, then the
  // 40 ms put off) fire up to a millisecond early: at least 40 ms tells the put-off from the 5 ms timer alone.
  assert.ok(firedAt - t0 >= 40 && firedAt - t0 < 1_000, `fired after 5 + 40 ms, not after the 1 s backlog: ${firedAt - t0} ms`);
  assert.equal(cancelledRan, false);
});
