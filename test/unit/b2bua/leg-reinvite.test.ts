import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallStats, LegSessionTimer } from '../../../src/b2bua/index.js';
import { passThrough } from '../../../src/b2bua/pass-through.js';
import { ManualClock } from '../../../src/common/index.js';
import { captureLog } from './fake-srf.js';
import { inDialog } from './pass-through-rig.js';
import { realDialog, turns, type RealDialog } from './real-dialog.js';

const sdp = (version: number, port: number, dir: string) => `v=0\r\no=- 7 ${version} IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=${dir}\r\n`;
const SETUP_A = sdp(1, 4000, 'sendrecv'); // our 200 to the caller at setup: B's answer
const SETUP_B = sdp(1, 6000, 'sendrecv'); // our INVITE to B at setup: A's offer
const HOLD = sdp(2, 6000, 'sendonly'); // A's hold
const HELD = sdp(2, 5000, 'recvonly'); // B's answer to it, on a new port

function answers() {
  const sent: Array<{ status: number; reason?: string | undefined; body?: string | undefined }> = [];
  const res = { send: (status: number, o?: { body?: string; headers?: Record<string, string> }) => void sent.push({ status, reason: o?.headers?.Reason, body: o?.body }) };
  return { sent, res };
}

function call(a: RealDialog, b: RealDialog) {
  const stats = new CallStats();
  const lost: string[] = [];
  passThrough({ log: captureLog().log, callId: 'c1', stats, onLegLost: (leg, s) => lost.push(`${leg} ${s}`) }, { uas: a.leg, uac: b.leg });
  return { stats, lost };
}

function refresher(d: RealDialog, name: 'A' | 'B', clock: ManualClock) {
  const events: string[] = [];
  const t = new LegSessionTimer({
    leg: d.leg, name, seconds: 90, weRefresh: true, method: 'INVITE', clock,
    onExpired: (l, s) => events.push(`expired ${l} ${s}`), onRefreshFailed: (l, s) => events.push(`failed ${l} ${s}`),
  });
  return { t, events };
}

test('a re-INVITE B answers 491 (glare) goes back to A, and the next one on that leg is sent and answered: one refused offer does not block the leg', async () => {
  const a = realDialog(SETUP_A);
  const b = realDialog(SETUP_B, [{ status: 491, reason: 'Request Pending', before: [100] }, { status: 200, body: HELD, before: [100, 180] }]);
  call(a, b);
  const { sent, res } = answers();
  a.leg.emit('modify', inDialog(HOLD), res);
  await turns();
  assert.deepEqual(sent, [{ status: 491, reason: 'SIP;cause=491;text="Request Pending (answered by leg B)"', body: undefined }]);
  assert.equal(b.leg.local.sdp, SETUP_B, 'an offer B refused is not what B holds');
  a.leg.emit('modify', inDialog(HOLD), res);
  await turns();
  assert.deepEqual(b.sent.map((s) => [s.method, s.body]), [['INVITE', HOLD], ['INVITE', HOLD]]);
  assert.deepEqual(b.acks, [491, 200], 'every final answer ACKed once; provisional ones waited through');
  assert.equal(sent[1]?.status, 200);
  assert.equal(sent[1]?.body, HELD);
  assert.equal(b.leg.local.sdp, HOLD);
  assert.equal(b.sent[0]?.headers?.Contact, '<sip:gw@192.0.2.1>', 'the re-INVITE carries our Contact (RFC 3261 §8.1.1.8)');
});

test('after a relayed re-INVITE B answered 491, B\'s session refresh still goes out and keeps the call: no session-expired on a healthy call', async () => {
  const a = realDialog(SETUP_A);
  const b = realDialog(SETUP_B, [{ status: 491 }, { status: 200, body: SETUP_A }]);
  call(a, b);
  a.leg.emit('modify', inDialog(HOLD), answers().res);
  await turns();
  const clock = new ManualClock(0);
  const s = refresher(b, 'B', clock);
  clock.advance(45_000);
  await turns();
  assert.equal(b.sent.length, 2, 'the refresh went out');
  clock.advance(45_000);
  assert.deepEqual(s.events, [], 'refreshed at 45 s: the session lives on');
  s.t.stop();
});

test('a session refresh answered 491 is sent again after the RFC 3261 §14.1 wait, before the session expires', async () => {
  const b = realDialog(SETUP_B, [{ status: 491 }, { status: 200, body: SETUP_A }]);
  const clock = new ManualClock(0);
  const s = refresher(b, 'B', clock);
  clock.advance(45_000);
  await turns();
  assert.equal(b.sent.length, 1);
  clock.advance(2_999);
  await turns();
  assert.equal(b.sent.length, 1, 'not before 3 s (2.1 to 4 s for the Call-ID\'s owner)');
  clock.advance(1);
  await turns();
  assert.deepEqual(b.sent.map((x) => x.body), [SETUP_B, SETUP_B], 'the same, unchanged SDP');
  clock.advance(42_000);
  assert.deepEqual(s.events, []);
  s.t.stop();
});

test('glare: a re-INVITE from a leg our re-INVITE is still out on gets 491, and one for a leg with an INVITE in progress is not sent (RFC 3261 §14.1, §14.2)', async () => {
  const a = realDialog(SETUP_A);
  const b = realDialog(SETUP_B); // never answers: our refresh stays in progress
  const { stats } = call(a, b);
  const clock = new ManualClock(0);
  const s = refresher(b, 'B', clock);
  clock.advance(45_000);
  await turns();
  assert.equal(b.sent.length, 1);
  const fromB = answers();
  b.leg.emit('modify', inDialog(sdp(2, 5000, 'sendrecv')), fromB.res);
  const fromA = answers();
  a.leg.emit('modify', inDialog(HOLD), fromA.res);
  await turns();
  assert.deepEqual(fromB.sent.map((x) => x.status), [491]);
  assert.match(fromB.sent[0]?.reason ?? '', /^SIP;cause=491;text="Request Pending/);
  assert.deepEqual(fromA.sent.map((x) => [x.status, x.reason]), [[491, 'SIP;cause=491;text="Request Pending: a re-INVITE is in progress on leg B"']]);
  assert.equal(b.sent.length, 1, 'nothing more was sent to B');
  assert.equal(a.sent.length, 0, 'nothing was sent to A');
  assert.deepEqual(stats.snapshot().inDialogRefused, { 491: 2 });
  s.t.stop();
});

test('after a relayed hold, the refresh re-INVITE to A offers the SDP of the last 200 A was sent, and an offerless re-INVITE from A is answered with it', async () => {
  const a = realDialog(SETUP_A, [{ status: 200, body: HOLD }]);
  const b = realDialog(SETUP_B, [{ status: 200, body: HELD }]);
  call(a, b);
  const hold = answers();
  a.leg.emit('modify', inDialog(HOLD), hold.res);
  await turns();
  assert.deepEqual(hold.sent.map((x) => [x.status, x.body]), [[200, HELD]]);
  const clock = new ManualClock(0);
  const s = refresher(a, 'A', clock);
  clock.advance(45_000);
  await turns();
  assert.deepEqual(a.sent.map((x) => [x.method, x.body]), [['INVITE', HELD]], 'the held session, its version unchanged (RFC 3264 §8)');
  const offerless = answers();
  a.leg.emit('modify', inDialog(), offerless.res);
  assert.deepEqual(offerless.sent.map((x) => [x.status, x.body]), [[200, HELD]]);
  s.t.stop();
});

test('an UPDATE with an offer that B answers 2xx: each leg\'s SDP is what it was sent, and A\'s refresh offers the UPDATE\'s answer', async () => {
  const a = realDialog(SETUP_A, [{ status: 200, body: HOLD }]);
  const b = realDialog(SETUP_B, [{ status: 200, body: HELD, headers: { 'Content-Type': 'application/sdp' } }]);
  call(a, b);
  const upd = answers();
  a.leg.emit('update', inDialog(HOLD, { 'Content-Type': 'application/sdp' }), upd.res);
  await turns();
  assert.deepEqual(upd.sent.map((x) => [x.status, x.body]), [[200, HELD]]);
  assert.deepEqual([a.leg.local.sdp, b.leg.local.sdp], [HELD, HOLD]);
  const clock = new ManualClock(0);
  const s = refresher(a, 'A', clock);
  clock.advance(45_000);
  await turns();
  assert.deepEqual(a.sent.map((x) => x.body), [HELD]);
  s.t.stop();
});
