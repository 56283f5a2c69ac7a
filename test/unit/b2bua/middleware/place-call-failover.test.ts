// When a failed attempt moves on to the next dial peer, and when it may not: early media the caller already has makes
// the failure final; a 503's Retry-After keeps the next calls off that target; the call's setup stays within the
// engine's final-answer time (480, not the engine's 503); the CDR names one attempt, a name that did not resolve too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { B2buaPolicy, CallLimitsPolicy } from '../../../../src/b2bua/index.js';
import { settle } from '../fake-srf.js';
import { deps } from '../pipeline-fakes.js';
import { offer } from './place-call-rig.js';
import { call, failure, sdpA, twoTrunks } from './place-call-failover-rig.js';

test('failover: a 183 with SDP reached the caller, then the trunk answers 503: no second attempt, the caller gets the failure', async () => {
  const g = call();
  const a = await g.srf.attempt(0);
  a.cbRequest(null, { cancel: () => undefined });
  a.res.send(183, 'Session Progress', { body: sdpA, headers: { 'Content-Type': 'application/sdp' } });
  a.reject(failure(503));
  await settle();
  assert.equal(g.srf.attempts.length, 1, 'the second dial peer is not tried');
  assert.deepEqual(g.res.sent.map((s) => s.status), [183, 503]);
  const cdr = g.cdrs()[0]!;
  assert.deepEqual([cdr.status, cdr.cause, cdr.attempts, cdr.dialPeer], [503, 'b-leg-503', 1, 'first']);
  assert.ok(g.lines.some((l) => l.code === 'ERR_B2BUA_LEG_FAILED' && l.earlyMedia === true), 'logged as a failover refused for early media');
});

test('failover: a 180 without SDP, then 503: the next dial peer is still tried', async () => {
  const g = call();
  const a = await g.srf.attempt(0);
  a.cbRequest(null, { cancel: () => undefined });
  a.res.send(180, 'Ringing', {});
  a.reject(failure(503));
  const b = await g.srf.attempt(1);
  assert.match(b.uri, /192\.0\.2\.2/);
});

test('failover: a 503 with Retry-After keeps the next calls off that trunk for that long, at most 300 s', async () => {
  // A policy of its own: the hold-offs are the policy's (a reload starts with none).
  const p: B2buaPolicy = { ...twoTrunks };
  const shared = deps(p);
  const first = call(p, shared);
  const a = await first.srf.attempt(0);
  assert.match(a.uri, /192\.0\.2\.1/);
  a.reject(failure(503, { 'Retry-After': '86400 (maintenance)' }));
  const b = await first.srf.attempt(1);
  assert.match(b.uri, /192\.0\.2\.2/);
  assert.ok(shared.lines.some((l) => l.code === 'ERR_B2BUA_LEG_FAILED' && l.retryAfterSeconds === 300), 'held off, capped at 300 s, logged');

  const second = call(p, shared);
  const c = await second.srf.attempt(0);
  assert.match(c.uri, /192\.0\.2\.2/, 'the held-off trunk gets no INVITE');
  c.reject(failure(486));
  await settle();
  assert.equal(second.srf.attempts.length, 1);

  shared.clock.advance(300_000);
  const third = call(p, shared);
  assert.match((await third.srf.attempt(0)).uri, /192\.0\.2\.1/, 'tried again once the time is over');
});

test('failover: when every target is held off they are tried all the same', async () => {
  const p: B2buaPolicy = { ...twoTrunks };
  const shared = deps(p);
  const first = call(p, shared);
  (await first.srf.attempt(0)).reject(failure(503, { 'Retry-After': '60' }));
  (await first.srf.attempt(1)).reject(failure(503, { 'Retry-After': '60' }));
  await settle();
  const second = call(p, shared);
  assert.match((await second.srf.attempt(0)).uri, /192\.0\.2\.1/);
});

test('failover: a call ringing past the setup limit (below the engine\'s final-answer time) is cancelled and answered 480', async () => {
  const p: B2buaPolicy = { ...twoTrunks, calls: { appFinalTimeoutMs: 20_000 } as CallLimitsPolicy };
  const g = call(p);
  const a = await g.srf.attempt(0);
  let cancels = 0;
  a.cbRequest(null, { cancel: () => void cancels++ });
  a.res.send(180, 'Ringing', {});
  g.clock.advance(17_999);
  await settle();
  assert.equal(cancels, 0);
  g.clock.advance(1);
  await settle();
  assert.equal(cancels, 1, 'the ringing B leg is cancelled');
  assert.equal(g.srf.attempts.length, 1, 'no other dial peer is tried');
  assert.equal(g.res.status, 480);
  assert.match(String(g.res.reasonHeader), /^SIP;cause=480;text="No answer within 18 s/);
  const cdr = g.cdrs()[0]!;
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy], [480, 'no-answer', 'gateway']);
});

test('failover: without the engine\'s time in the policy the setup limit is 175 s (its default 180 s less 5 s)', async () => {
  const g = call();
  const a = await g.srf.attempt(0);
  a.cbRequest(null, { cancel: () => undefined });
  g.clock.advance(174_999);
  await settle();
  assert.equal(g.res.finalResponseSent, false);
  g.clock.advance(1);
  await settle();
  assert.equal(g.res.status, 480);
});

test('cdr: a dns: target that does not resolve is in the CDR: its attempt, dial peer, tenant and destination', async () => {
  const p: B2buaPolicy = { ...twoTrunks, tenants: { ...twoTrunks.tenants, one: { transport: 'udp', sipServer: 'dns:itsp.example' } } };
  const g = call(p, undefined, { resolve: async () => ({ ok: false, code: 'ERR_B2BUA_DNS', reason: 'itsp.example: ENOTFOUND' }) });
  const b = await g.srf.attempt(0);
  assert.match(b.uri, /192\.0\.2\.2/);
  b.reject(failure(486));
  await settle();
  const cdr = g.cdrs()[0]!;
  const targets = cdr.targets as Array<Record<string, unknown>>;
  assert.deepEqual(targets.map((t) => [t.dialPeer, t.outcome, t.status]), [['first', 'unreachable', null], ['second', 'rejected', 486]]);
  assert.match(String(targets[0]!.reason), /Trunk name does not resolve/);
  assert.equal(targets[0]!.uri, 'sip:+442071234567@itsp.example');
});

test('cdr: a call whose only target does not resolve names that target', async () => {
  const p: B2buaPolicy = { ...twoTrunks, dialPeers: [{ id: 'itsp', destinationPattern: '^\\+', tenant: 'one', preference: 1 }],
    tenants: { ...twoTrunks.tenants, one: { transport: 'udp', sipServer: 'dns:itsp.example' } } };
  const g = call(p, undefined, { resolve: async () => ({ ok: false, code: 'ERR_B2BUA_DNS', reason: 'itsp.example: ENOTFOUND' }) });
  for (let k = 0; k < 10; k++) await settle();
  assert.equal(g.res.status, 503);
  const cdr = g.cdrs()[0]!;
  assert.deepEqual([cdr.dialPeer, cdr.tenantOut, cdr.destination, (cdr.targets as unknown[]).length], ['itsp', 'one', 'sip:+442071234567@itsp.example', 1]);
});

test('cdr: the dial peer and the destination come from the same attempt when a later target\'s offer is refused', async () => {
  // two allows no SRTP suite pbx does: its offer is refused (488) before any INVITE.
  const p: B2buaPolicy = { ...twoTrunks, tenants: { ...twoTrunks.tenants, two: { transport: 'udp', sipServer: '192.0.2.2:5060', srtpCrypto: ['AES_256_CM_HMAC_SHA1_80'] } } };
  const g = call(p, undefined, {}, offer);
  (await g.srf.attempt(0)).reject(failure(503));
  for (let k = 0; k < 10; k++) await settle();
  assert.equal(g.srf.attempts.length, 1);
  const cdr = g.cdrs()[0]!;
  const targets = cdr.targets as Array<Record<string, unknown>>;
  assert.deepEqual(targets.map((t) => t.outcome), ['rejected', 'offer-refused']);
  const named = targets.find((t) => t.uri === cdr.destination);
  assert.ok(named, 'the destination is one attempt\'s');
  assert.deepEqual([named.dialPeer, named.tenant, named.transport], [cdr.dialPeer, cdr.tenantOut, cdr.transportOut]);
});
