import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapPermissions, placeCall, type ActiveCalls, type B2buaPolicy, type PlaceCallDeps } from '../../../../src/b2bua/index.js';
import { RateLimitedLog } from '../../../../src/log/index.js';
import { selectDialPeers } from '../../../../src/policy/index.js';
import { settle, sipError } from '../fake-srf.js';
import { deps, FakeRes, fakeInvite, policy, ScriptedSrf } from '../pipeline-fakes.js';
import { cdrOf, offer } from './place-call-rig.js';

/** The pipeline's deps with a rate-limited refusal log, as start-b2bua gives them. */
function limited(p: B2buaPolicy = policy) {
  const d = deps(p);
  const refusals = new RateLimitedLog(d.deps.log, d.clock, { intervalMs: 10_000 });
  const coded = (code: string) => d.lines.filter((l) => l.code === code && (l.level as number) >= 30);
  return { ...d, deps: { ...d.deps, refusals }, coded };
}

/** One call from 127.0.0.1 through placeCall, with its own INVITE headers. */
function call(d: ReturnType<typeof limited>, extra: Partial<PlaceCallDeps>, o: { body?: string; headers?: Record<string, string>; callId?: string } = {}) {
  const srf = new ScriptedSrf();
  const req = fakeInvite({ body: o.body ?? offer, ...(o.headers ? { headers: o.headers } : {}) });
  req.locals = {
    callId: o.callId ?? 'c1', startedAt: d.clock.now(), log: d.deps.log, identities: [], tenantIn: 'pbx', transportIn: 'udp',
    calledNumber: '+442071234567', category: 'international', dialPeers: selectDialPeers('+442071234567', 'pbx', d.deps.policy.dialPeers),
  };
  const res = new FakeRes();
  placeCall({ ...d.deps, srf, ...extra })(req, res, () => assert.fail('place-call is the last step'));
  return { srf, req, res };
}

test('place-call: 50 calls below Min-SE: 422 with Min-SE and a Reason each, 50 counted, one ERR_B2BUA_MIN_SE line', async () => {
  const d = limited({ ...policy, calls: { sessionTimer: { expiresSeconds: 120, minSeSeconds: 90 } } });
  const calls = Array.from({ length: 50 }, (_, i) => call(d, {}, { headers: { 'Session-Expires': '30', Supported: 'timer' }, callId: `c${i}` }));
  await settle();
  for (const c of calls) {
    assert.equal(c.res.status, 422);
    assert.equal(c.res.sent[0]!.opts?.headers?.['Min-SE'], '90');
    assert.equal(c.res.reasonHeader, 'SIP;cause=422;text="Session interval too small: Min-SE is 90 s"');
    assert.equal(c.srf.attempts.length, 0);
  }
  assert.deepEqual(d.stats.calls.snapshot().failed, { 422: 50 });
  assert.equal(d.coded('ERR_B2BUA_MIN_SE').length, 1);
  assert.equal(d.coded('ERR_B2BUA_MIN_SE')[0]!.source, '127.0.0.1');
});

test('place-call: 50 offers with no suite both tenants allow: 488 with a Reason each, 50 counted, one ERR_B2BUA_SRTP_REFUSED line', async () => {
  const d = limited();
  const only32 = offer.replace(/a=crypto:[23].*\r\n/g, '');
  const calls = Array.from({ length: 50 }, (_, i) => call(d, {}, { body: only32, callId: `c${i}` }));
  await settle();
  assert.ok(calls.every((c) => c.res.status === 488 && /^SIP;cause=488;/.test(c.res.reasonHeader ?? '')));
  assert.equal(d.stats.cryptoRejected, 50);
  assert.deepEqual(d.stats.calls.snapshot().failed, { 488: 50 });
  const lines = d.coded('ERR_B2BUA_SRTP_REFUSED');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.dialPeer, 'intl');
});

test('place-call: a called side\'s answer with no suite the caller allows: one ERR_B2BUA_SRTP_REFUSED line for many calls', async () => {
  const d = limited();
  const answer32 = 'v=0\r\nm=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:ZZZZ\r\n';
  for (let i = 0; i < 5; i++) {
    const c = call(d, {}, { callId: `c${i}` });
    const a = await c.srf.attempt(0);
    let thrown: unknown;
    try {
      (a.opts.localSdpA as (sdp: string) => string)(answer32);
    } catch (err) {
      thrown = err;
    }
    a.reject(thrown);
    await settle();
    assert.equal(c.res.status, 488);
  }
  assert.equal(d.coded('ERR_B2BUA_SRTP_REFUSED').length, 1);
});

test('place-call: a trunk that fails every call: each call fails over, and one ERR_B2BUA_LEG_FAILED line a window for its dial peer', async () => {
  const d = limited();
  for (let i = 0; i < 20; i++) {
    const c = call(d, {}, { callId: `c${i}` });
    const first = await c.srf.attempt(0);
    first.reject(sipError(503));
    const second = await c.srf.attempt(1);
    assert.notEqual(second.uri, first.uri, `call ${i} went on to the next target`);
    second.reject(Object.assign(sipError(486), { reason: 'Busy Here' }));
    await settle();
  }
  const lines = d.coded('ERR_B2BUA_LEG_FAILED');
  assert.equal(lines.length, 1, 'one line for twenty failovers');
  assert.equal(lines[0]!.status, 503);
  assert.ok(typeof lines[0]!.dialPeer === 'string');
});

test('place-call: the handler failing unexpectedly answers 500 with a Reason, counts it and writes the call\'s CDR (gateway-error)', async () => {
  const d = limited();
  const active = { setUp: () => { throw new Error('call list broken'); } } as unknown as ActiveCalls;
  const c = call(d, { active });
  await settle();
  assert.equal(c.res.status, 500);
  assert.equal(c.res.reasonHeader, 'SIP;cause=500;text="Gateway error placing the call"');
  assert.deepEqual(d.stats.calls.snapshot().failed, { 500: 1 });
  const cdr = cdrOf(d.lines);
  assert.ok(cdr, 'the call has its record');
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy, cdr.reason], [500, 'gateway-error', 'gateway', 'SIP;cause=500;text="Gateway error placing the call"']);
  assert.equal(d.coded('ERR_B2BUA_CALL_HANDLER').length, 1);
  assert.equal(d.lines.filter((l) => l.msg === 'cdr').length, 1);
});

test('map-permissions: 50 calls of an unmatched TLS peer on an allow tenant: all let through and counted, one EVT_TLS_PEER_UNMATCHED line', () => {
  const d = limited();
  const step = mapPermissions(d.deps);
  let nexts = 0;
  for (let i = 0; i < 50; i++) {
    const req = fakeInvite();
    req.locals = { callId: `c${i}`, startedAt: 0, log: d.deps.log, tenantIn: 'strict', identities: ['sip:stranger.example'] };
    step(req, new FakeRes(), () => nexts++);
  }
  assert.equal(nexts, 50);
  assert.equal(d.stats.unknownPeerAllowed, 50);
  const lines = d.coded('EVT_TLS_PEER_UNMATCHED');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'No matching TLS Peer found for sip:stranger.example');
});
