// The CDR an app worker hands over names its call by the call's id in the list, not by the record's Call-ID (cut
// to 256 characters, control characters replaced): the worker's PostedCalls finds the id, the pool's HeldCalls drops
// that row, so a worker that dies right after writing a record leaves no second, app-lost, record of the call.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../../src/common/index.js';
import { ActiveCalls, type CallChanges, type CdrRecord } from '../../../../src/b2bua/index.js';
import { buildCdr } from '../../../../src/b2bua/cdr.js';
import { HeldCalls, PostedCalls } from '../../../../src/b2bua/workers/held-calls.js';

const REASON = 'SIP;cause=503;text="application disconnected"';

/** A worker's call list, its posted copy, and the pool's copy, kept in step as postHeld and the pool's handler do. */
function rig() {
  const active = new ActiveCalls({ app: 1, clock: new ManualClock(10_000), journal: true });
  const posted = new PostedCalls();
  const held = new HeldCalls();
  const ring = (callId: string, startAt: number) => active.setUp({
    callIds: [callId], tenantIn: 'pbx', tenantOut: null, dialPeer: null, callingNumber: '1001', calledNumber: '3001', startAt,
  }, () => undefined);
  const postHeld = (): CallChanges => {
    const changes = active.takeChanges();
    posted.apply(changes);
    held.apply(changes);
    return changes;
  };
  // The worker's onCdr, then the pool's `cdr` message.
  const handOver = (record: CdrRecord): string | null => {
    const id = posted.take(record) ?? null;
    if (id !== null) held.recorded(id);
    return id;
  };
  return { posted, held, ring, postHeld, handOver };
}

/** The record of a call that began at `startedAt`, as the b2bua builds it. */
const recordOf = (callId: string, startedAt: number): CdrRecord =>
  buildCdr({ callId, startedAt, identities: [] }, { status: 487, cause: 'cancelled', endAt: startedAt + 1_000 });

test('a call with a 304-character Call-ID: its record takes it out of the pool\'s copy, and a worker dying then leaves no app-lost record of it', () => {
  const { held, ring, postHeld, handOver } = rig();
  const callId = `${'a'.repeat(300)}@pbx`;
  const call = ring(callId, 5_000);
  postHeld();
  assert.equal(held.size, 1);
  assert.equal(handOver(recordOf(callId, 5_000)), call.id);
  assert.equal(held.size, 0);
  assert.deepEqual(held.takeLost(7_000, 'app-lost', REASON), [], 'no second record');
});

test('calls begun in the same millisecond whose Call-IDs share their first 256 characters each take their own row; a record of a call never posted takes none', () => {
  const { posted, held, ring, postHeld, handOver } = rig();
  const stem = 'x'.repeat(256);
  const one = ring(`${stem}-one`, 5_000);
  const two = ring(`${stem}-two`, 5_000);
  const ctl = ring('ctl\u0007bell', 5_000);
  const short = ring('x', 5_000);
  postHeld();
  assert.equal(handOver(recordOf('x'.repeat(10), 5_000)), null, 'a record of a call refused before it was listed');
  assert.equal(handOver(recordOf('ctl\u0007bell', 5_000)), ctl.id, 'a Call-ID with a control character');
  assert.equal(handOver(recordOf('x', 5_000)), short.id, 'a Call-ID kept whole is its own call, not the start of a longer one');
  assert.equal(handOver(recordOf(`${stem}-two`, 6_000)), null, 'another start time is another call');
  const first = handOver(recordOf(`${stem}-one`, 5_000));
  const second = handOver(recordOf(`${stem}-two`, 5_000));
  assert.deepEqual([first, second].sort(), [one.id, two.id].sort(), 'one row each, none twice');
  assert.deepEqual([held.size, posted.size], [0, 0]);
});

test('the worker\'s posted copy follows the list: a call gone leaves it, and it holds no more than the pool\'s copy', () => {
  const { posted, ring, postHeld, handOver } = rig();
  const a = ring('gone-call', 5_000);
  postHeld();
  a.done();
  postHeld();
  assert.equal(posted.size, 0);
  assert.equal(handOver(recordOf('gone-call', 5_000)), null);
  const small = new PostedCalls(1);
  const row = (id: string) => ({ id, app: 1, state: 'ringing' as const, callIds: [id], tenantIn: null, tenantOut: null, dialPeer: null,
    callingNumber: null, calledNumber: null, startAt: 1, answerAt: null, durationMs: 0 });
  small.apply({ rows: [row('1-a'), row('1-b')], gone: [] });
  assert.equal(small.size, 1);
});
