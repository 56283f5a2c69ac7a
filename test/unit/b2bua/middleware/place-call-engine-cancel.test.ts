// The engine's own CANCEL (its final-answer time for the app ran out: it answered the caller 503) is not the caller's:
// the CDR says the engine released the call, never the caller. The caller's CANCEL is still the caller's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settle } from '../fake-srf.js';
import { call, failure } from './place-call-failover-rig.js';

const ENGINE_PEER = 'verified=0;transport=udp;origin=engine';
const ENGINE_REASON = 'SIP;cause=503;text="no final answer from the application within 180000 ms"';

test('place-call: a CANCEL the engine sent itself is recorded as the engine\'s: 503, app-no-answer, released by the engine', async () => {
  const g = call();
  const a = await g.srf.attempt(0);
  a.cbRequest(null, { cancel: () => undefined });
  g.cancel({ 'X-Trunkgate-Peer': ENGINE_PEER, Reason: ENGINE_REASON });
  a.reject(failure(487));
  await settle();
  assert.equal(g.srf.attempts.length, 1, 'no other target is tried');
  const cdr = g.cdrs()[0]!;
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy, cdr.reason], [503, 'app-no-answer', 'engine', ENGINE_REASON]);
});

test('place-call: a caller\'s CANCEL, even with a forged-looking peer header of its own, stays the caller\'s', async () => {
  const g = call();
  const a = await g.srf.attempt(0);
  a.cbRequest(null, { cancel: () => undefined });
  g.cancel({ 'X-Trunkgate-Peer': 'tenant=pbx;verified=0;transport=udp', Reason: 'SIP;cause=487;text="bye"' });
  a.reject(failure(487));
  await settle();
  const cdr = g.cdrs()[0]!;
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy], [487, 'cancelled', 'caller']);
});
