// A call ringing past the engine's final-answer time for the app (gateway.limits.appFinalTimeoutMs, carried to the
// b2bua with gateway.calls) is ended by the b2bua first: the ringing trunk is cancelled, the caller gets 480 with a
// Reason (not the engine's 503 with Retry-After), no other dial peer is tried, and the CDR says no-answer, released by
// the gateway, never by the caller. Real engine and b2bua on loopback; the trunks are mini UAs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answer, header } from '../support/mini-ua.js';
import { twoTrunkRig, withTag } from './failover-support.js';

test('failover: a call ringing past the engine\'s final-answer time gets 480 from the b2bua, its CDR no-answer by the gateway', async (t) => {
  let invite = '';
  const rig = await twoTrunkRig(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) {
      invite = msg;
      self.send(withTag(answer(msg, '180 Ringing', self.port), 't1tag'), from);
    }
    if (msg.startsWith('CANCEL ')) {
      self.send(answer(msg, '200 OK', self.port), from);
      self.send(withTag(answer(invite, '487 Request Terminated', self.port), 't1tag'), from);
    }
  }, { appFinalTimeoutMs: 3_000 });
  const callId = `setup-limit-${process.pid}`;
  const final = await rig.call(callId, 'z9hG4bKsetup1');
  assert.match(final, /^SIP\/2\.0 480 /, 'the b2bua answered before the engine');
  assert.match(header(final, 'Reason'), /^SIP;cause=480;text="No answer within/);
  assert.equal(header(final, 'Retry-After'), '', 'not the engine\'s 503');
  await rig.t1.next(/^CANCEL /);
  // The record is written as the call fails; it is waited for, never a time.
  for (let i = 0; i < 100 && !rig.cdrs.some((c) => c.callId === callId); i++) await new Promise((ok) => setTimeout(ok, 20));
  const cdr = rig.cdrs.find((c) => c.callId === callId);
  assert.ok(cdr, 'a CDR was written');
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy, cdr.attempts], [480, 'no-answer', 'gateway', 1], 'no other dial peer is tried');
  assert.equal(rig.t2.received.filter((m) => m.startsWith('INVITE ')).length, 0);
});
