import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActiveCalls, ADMIN_CAUSE, ADMIN_REASON } from '../../../../src/b2bua/index.js';
import { v8Gc } from '../../../../src/common/full-gc.js';
import { settle, sipError } from '../fake-srf.js';
import { deps, FakeDialog } from '../pipeline-fakes.js';
import { cdrOf, offer, start } from './place-call-rig.js';

test('place-call: a call being placed is listed as ringing; cleared, its B leg is cancelled, no other target is tried, the caller gets 480 and the CDR says admin', async () => {
  const active = new ActiveCalls({ clock: deps().clock });
  const s = start('+442071234567', 'pbx', offer, { active });
  const first = await s.srf.attempt(0);
  let cancelled = 0;
  first.cbRequest(null, { cancel: () => { cancelled++; } });
  const listed = active.list(10).calls;
  assert.deepEqual(listed.map((c) => [c.state, c.answerAt, c.calledNumber, c.callIds]), [['ringing', null, '+442071234567', ['c1']]]);
  assert.deepEqual(listed.map((c) => [c.dialPeer, c.tenantOut]), [['intl', 'carrier']], 'the dial peer being tried');
  const hung = active.hangUp(listed[0]!.id, ADMIN_CAUSE, ADMIN_REASON);
  assert.equal(cancelled, 1, 'the B leg\'s INVITE was cancelled');
  first.res.send(487);
  const r = await hung;
  assert.equal(r.outcome, 'ended');
  assert.equal(s.srf.attempts.length, 1, 'no failover after a clear');
  assert.equal(s.res.status, 480);
  assert.equal(s.res.reasonHeader, 'SIP;cause=480;text="Call cleared by the administrator"');
  const cdr = cdrOf(s.lines)!;
  assert.deepEqual([cdr.cause, cdr.status, cdr.releasedBy], ['admin', 480, 'gateway']);
  assert.equal(active.list(10).total, 0);
});

test('place-call: a ringing call that is answered stays in the list under the same id, connected', async () => {
  const active = new ActiveCalls({ clock: deps().clock });
  const s = start('+442071234567', 'pbx', offer, { active });
  const first = await s.srf.attempt(0);
  const id = active.list(10).calls[0]!.id;
  first.resolve({ uas: new FakeDialog(), uac: new FakeDialog() });
  await settle();
  assert.deepEqual(active.list(10).calls.map((c) => [c.id, c.state]), [[id, 'connected']]);
});

test('place-call: a ringing call ended by a shutdown gets the shutdown\'s 503 and Reason, not 480', async () => {
  const active = new ActiveCalls({ clock: deps().clock });
  const s = start('+442071234567', 'pbx', offer, { active });
  const first = await s.srf.attempt(0);
  first.cbRequest(null, { cancel: () => undefined });
  assert.equal(active.endAll('shutdown', 'SIP;cause=503;text="Gateway shutting down: call ended after the drain time"'), 1);
  await active.drained();
  assert.equal(s.res.status, 503);
  assert.equal(s.res.reasonHeader, 'SIP;cause=503;text="Gateway shutting down: call ended after the drain time"');
  assert.equal(cdrOf(s.lines)!.cause, 'shutdown');
});

test('place-call: an app that goes away while a call rings writes that call\'s one CDR at once (503, app-lost, the engine\'s Reason)', async () => {
  const active = new ActiveCalls({ clock: deps().clock });
  const s = start('+442071234567', 'pbx', offer, { active });
  (await s.srf.attempt(0)).reject(sipError(503));
  const second = await s.srf.attempt(1);
  const lost = 'SIP;cause=503;text="application disconnected"';
  assert.equal(active.abandonAll('app-lost', lost), 1, 'the ringing call is recorded');
  const cdrs = () => s.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
  assert.deepEqual(cdrs().map((c) => [c.status, c.cause, c.releasedBy, c.reason, c.attempts]), [[503, 'app-lost', 'gateway', lost, 1]]);
  // The record names the B leg under way (the dial peer's second server, sbc2, after sbc1's 503), as the call list does.
  assert.deepEqual(cdrs().map((c) => [c.dialPeer, c.tenantOut, c.transportOut]), [['intl', 'carrier', 'tls']]);
  assert.deepEqual((cdrs()[0]!.targets as Array<{ uri: string }>).map((t) => t.uri.includes('sbc1')), [true], 'the first server\'s attempt is the one that ended');
  // Had the thread gone on, the attempt's own end would not write a second record.
  second.reject(sipError(487));
  await settle();
  assert.equal(cdrs().length, 1, 'one CDR per call');
});

// What a connected call keeps: the call list holds the call's setup (its hang-up reaches the attempt under way) until
// the call ends. Once the attempt is over, the setup lets it go, so the B leg's INVITE and what it reaches can be
// collected while the call is up (kept, they were promoted with every call of a fresh process: docs/performance.md).
test('place-call: an answered call keeps nothing of its finished B-leg attempt while it stays listed', async () => {
  const active = new ActiveCalls({ clock: deps().clock });
  const s = start('+442071234567', 'pbx', offer, { active });
  // In a function of its own, so no suspended frame of this test keeps the attempt's objects.
  const answer = async (): Promise<WeakRef<object>> => {
    const first = await s.srf.attempt(0);
    const bLegInvite = { cancel: () => undefined };
    first.cbRequest(null, bLegInvite);
    first.resolve({ uas: new FakeDialog(), uac: new FakeDialog() });
    return new WeakRef(bLegInvite);
  };
  const bLegInvite = await answer();
  await settle();
  assert.deepEqual(active.list(10).calls.map((c) => c.state), ['connected']);
  // The scripted srf keeps what each attempt was given; drachtio-srf forgets it once the INVITE is answered.
  s.srf.attempts.length = 0;
  await new Promise((r) => setImmediate(r));
  v8Gc()();
  assert.equal(bLegInvite.deref(), undefined, 'the finished attempt\'s B-leg INVITE is still reachable from the listed call');
  assert.equal(active.list(10).total, 1, 'the call is still listed');
});
