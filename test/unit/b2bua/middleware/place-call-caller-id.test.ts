import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bridgeCall, CallStats, parseTarget, placeCall } from '../../../../src/b2bua/index.js';
import { ManualClock } from '../../../../src/common/index.js';
import { selectDialPeers } from '../../../../src/policy/index.js';
import { captureLog, FakeResponse, FakeSrf, settle } from '../fake-srf.js';
import { deps, FakeRes, fakeInvite, policy, ScriptedSrf } from '../pipeline-fakes.js';
import { offer } from './place-call-rig.js';

const PAI = '"Alice Smith" <sip:+15551234@pbx>';

/** A call from `from` (the policy's calling number is its user, as identify-peer reads it) with these extra headers. */
async function bLegHeaders(from: string, callingNumber: string | undefined, extra: Record<string, string>) {
  const d = deps();
  const srf = new ScriptedSrf();
  const req = fakeInvite({ body: offer, headers: { From: from, ...extra } });
  req.locals = {
    callId: 'c1', startedAt: d.clock.now(), log: d.deps.log, identities: [], tenantIn: 'pbx', transportIn: 'udp',
    calledNumber: '+442071234567', category: 'international', ...(callingNumber !== undefined ? { callingNumber } : {}),
    dialPeers: selectDialPeers('+442071234567', 'pbx', policy.dialPeers),
  };
  placeCall({ ...d.deps, srf })(req, new FakeRes(), () => assert.fail('place-call is the last step'));
  const a = await srf.attempt(0);
  // With a From of its own, createB2BUA neither reads req.callingNumber / callingName (P-Asserted-Identity first) nor writes one.
  assert.equal(a.opts.callingNumber, undefined);
  assert.equal(a.opts.callingName, undefined);
  return a.opts.headers as Record<string, string>;
}

test('place-call: a caller withholding its identity goes out anonymous with its Privacy, whatever its P-Asserted-Identity says', async () => {
  const h = await bLegHeaders('"Anonymous" <sip:anonymous@anonymous.invalid>;tag=a1', 'anonymous', { 'P-Asserted-Identity': PAI, Privacy: 'id' });
  assert.equal(h.From, '"Anonymous" <sip:anonymous@anonymous.invalid>');
  assert.equal(h.Privacy, 'id');
  assert.ok(!Object.values(h).some((v) => v.includes('15551234') || v.includes('Alice')), JSON.stringify(h));
});

test('place-call: the B leg\'s caller ID is the A-leg From\'s number and name, not the P-Asserted-Identity a peer put in', async () => {
  const h = await bLegHeaders('"Bob" <sip:+15559876@pbx.example>;tag=b1', '+15559876', { 'P-Asserted-Identity': PAI });
  // The target is sips (tenant carrier): the From follows its scheme; the engine puts its address for localhost.
  assert.equal(h.From, '"Bob" <sips:+15559876@localhost>');
  assert.equal(h.Privacy, undefined);
});

test('place-call: a From without a user gives no number to present: anonymous, never the P-Asserted-Identity', async () => {
  const h = await bLegHeaders('<sip:pbx.example>;tag=c1', undefined, { 'P-Asserted-Identity': PAI });
  assert.equal(h.From, '"Anonymous" <sip:anonymous@anonymous.invalid>');
});

test('plain bridge: the B leg\'s caller ID is the A-leg From\'s, and a withheld one stays withheld', async () => {
  const { log } = captureLog();
  for (const [headers, from, privacy] of [
    [{ from: '"Bob" <sip:2000@pbx.example>;tag=1', 'p-asserted-identity': PAI }, '"Bob" <sip:2000@localhost>', undefined],
    [{ from: '<sip:anonymous@anonymous.invalid>;tag=2', 'p-asserted-identity': PAI, privacy: 'user;id' }, '"Anonymous" <sip:anonymous@anonymous.invalid>', 'user;id'],
  ] as const) {
    const srf = new FakeSrf();
    const all: Record<string, string> = { 'call-id': 'plain-1', ...headers };
    void bridgeCall({ srf, target: parseTarget('127.0.0.1:5090'), stats: new CallStats(), log, clock: new ManualClock(0) },
      { uri: 'sip:15551234567@gw.example.com', get: (n) => all[n.toLowerCase()] }, new FakeResponse());
    await settle();
    const h = srf.calls[0]!.opts.headers as Record<string, string>;
    assert.equal(h.From, from);
    assert.equal(h.Privacy, privacy);
    assert.equal(srf.calls[0]!.opts.callingNumber, undefined);
  }
});
