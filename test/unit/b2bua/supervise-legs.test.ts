import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { ActiveCalls, CallStats, superviseLegs, type CallEnd } from '../../../src/b2bua/index.js';
import { captureLog, FakeLeg } from './fake-srf.js';

function call(o: { maxDurationMs?: number } = {}) {
  const stats = new CallStats();
  const clock = new ManualClock(0);
  const { log, lines } = captureLog();
  const ends: CallEnd[] = [];
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  const control = superviseLegs({ stats, log, callId: 'c1', clock, ...o, onEnded: (e) => ends.push(e) }, { uas, uac });
  return { stats, clock, lines, ends, uas, uac, control };
}

/** Two supervised calls registered in one call list. */
function twoCallsListed() {
  const active = new ActiveCalls();
  const a = call();
  const b = call();
  const facts = { callIds: ['c'], tenantIn: null, tenantOut: null, dialPeer: null, callingNumber: null, calledNumber: null, startAt: 0, answerAt: 0 };
  active.add(a.control, facts);
  active.add(b.control, facts);
  return { active, a, b };
}

test('a BYE that fails is counted and logged with its code, and the leg is released all the same', () => {
  const c = call();
  c.uac.remoteBye();
  c.uas.answerBye(new Error('unable to find dialog'));
  assert.equal(c.stats.legsUp, 0);
  assert.equal(c.stats.byeFailed, 1);
  assert.equal(c.ends[0]?.byeFailed, 1);
  const line = c.lines.find((l) => l.code === 'ERR_B2BUA_BYE_FAILED');
  assert.ok(line, 'one coded line for the failed BYE');
  assert.equal(line.level, 40);
  assert.equal(line.leg, 'A');
});

test('end(): a BYE with the Reason on both legs, one CDR-end with the cause, counted by cause; a second end is ignored', () => {
  const c = call();
  const reason = 'SIP;cause=408;text="Session timer expired on leg B: no refresh within 2 s"';
  c.control.end('session-expired', reason);
  c.control.end('max-duration', 'SIP;cause=200;text="x"');
  assert.deepEqual(c.uas.destroyOpts, [{ headers: { Reason: reason } }]);
  assert.deepEqual(c.uac.destroyOpts, [{ headers: { Reason: reason } }]);
  c.uas.answerBye();
  assert.equal(c.ends.length, 0, 'not ended while a leg is up');
  c.uac.answerBye();
  assert.deepEqual(c.ends, [{ releasedBy: 'gateway', cause: 'session-expired', reason, byeFailed: 0, reasonA: reason, reasonB: reason }],
    'each leg ended with our BYE and its Reason');
  assert.deepEqual(c.stats.snapshot().endedByGateway, { 'session-expired': 1 });
  assert.equal(c.control.ended, true);
});

test('the maximum duration ends a connected call with BYE on both legs', () => {
  const c = call({ maxDurationMs: 60_000 });
  c.clock.advance(59_999);
  assert.equal(c.uas.destroyCalls, 0);
  c.clock.advance(1);
  assert.equal(c.uas.destroyCalls, 1);
  assert.equal(c.uac.destroyCalls, 1);
  assert.match(c.uas.destroyOpts[0]?.headers?.Reason ?? '', /^SIP;cause=200;text="Maximum call duration of 60 s reached"$/);
  c.uas.answerBye();
  c.uac.answerBye();
  assert.equal(c.ends[0]?.cause, 'max-duration');
});

test('a leg the engine ended by itself (lost connection) ends the other with a Reason naming it', () => {
  const c = call();
  c.uac.engineBye('SIP;text="Connection lost"');
  assert.equal(c.uas.destroyCalls, 1);
  assert.equal(c.uas.destroyOpts[0]?.headers?.Reason, 'SIP;cause=502;text="Called party lost: Connection lost"');
  c.uas.answerBye();
  assert.equal(c.ends[0]?.releasedBy, 'engine');
  assert.equal(c.ends[0]?.cause, 'engine:Connection lost');
  assert.equal(c.stats.endedByEngine, 1);
  assert.equal(c.ends[0]?.reasonB, 'SIP;text="Connection lost"', 'the B leg ended with the engine\'s BYE and its Reason');
  assert.equal(c.ends[0]?.reasonA, 'SIP;cause=502;text="Called party lost: Connection lost"', 'the A leg with ours');
});

test('a normal hang-up timer is cancelled: the maximum duration never fires after the call ended', () => {
  const c = call({ maxDurationMs: 1_000 });
  c.uas.remoteBye();
  c.uac.answerBye();
  c.clock.advance(5_000);
  assert.equal(c.uac.destroyCalls, 1);
  assert.equal(c.clock.pending, 0);
  assert.deepEqual(c.stats.snapshot().endedByGateway, {});
});

test('ActiveCalls: endAll ends each call, and drained() resolves when the last one is released', async () => {
  const { active, a, b } = twoCallsListed();
  assert.equal(active.size, 2);
  let drained = false;
  const waiting = active.drained().then(() => { drained = true; });
  assert.equal(active.endAll('shutdown', 'SIP;cause=503;text="Gateway shutting down"'), 2);
  for (const c of [a, b]) {
    c.uas.answerBye();
    c.uac.answerBye();
  }
  await waiting;
  assert.equal(drained, true);
  assert.equal(active.size, 0);
  assert.equal(a.ends[0]?.cause, 'shutdown');
});

test('abandon(): the call is recorded as ended at once with the cause, without BYEs; its legs count released once', () => {
  const c = call({ maxDurationMs: 60_000 });
  const reason = 'SIP;cause=503;text="application disconnected"';
  c.control.abandon('app-lost', reason);
  assert.deepEqual(c.ends, [{ releasedBy: 'gateway', cause: 'app-lost', reason, byeFailed: 0 }]);
  assert.equal(c.uas.destroyCalls + c.uac.destroyCalls, 0, 'no BYE of ours: the app is going away');
  assert.equal(c.control.ended, true);
  assert.deepEqual([c.stats.legsUp, c.stats.active, c.stats.completed], [0, 0, 1]);
  // Whatever comes later changes nothing: a second abandon, the far end's BYE, the maximum duration.
  c.control.abandon('app-lost', reason);
  c.uac.remoteBye();
  c.clock.advance(60_000);
  assert.equal(c.ends.length, 1);
  assert.deepEqual([c.stats.legsUp, c.stats.completed], [0, 1]);
});

test('abandon() while a hang-up is under way keeps who hung up, and ActiveCalls.abandonAll records every call up', () => {
  const { active, a, b } = twoCallsListed();
  a.uas.remoteBye(); // the caller hung up; our BYE towards B is out
  assert.equal(active.abandonAll('app-lost', 'SIP;cause=503;text="application disconnected"'), 2);
  assert.deepEqual([a.ends[0]?.releasedBy, a.ends[0]?.cause], ['caller', 'normal']);
  assert.deepEqual([b.ends[0]?.releasedBy, b.ends[0]?.cause], ['gateway', 'app-lost']);
  assert.equal(active.size, 0);
});

test('supervise-legs: 50 calls whose BYE to the caller fails: each counted and released, one ERR_B2BUA_BYE_FAILED line for that caller', () => {
  const l = captureLog();
  const refusals = new RateLimitedLog(l.log, new ManualClock(0), { intervalMs: 10_000 });
  const stats = new CallStats();
  for (let i = 0; i < 50; i++) {
    const uas = new FakeLeg();
    const uac = new FakeLeg();
    superviseLegs({ stats, log: l.log, callId: `c${i}`, refusals, sources: { A: '127.0.0.1', B: 'dial-peer:intl' }, onEnded: () => undefined }, { uas, uac });
    uac.remoteBye();
    uas.answerBye(new Error('BYE answered 500'));
  }
  assert.equal(stats.byeFailed, 50);
  assert.equal(stats.legsUp, 0);
  assert.equal(stats.completed, 50);
  const lines = l.lines.filter((x) => x.code === 'ERR_B2BUA_BYE_FAILED' && (x.level as number) >= 30);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.leg, 'A');
  assert.equal(lines[0]!.level, 40);
});

test('supervise-legs: 50 calls a peer lets expire and 50 it loses a leg on: each counted by cause, one ERR_B2BUA_CALL_ENDED line per cause', () => {
  const l = captureLog();
  const refusals = new RateLimitedLog(l.log, new ManualClock(0), { intervalMs: 10_000 });
  const stats = new CallStats();
  for (let i = 0; i < 100; i++) {
    const control = superviseLegs({ stats, log: l.log, callId: `c${i}`, refusals, onEnded: () => undefined }, { uas: new FakeLeg(), uac: new FakeLeg() });
    if (i % 2 === 0) control.end('session-expired', 'SIP;cause=408;text="Session timer expired on leg A: no refresh within 90 s"');
    else control.end('leg-lost', 'SIP;cause=481;text="Leg B lost: an in-dialog request got 481"');
  }
  assert.deepEqual(stats.snapshot().endedByGateway, { 'session-expired': 50, 'leg-lost': 50 });
  const lines = l.lines.filter((x) => x.msg === 'b2bua: the gateway ends the call');
  assert.deepEqual(lines.map((x) => [x.code, x.cause]), [['ERR_B2BUA_CALL_ENDED', 'session-expired'], ['ERR_B2BUA_CALL_ENDED', 'leg-lost']]);
});

test('the caller\'s BYE crossing ours (maximum duration) sends no second BYE to the callee: one BYE with the Reason, no failed BYE', () => {
  const c = call({ maxDurationMs: 60_000 });
  c.clock.advance(60_000);
  const reason = 'SIP;cause=200;text="Maximum call duration of 60 s reached"';
  assert.deepEqual([c.uas.destroyOpts, c.uac.destroyOpts], [[{ headers: { Reason: reason } }], [{ headers: { Reason: reason } }]]);
  c.uas.remoteBye();
  assert.equal(c.uac.destroyCalls, 1, 'the callee has our BYE already');
  c.uac.answerBye();
  c.uas.answerBye();
  assert.equal(c.ends.length, 1);
  assert.deepEqual([c.ends[0]?.cause, c.ends[0]?.byeFailed, c.stats.byeFailed], ['max-duration', 0, 0]);
  assert.equal(c.lines.filter((l) => l.code === 'ERR_B2BUA_BYE_FAILED').length, 0);
});
