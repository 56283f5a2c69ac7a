import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { bridgeCall, CallStats, parseTarget, sipErrorStatus, type BridgeContext } from '../../../src/b2bua/index.js';
import { captureLog, fakeRequest, FakeLeg, FakeResponse, FakeSrf, settle, sipError } from './fake-srf.js';

function setup(target = '127.0.0.1:5090') {
  const srf = new FakeSrf();
  const stats = new CallStats();
  const clock = new ManualClock(1_000);
  const { log, lines } = captureLog();
  const ctx: BridgeContext = { srf, target: parseTarget(target), stats, log, clock };
  return { srf, stats, clock, lines, ctx };
}

async function connectedCall(target?: string) {
  const s = setup(target);
  const res = new FakeResponse();
  const done = bridgeCall(s.ctx, fakeRequest(), res);
  await settle();
  const call = s.srf.calls[0];
  assert.ok(call, 'createB2BUA was called');
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  s.clock.advance(40);
  call.resolve({ uas, uac });
  await done;
  return { ...s, res, uas, uac, call };
}

test('places the B leg at the target with the called number and without the A-leg Call-ID', async () => {
  const { call, stats } = await connectedCall('127.0.0.1:5090;transport=tcp');
  assert.equal(call.uri, 'sip:15551234567@127.0.0.1:5090;transport=tcp');
  const headers = (call.opts.headers ?? {}) as Record<string, string>;
  assert.ok(!Object.keys(headers).some((h) => h.toLowerCase() === 'call-id' || h.toLowerCase() === 'i'));
  assert.equal(call.opts.proxyRequestHeaders, undefined, 'no header copying that could carry the Call-ID');
  assert.deepEqual({ ...stats.snapshot(), failed: undefined }, {
    attempted: 1, connected: 1, completed: 0, failed: undefined, failedTotal: 0, active: 1, legsUp: 2, racedLegs: 0,
    byeFailed: 0, endedByGateway: {}, endedByEngine: 0, noAnswerTimeouts: 0, refusedDraining: 0, inDialogRefused: {},
  });
});

test('a BYE from the callee ends the caller leg, and the call end is logged once with its duration', async () => {
  const { uas, uac, stats, clock, lines } = await connectedCall();
  clock.advance(2_500);
  uac.remoteBye();
  assert.equal(uas.destroyCalls, 1);
  assert.equal(stats.legsUp, 1);
  uas.answerBye();
  assert.equal(stats.legsUp, 0);
  assert.equal(stats.active, 0);
  assert.equal(stats.completed, 1);
  const ends = lines.filter((l) => l.msg === 'call ended');
  assert.equal(ends.length, 1);
  assert.equal(ends[0]!.callId, 'a-leg-1@10.0.0.1');
  assert.equal(ends[0]!.status, 200);
  assert.equal(ends[0]!.setupMs, 40);
  assert.equal(ends[0]!.durationMs, 2_500);
  assert.equal(ends[0]!.releasedBy, 'callee');
});

test('a BYE from the caller ends the callee leg', async () => {
  const { uas, uac, stats, lines } = await connectedCall();
  uas.remoteBye();
  assert.equal(uac.destroyCalls, 1);
  assert.equal(uas.destroyCalls, 0);
  uac.answerBye();
  assert.equal(stats.legsUp, 0);
  assert.equal(lines.find((l) => l.msg === 'call ended')?.releasedBy, 'caller');
});

test('BYEs crossing on both legs release each leg once', async () => {
  const { uas, uac, stats, lines } = await connectedCall();
  uas.remoteBye();
  uac.remoteBye();
  assert.equal(stats.legsUp, 0);
  assert.equal(stats.completed, 1);
  // the BYE sent on the callee leg before its own BYE arrived completes later; nothing is counted twice
  uac.answerBye(new Error('dialog gone'));
  assert.equal(stats.legsUp, 0);
  assert.equal(stats.completed, 1);
  assert.equal(lines.filter((l) => l.msg === 'call ended').length, 1);
});

test('a BYE that beat the await: the surviving leg is ended at once', async () => {
  const s = setup();
  const done = bridgeCall(s.ctx, fakeRequest(), new FakeResponse());
  await settle();
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  uas.connected = false; // drachtio-srf already handled the caller's BYE and emitted 'destroy' to nobody
  s.srf.calls[0]!.resolve({ uas, uac });
  await done;
  assert.equal(uac.destroyCalls, 1);
  assert.equal(s.stats.racedLegs, 1);
  uac.answerBye();
  assert.equal(s.stats.legsUp, 0);
  assert.equal(s.stats.completed, 1);
  assert.equal(s.lines.find((l) => l.msg === 'call ended')?.releasedBy, 'caller', 'the caller hung up, whatever the race');
});

test('a callee BYE that beat the await ends the caller leg', async () => {
  const s = setup();
  const done = bridgeCall(s.ctx, fakeRequest(), new FakeResponse());
  await settle();
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  uac.connected = false;
  s.srf.calls[0]!.resolve({ uas, uac });
  await done;
  assert.equal(uas.destroyCalls, 1);
  assert.equal(uac.destroyCalls, 0);
  uas.answerBye();
  assert.equal(s.stats.legsUp, 0);
  assert.equal(s.lines.find((l) => l.msg === 'call ended')?.releasedBy, 'callee');
});

test('a failed BYE on the surviving leg still releases it', async () => {
  const { uas, uac, stats } = await connectedCall();
  uac.remoteBye();
  uas.answerBye(new Error('ENODIALOG'));
  assert.equal(stats.legsUp, 0);
});

test('a destroy() that throws still releases the leg', async () => {
  const { uas, uac, stats } = await connectedCall();
  uas.destroy = () => {
    throw new Error('socket gone');
  };
  uac.remoteBye();
  assert.equal(stats.legsUp, 0);
});

test('a failed B leg is counted by status, logged, and never throws', async () => {
  const s = setup();
  const res = new FakeResponse();
  const done = bridgeCall(s.ctx, fakeRequest(), res);
  await settle();
  s.clock.advance(15);
  s.srf.calls[0]!.reject(sipError(486));
  await done;
  assert.deepEqual(s.stats.snapshot().failed, { '486': 1 });
  assert.equal(s.stats.connected, 0);
  assert.equal(s.stats.legsUp, 0);
  assert.deepEqual(res.sent, [], 'drachtio-srf already passed the failure to the A leg');
  const end = s.lines.find((l) => l.msg === 'call ended');
  assert.equal(end?.status, 486);
  assert.equal(end?.setupMs, 15);
});

test('an unexpected error answers 500 on the A leg if nothing was sent yet', async () => {
  const s = setup();
  const res = new FakeResponse();
  const done = bridgeCall(s.ctx, fakeRequest(), res);
  await settle();
  s.srf.calls[0]!.reject(new TypeError('boom'));
  await done;
  assert.deepEqual(res.sent, [500]);
  assert.deepEqual(s.stats.snapshot().failed, { '500': 1 });
});

test('a B leg that cannot be placed on every call: 500 each, counted, one ERR_B2BUA_LEG_FAILED line a window', async () => {
  const s = setup();
  const ctx: BridgeContext = { ...s.ctx, refusals: new RateLimitedLog(s.ctx.log, s.clock, { intervalMs: 10_000 }) };
  for (let i = 0; i < 10; i++) {
    const res = new FakeResponse();
    const done = bridgeCall(ctx, fakeRequest(), res);
    await settle();
    s.srf.calls[i]!.reject(new Error('no route to the target'));
    await done;
    assert.deepEqual(res.sent, [500]);
  }
  assert.deepEqual(s.stats.snapshot().failed, { '500': 10 });
  const lines = s.lines.filter((l) => l.code === 'ERR_B2BUA_LEG_FAILED' && (l.level as number) >= 40);
  assert.equal(lines.length, 1, 'one line for ten calls');
  assert.match(String(lines[0]!.msg), /the B leg could not be placed/);
});

test('an unexpected error after a final response sends nothing more', async () => {
  const s = setup();
  const res = new FakeResponse();
  res.finalResponseSent = true;
  const done = bridgeCall(s.ctx, fakeRequest(), res);
  await settle();
  s.srf.calls[0]!.reject(new Error('late'));
  await done;
  assert.deepEqual(res.sent, []);
});

test('failures are tallied per status, sorted', () => {
  const stats = new CallStats();
  for (const st of [503, 486, 503, 408]) stats.fail(st);
  const snap = stats.snapshot();
  assert.deepEqual(Object.entries(snap.failed), [['408', 1], ['486', 1], ['503', 2]]);
  assert.equal(snap.failedTotal, 4);
});

test("sipErrorStatus reads drachtio-srf's own SipError and nothing else", () => {
  const require = createRequire(import.meta.url);
  const SipError = require('drachtio-srf').SipError as new (status: number) => Error;
  assert.equal(sipErrorStatus(new SipError(404)), 404);
  assert.equal(sipErrorStatus(new Error('x')), undefined);
  assert.equal(sipErrorStatus(Object.assign(new Error('x'), { status: 404 })), undefined);
  assert.equal(sipErrorStatus(null), undefined);
});

test('policy bridge calls get one CDR each: answered with its times and who hung up; failed with the B leg\'s status; cancelled', async () => {
  const records: Array<Record<string, unknown>> = [];
  const s = setup();
  s.ctx.onCdr = (r) => records.push(r as unknown as Record<string, unknown>);
  const res = new FakeResponse();
  const done = bridgeCall(s.ctx, fakeRequest(), res);
  await settle();
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  s.clock.advance(40);
  s.srf.calls[0]!.resolve({ uas, uac });
  await done;
  assert.equal(records.length, 0, 'no record while the call is up');
  s.clock.advance(2_000);
  uac.remoteBye();
  uas.answerBye();
  assert.equal(records.length, 1);
  assert.equal(records[0]!.callId, 'a-leg-1@10.0.0.1');
  assert.equal(records[0]!.calledNumber, '15551234567');
  assert.equal(records[0]!.status, 200);
  assert.equal(records[0]!.releasedBy, 'callee');
  assert.equal(records[0]!.cause, 'normal');

  for (const [status, cause, by] of [[486, 'b-leg-486', 'callee'], [487, 'cancelled', 'caller']] as const) {
    const r = bridgeCall(s.ctx, fakeRequest(`c-${status}`), new FakeResponse());
    await settle();
    s.srf.calls[s.srf.calls.length - 1]!.reject(sipError(status));
    await r;
    const rec: Record<string, unknown> = records[records.length - 1]!;
    assert.deepEqual([rec.callId, rec.status, rec.cause, rec.releasedBy], [`c-${status}`, status, cause, by]);
  }
  assert.equal(records.length, 3);
});

test('policy bridge: gateway.calls.maxDurationSeconds ends a connected call with a BYE and its Reason on both legs', async () => {
  const s = setup();
  const records: Array<Record<string, unknown>> = [];
  const ctx: BridgeContext = { ...s.ctx, maxDurationMs: 60_000, onCdr: (r) => records.push(r as unknown as Record<string, unknown>) };
  const done = bridgeCall(ctx, fakeRequest(), new FakeResponse());
  await settle();
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  s.srf.calls[0]!.resolve({ uas, uac });
  await done;
  s.clock.advance(59_999);
  assert.equal(uas.destroyCalls + uac.destroyCalls, 0, 'up until the limit');
  s.clock.advance(1);
  const reason = 'SIP;cause=200;text="Maximum call duration of 60 s reached"';
  assert.deepEqual([uas.destroyOpts[0]?.headers?.Reason, uac.destroyOpts[0]?.headers?.Reason], [reason, reason]);
  uas.answerBye();
  uac.answerBye();
  assert.deepEqual([records[0]!.cause, records[0]!.releasedBy, records[0]!.reason], ['max-duration', 'gateway', reason]);
  assert.deepEqual(s.stats.snapshot().endedByGateway, { 'max-duration': 1 });
});
