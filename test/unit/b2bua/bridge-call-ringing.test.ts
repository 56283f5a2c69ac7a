import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { ActiveCalls, bridgeCall, CallStats, parseTarget, type BridgeContext } from '../../../src/b2bua/index.js';
import { captureLog, fakeRequest, FakeLeg, FakeResponse, FakeSrf, settle, sipError } from './fake-srf.js';

const ADMIN = 'SIP;cause=480;text="Call cleared by the administrator"';
const SHUTDOWN = 'SIP;cause=503;text="Gateway shutting down: call ended after the drain time"';

/** A bridged call whose B leg rings: createB2BUA was called and has not settled. */
async function ringingCall() {
  const srf = new FakeSrf();
  const clock = new ManualClock(1_000);
  const { log, lines } = captureLog();
  const active = new ActiveCalls({ clock });
  const records: Array<Record<string, unknown>> = [];
  const ctx: BridgeContext = {
    srf, target: parseTarget('127.0.0.1:5090'), stats: new CallStats(), log, clock, active,
    onCdr: (r) => records.push(r as unknown as Record<string, unknown>),
  };
  const res = new FakeResponse();
  const done = bridgeCall(ctx, fakeRequest(), res);
  await settle();
  const call = srf.calls[0];
  assert.ok(call, 'createB2BUA was called');
  return { ctx, active, res, done, call, records, lines };
}

test('policy bridge: a call is listed as ringing while its B leg rings, and keeps its id once answered', async () => {
  const { active, call, done } = await ringingCall();
  const ringing = active.list(10);
  assert.equal(ringing.total, 1);
  assert.equal(ringing.calls[0]!.state, 'ringing');
  assert.equal(ringing.calls[0]!.answerAt, null);
  assert.equal(ringing.calls[0]!.calledNumber, '15551234567');
  call.resolve({ uas: new FakeLeg(), uac: new FakeLeg() });
  await done;
  const up = active.list(10);
  assert.equal(up.total, 1);
  assert.equal(up.calls[0]!.id, ringing.calls[0]!.id);
  assert.equal(up.calls[0]!.state, 'connected');
});

test('policy bridge: clearing a ringing call answers the caller 480 with the Reason, cancels the B leg, and writes a CDR with the cause', async () => {
  const { active, res, call, done, records } = await ringingCall();
  const invite = call.sendInvite();
  const id = active.list(10).calls[0]!.id;
  const hangUp = active.hangUp(id, 'admin', ADMIN);
  assert.deepEqual(res.sent, [480]);
  assert.equal(res.headers[0]?.Reason, ADMIN);
  assert.equal(invite.cancels(), 1, 'the B-leg INVITE was cancelled');
  call.reject(sipError(487));
  await done;
  assert.equal((await hangUp).outcome, 'ended');
  assert.equal(active.list(10).total, 0);
  assert.equal(records.length, 1);
  assert.deepEqual([records[0]!.status, records[0]!.cause, records[0]!.releasedBy, records[0]!.reason], [480, 'admin', 'gateway', ADMIN]);
});

test('policy bridge: a call cleared before its B-leg INVITE went out has it cancelled as soon as it is sent', async () => {
  const { active, call, done, res } = await ringingCall();
  void active.hangUp(active.list(10).calls[0]!.id, 'admin', ADMIN);
  assert.deepEqual(res.sent, [480]);
  const invite = call.sendInvite();
  assert.equal(invite.cancels(), 1);
  call.reject(sipError(487));
  await done;
});

test('policy bridge: a shutdown gives a ringing call 503 with its Reason, and the drain waits for it', async () => {
  const { active, res, call, done } = await ringingCall();
  let drained = false;
  void active.drained().then(() => (drained = true));
  await settle();
  assert.equal(drained, false, 'the drain waits for the ringing call');
  assert.equal(active.endAll('shutdown', SHUTDOWN), 1);
  assert.deepEqual(res.sent, [503]);
  assert.equal(res.headers[0]?.Reason, SHUTDOWN);
  call.reject(sipError(487));
  await done;
  await settle();
  assert.equal(drained, true);
});

test('policy bridge: a call cleared as its 200 crossed the CANCEL is ended with BYEs carrying the Reason', async () => {
  const { active, res, call, done, records } = await ringingCall();
  res.finalResponseSent = true; // createB2BUA had already answered the caller
  void active.hangUp(active.list(10).calls[0]!.id, 'admin', ADMIN);
  assert.deepEqual(res.sent, [], 'no second final response');
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  call.resolve({ uas, uac });
  await done;
  assert.equal(uas.destroyCalls, 1);
  assert.equal(uac.destroyCalls, 1);
  assert.equal(uas.destroyOpts[0]?.headers?.Reason, ADMIN);
  uas.answerBye();
  uac.answerBye();
  assert.equal(active.list(10).total, 0);
  assert.equal(records[0]!.cause, 'admin');
});

test('policy bridge: the call list holds no entry past a call\'s end, whether its B leg failed or it was answered and hung up', async () => {
  const failed = await ringingCall();
  failed.call.reject(sipError(486));
  await failed.done;
  assert.equal(failed.active.list(10).total, 0, 'a failed setup leaves the list');
  const answered = await ringingCall();
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  answered.call.resolve({ uas, uac });
  await answered.done;
  assert.equal(answered.active.list(10).total, 1);
  uac.remoteBye();
  uas.answerBye();
  assert.equal(answered.active.list(10).total, 0, 'an ended call leaves the list');
  let drained = false;
  await answered.active.drained().then(() => (drained = true));
  assert.equal(drained, true);
});

test('policy bridge: an app that goes away while a call rings writes that call\'s one CDR at once (503, app-lost, the engine\'s Reason)', async () => {
  const { active, call, done, records } = await ringingCall();
  const lost = 'SIP;cause=503;text="application disconnected"';
  assert.equal(active.abandonAll('app-lost', lost), 1);
  assert.deepEqual(records.map((r) => [r.status, r.cause, r.releasedBy, r.reason]), [[503, 'app-lost', 'gateway', lost]]);
  call.reject(sipError(487));
  await done;
  assert.equal(records.length, 1, 'one CDR per call');
});

test('policy bridge: a caller\'s CANCEL before the B leg\'s INVITE is reported sent has that INVITE cancelled once it is out; the CDR says the caller cancelled', async () => {
  const srf = new FakeSrf();
  const { log } = captureLog();
  const records: Array<Record<string, unknown>> = [];
  const ctx: BridgeContext = { srf, target: parseTarget('127.0.0.1:5090'), stats: new CallStats(), log, clock: new ManualClock(0), onCdr: (r) => records.push(r as unknown as Record<string, unknown>) };
  const events = new EventEmitter();
  const req = Object.assign(fakeRequest(), { on: (e: 'cancel', fn: () => void) => events.on(e, fn) });
  const done = bridgeCall(ctx, req, new FakeResponse());
  await settle();
  events.emit('cancel');
  const invite = srf.calls[0]!.sendInvite();
  assert.equal(invite.cancels(), 1, 'the INVITE was cancelled as soon as it was sent');
  // Once the INVITE is out, createB2BUA passes a CANCEL on itself: the gateway does not cancel it a second time.
  events.emit('cancel');
  assert.equal(invite.cancels(), 1);
  srf.calls[0]!.reject(sipError(487));
  await done;
  assert.deepEqual([records[0]!.status, records[0]!.cause, records[0]!.releasedBy], [487, 'cancelled', 'caller']);
});
