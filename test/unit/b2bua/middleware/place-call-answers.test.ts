// What of a B leg's answers reaches the caller: a challenge, a redirect or a 422 is mapped to a failure of ours (the
// caller is our peer, not the carrier's), and the far end's phrase and Reason text never leave the gateway.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { statusPhrase, type B2buaPolicy } from '../../../../src/b2bua/index.js';
import { settle, sipError } from '../fake-srf.js';
import { policy } from '../pipeline-fakes.js';
import { cdrOf, offer, start } from './place-call-rig.js';

/** A SipError as drachtio-srf rejects with: the B leg's status, its phrase, and its response's headers. */
function failure(status: number, reason: string, headers: Record<string, string>): Error {
  const get = (n: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1];
  return Object.assign(sipError(status), { reason, res: { status, reason, get } });
}

const onePeer: B2buaPolicy = { ...policy, dialPeers: [{ id: 'intl', destinationPattern: '^\\+', tenant: 'backup' }] };
const LEAK = /10\.2\.3\.4|core-sbc/;

for (const [status, header] of [[407, 'Proxy-Authenticate'], [401, 'WWW-Authenticate']] as const) {
  test(`place-call: the trunk's ${status} is not the caller's to answer: 503, Reason cause=${status}, CDR cause b-leg-auth, counted`, async () => {
    const s = start('+442071234567', 'pbx', offer, {}, onePeer);
    (await s.srf.attempt(0)).reject(failure(status, 'Auth via 10.2.3.4', { [header]: 'Digest realm="carrier", nonce="n"' }));
    await settle();
    assert.equal(s.res.status, 503);
    assert.equal(s.res.sent[0]!.reason, 'Service Unavailable');
    assert.equal(s.res.reasonHeader, `SIP;cause=${status};text="Trunk authentication failed (dial peer intl)"`);
    const headers = (s.res.sent[0]!.opts?.headers ?? {}) as Record<string, string>;
    assert.deepEqual(Object.keys(headers), ['Reason'], 'no challenge goes to the caller');
    assert.equal(s.stats.bLegAuthFailed, 1);
    const cdr = cdrOf(s.lines)!;
    assert.equal(cdr.cause, 'b-leg-auth');
    assert.equal(cdr.releasedBy, 'gateway');
    assert.equal(cdr.status, 503);
  });
}

test('place-call: a trunk refusing our credentials fails over to the next target, as a dial-peer hunt does', async () => {
  const s = start('+442071234567');
  (await s.srf.attempt(0)).reject(failure(407, 'Proxy Authentication Required', { 'Proxy-Authenticate': 'Digest realm="carrier", nonce="n"' }));
  const second = await s.srf.attempt(1);
  assert.equal(second.uri, 'sips:+442071234567@sbc2.carrier.example:5061;transport=tls');
  assert.equal(s.res.sent.length, 0);
  assert.equal(s.stats.failovers, 1);
});

for (const status of [302, 380]) {
  test(`place-call: a ${status} is not followed nor passed on: 480 without Contact, Reason cause=${status}`, async () => {
    const s = start('+442071234567', 'pbx', offer, {}, onePeer);
    (await s.srf.attempt(0)).reject(failure(status, 'Moved (via 10.2.3.4)', { Contact: '<sip:+442071234567@10.9.8.7:5060>' }));
    await settle();
    assert.equal(s.srf.attempts.length, 1);
    assert.equal(s.res.status, 480);
    assert.equal(s.res.reasonHeader, `SIP;cause=${status};text="Redirection not followed (dial peer intl)"`);
    assert.equal(((s.res.sent[0]!.opts?.headers ?? {}) as Record<string, string>).Contact, undefined);
    assert.equal(cdrOf(s.lines)!.cause, `b-leg-${status}`);
  });
}

test('place-call: a 422 the gateway did not retry (no session timer) is a failure of ours: 500, Reason cause=422', async () => {
  const s = start('+442071234567', 'pbx', offer, {}, onePeer);
  (await s.srf.attempt(0)).reject(failure(422, 'Session Interval Too Small', { 'Min-SE': '1800' }));
  await settle();
  assert.equal(s.res.status, 500);
  assert.match(s.res.reasonHeader ?? '', /^SIP;cause=422;/);
  assert.equal(cdrOf(s.lines)!.cause, 'b-leg-422');
});

test('place-call: the far end\'s phrase and Reason text stay out of the caller\'s answer, and in the CDR', async () => {
  const far = 'SIP;cause=486;text="from core-sbc 10.2.3.4"';
  const s = start('+442071234567', 'pbx', offer, {}, onePeer);
  (await s.srf.attempt(0)).reject(failure(486, 'Busy (via 10.2.3.4)', { Reason: far }));
  await settle();
  assert.equal(s.res.status, 486);
  assert.equal(s.res.sent[0]!.reason, 'Busy Here');
  assert.equal(s.res.reasonHeader, 'SIP;cause=486;text="Busy Here"');
  assert.doesNotMatch(JSON.stringify(s.res.sent), LEAK);
  const cdr = cdrOf(s.lines)!;
  assert.equal(cdr.reasonOut, far, 'the B leg\'s Reason is kept in the record');
  assert.equal(cdr.reason, 'SIP;cause=486;text="Busy Here"', 'the record says what the caller got');
});

test('place-call: a far Reason of another protocol, or none, gets one of ours; a long one is capped in the CDR', async () => {
  for (const [reason, expected] of [['10.2.3.4;cause=1;text="x"', /^SIP;cause=486;text="Busy Here \(dial peer intl, tenant backup\)"$/], [undefined, /^SIP;cause=486;text="Busy Here \(dial peer intl/]] as const) {
    const s = start('+442071234567', 'pbx', offer, {}, onePeer);
    (await s.srf.attempt(0)).reject(failure(486, 'Busy (via 10.2.3.4)', reason !== undefined ? { Reason: reason } : {}));
    await settle();
    assert.match(s.res.reasonHeader ?? '', expected);
  }
  const s = start('+442071234567', 'pbx', offer, {}, onePeer);
  (await s.srf.attempt(0)).reject(failure(603, 'Decline', { Reason: `Q.850;cause=21;text="${'x'.repeat(2_000)}"` }));
  await settle();
  assert.equal(s.res.reasonHeader, 'Q.850;cause=21');
  assert.ok(String(cdrOf(s.lines)!.reasonOut).length <= 256);
});

test('place-call: an 18x the B leg sends reaches the caller with the standard phrase', async () => {
  const s = start('+442071234567', 'pbx', offer, {}, onePeer);
  const a = await s.srf.attempt(0);
  a.res.send(183, 'Session Progress from core-sbc 10.2.3.4', { headers: {} });
  a.res.send(180, 'Ringing at 10.2.3.4');
  assert.deepEqual(s.res.sent.map((x) => [x.status, x.reason]), [[183, undefined], [180, undefined]], 'undefined: drachtio-srf writes its standard phrase');
});

test('statusPhrase is drachtio-srf\'s own table for every final status it knows', () => {
  const table = createRequire(import.meta.url)('sip-status') as Record<string, string>;
  for (const [code, phrase] of Object.entries(table)) if (Number(code) >= 300) assert.equal(statusPhrase(Number(code)), phrase, code);
  assert.equal(statusPhrase(607), undefined);
});
