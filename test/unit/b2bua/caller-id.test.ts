import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANONYMOUS_FROM, bLegIdentity, displayName, identityWithheld, privacyValues, userPart } from '../../../src/b2bua/caller-id.js';

test('caller-id: the B leg presents the A-leg From\'s number and name at the engine\'s address, whatever a P-Asserted-Identity says', () => {
  assert.deepEqual(bLegIdentity('"Bob Jones" <sip:+15559876@pbx.example>;tag=1', undefined, '+15559876', 'sip'),
    { From: '"Bob Jones" <sip:+15559876@localhost>' });
  assert.deepEqual(bLegIdentity('Bob <sips:2000@pbx.example>', undefined, '2000', 'sips'), { From: '"Bob" <sips:2000@localhost>' });
  assert.deepEqual(bLegIdentity('<sip:2000@pbx.example>', undefined, '2000', 'sip'), { From: '<sip:2000@localhost>' });
});

test('caller-id: a caller asking for privacy (id, user or header) is anonymous on the B leg, and its Privacy goes with it', () => {
  for (const privacy of ['id', 'user', 'header', 'Header; critical', 'session;id']) {
    const out = bLegIdentity('"Alice Smith" <sip:+15551234@pbx.example>', privacy, '+15551234', 'sip');
    assert.equal(out.From, ANONYMOUS_FROM, privacy);
    assert.equal(out.Privacy, privacyValues(privacy).join(';'));
    assert.ok(!JSON.stringify(out).includes('15551234') && !JSON.stringify(out).includes('Alice'), privacy);
  }
  assert.deepEqual(bLegIdentity('"Alice" <sip:+15551234@pbx.example>', 'none', '+15551234', 'sip'),
    { From: '"Alice" <sip:+15551234@localhost>', Privacy: 'none' }, 'none asks for nothing withheld');
  assert.equal(identityWithheld('session'), false);
  assert.equal(identityWithheld(undefined), false);
});

test('caller-id: no number to present is anonymous', () => {
  assert.deepEqual(bLegIdentity('"Lobby" <sip:pbx.example>', undefined, undefined, 'sip'), { From: ANONYMOUS_FROM });
  assert.deepEqual(bLegIdentity(undefined, undefined, '', 'sip'), { From: ANONYMOUS_FROM });
});

test('caller-id: the number is escaped for a URI user part, the name for a quoted-string', () => {
  assert.equal(userPart('+1 555;x?y@z#'), '+1%20555%3Bx%3Fy%40z%23');
  assert.equal(userPart('a&b=c$d,e/f'), 'a&b=c$d,e/f', 'user-unreserved characters stay');
  assert.equal(userPart('caf\u00e9'), 'caf%C3%A9');
  assert.equal(userPart('x\uD800'), 'x%EF%BF%BD', 'a lone surrogate does not throw');
  // The engine replaces the first "@localhost" of a From: a name holding one must not be it.
  assert.equal(bLegIdentity('"Eve \\"x\\" a@localhost \\\\" <sip:1@h>', undefined, '1', 'sip').From,
    '"Eve \\"x\\" a\\@localhost \\\\" <sip:1@localhost>');
  assert.equal(displayName('"a\r\nb" <sip:1@h>'), 'a b', 'no control character survives');
  assert.equal(displayName(`"${'n'.repeat(200)}" <sip:1@h>`)?.length, 80);
  assert.equal(displayName('sip:1@h'), undefined);
  assert.equal(displayName('"" <sip:1@h>'), undefined);
});
