import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeCall } from '../../../../src/b2bua/index.js';
import { selectDialPeers } from '../../../../src/policy/index.js';
import { settle } from '../fake-srf.js';
import { deps, FakeRes, fakeInvite, policy, ScriptedSrf } from '../pipeline-fakes.js';
import { cdrOf, offer } from './place-call-rig.js';

// SDP and ISUP in one multipart/mixed body, as a SIP-T gateway sends them (RFC 3204).
const multipart = ['--b1', 'Content-Type: application/sdp', '', offer, '--b1', 'Content-Type: application/isup;version=itu-t92+', '', 'ISUP', '--b1--', ''].join('\r\n');

function call(headers: Record<string, string>, body: string) {
  const d = deps();
  const srf = new ScriptedSrf();
  const req = fakeInvite({ body, headers });
  req.locals = {
    callId: 'c1', startedAt: d.clock.now(), log: d.deps.log, identities: [], tenantIn: 'pbx', transportIn: 'udp',
    calledNumber: '+442071234567', category: 'international', dialPeers: selectDialPeers('+442071234567', 'pbx', policy.dialPeers),
  };
  const res = new FakeRes();
  placeCall({ ...d.deps, srf })(req, res, () => assert.fail('place-call is the last step'));
  return { ...d, srf, res };
}

test('place-call: an INVITE whose SDP comes in a multipart body gets 415 with Accept and a Reason before any B leg, counted, with its CDR', async () => {
  for (const headers of [{ 'Content-Type': 'multipart/mixed;boundary=b1' }, { c: 'multipart/mixed;boundary=b1' }] as Array<Record<string, string>>) {
    const s = call(headers, multipart);
    await settle();
    assert.equal(s.srf.attempts.length, 0, 'no B leg');
    assert.equal(s.res.status, 415);
    assert.equal(s.res.sent[0]!.opts?.headers?.Accept, 'application/sdp');
    assert.match(s.res.reasonHeader ?? '', /^SIP;cause=415;text="Only application\/sdp is relayed/);
    assert.deepEqual(s.stats.calls.snapshot().failed, { 415: 1 });
    const cdr = cdrOf(s.lines)!;
    assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy, cdr.reason], [415, 'unsupported-body', 'gateway', s.res.reasonHeader]);
    assert.ok(s.lines.some((l) => l.code === 'ERR_B2BUA_BODY_UNSUPPORTED'));
  }
});

test('place-call: an application/sdp or untyped offer, and an INVITE with no body, are placed as before', async () => {
  for (const [headers, body] of [[{ 'Content-Type': 'application/SDP; charset=utf-8' }, offer], [{}, offer], [{ 'Content-Type': 'multipart/mixed;boundary=b1' }, '']] as const) {
    const s = call(headers, body);
    assert.ok(await s.srf.attempt(0));
  }
});
