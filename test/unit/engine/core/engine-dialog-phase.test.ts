import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../../src/common/clock.js';
import { EngineDialog } from '../../../../src/engine/core/engine-dialog.js';
import { DialogStore } from '../../../../src/engine/core/dialog-store.js';

function uac(): EngineDialog {
  return new EngineDialog({
    role: 'uac', callId: 'c1', localTag: 'L', localUri: '<sip:a@127.0.0.1>;tag=L', remoteUri: '<sip:b@127.0.0.1>',
    localSeq: 1, localContact: '<sip:a@127.0.0.1>',
  }, 'app-1', 'application');
}

test('a new dialog is early, with empty INVITE slots and no confirmed-only fields', () => {
  const d = uac();
  assert.equal(d.phase.kind, 'early');
  assert.deepEqual(d.invites, { kind: 'early', serverInvite: undefined, clientInvite: undefined });
  assert.equal(d.confirmed, undefined);
});

test('early → confirmed carries the INVITE in progress over, and confirming again returns the same state', () => {
  const d = uac();
  d.invites!.clientInvite = 'txn-1';
  const c = d.confirm();
  assert.ok(c);
  assert.equal(c.kind, 'confirmed');
  assert.equal(c.clientInvite, 'txn-1');
  assert.equal(c.ackSeq, undefined);
  c.ackSeq = 7;
  assert.equal(d.confirm(), c);
  assert.equal(d.confirmed?.ackSeq, 7);
});

test('a failed dialog-creating INVITE makes it terminating: no INVITE slots, no confirm, its expiry ends it', () => {
  const clock = new ManualClock();
  const store = new DialogStore();
  const d = uac();
  store.add(d);
  d.fail(486, clock.setTimeout(() => store.end(d), 32_000));
  assert.equal(d.phase.kind, 'terminating');
  assert.equal(d.phase.kind === 'terminating' ? d.phase.failedStatus : 0, 486);
  assert.equal(d.invites, undefined);
  assert.equal(d.confirm(), undefined, 'a failed dialog cannot become confirmed');
  clock.advance(32_000);
  assert.equal(d.phase.kind, 'terminated');
  assert.equal(store.size, 0);
});

test('fail() on a confirmed dialog changes nothing and cancels the timer it was given', () => {
  const clock = new ManualClock();
  const d = uac();
  d.confirm();
  let fired = false;
  d.fail(500, clock.setTimeout(() => { fired = true; }, 10));
  clock.advance(20);
  assert.equal(d.phase.kind, 'confirmed');
  assert.equal(fired, false);
});

test('ending a confirmed dialog stops its ACK wait; ending a terminating one cancels its expiry', () => {
  const clock = new ManualClock();
  const store = new DialogStore();
  const a = uac();
  store.add(a);
  let stopped = 0;
  a.confirm()!.awaitingAck = { txnId: 't', stop: () => { stopped++; } };
  store.end(a);
  assert.equal(stopped, 1);
  assert.equal(a.phase.kind, 'terminated');
  assert.equal(a.invites, undefined);

  const b = new EngineDialog({
    role: 'uac', callId: 'c2', localTag: 'L2', localUri: '<sip:a@127.0.0.1>;tag=L2', remoteUri: '<sip:b@127.0.0.1>',
    localSeq: 1, localContact: '<sip:a@127.0.0.1>',
  }, 'app-1', 'application');
  store.add(b);
  let expired = false;
  b.fail(404, clock.setTimeout(() => { expired = true; }, 100));
  store.end(b);
  clock.advance(200);
  assert.equal(expired, false);
  assert.equal(store.size, 0);
});

test('the state union keeps fields to their state (checked by the type checker)', () => {
  const d = uac();
  const ph = d.phase;
  // @ts-expect-error an owed ACK exists only in the confirmed state
  assert.equal(ph.ackSeq, undefined);
  // @ts-expect-error a failure status exists only in the terminating state
  assert.equal(ph.failedStatus, undefined);
  if (ph.kind === 'terminating') {
    // @ts-expect-error a terminating dialog has no INVITE slots
    assert.fail(String(ph.clientInvite));
  }
  assert.equal(ph.kind, 'early');
});
