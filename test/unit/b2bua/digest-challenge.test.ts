import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parseDigestChallenge, readChallenge, srfChallengeView, type ChallengeReading } from '../../../src/b2bua/digest-challenge.js';

// drachtio-srf computes the answer (lib/digest-client.js): its own reading of a challenge is the oracle here.
const require = createRequire(import.meta.url);
const DigestClient = require('drachtio-srf/lib/digest-client.js') as { prototype: { _parseChallenge(text: string): Record<string, string> } };
const srfReads = (text: string): Record<string, string> => DigestClient.prototype._parseChallenge.call({}, text);

const fault = (r: ChallengeReading) => (r.ok ? 'ok' : r.fault);

test('challenge parser: parameters at their boundaries, quoted values unescaped, names in any case', () => {
  const r = parseDigestChallenge('Digest realm="carrier.example", NONCE="a,b=c", Algorithm=md5, qop="auth,auth-int", opaque="x\\"y", stale=FALSE');
  assert.ok(r.ok, r.ok ? '' : r.why);
  assert.deepEqual([r.challenge.realm, r.challenge.nonce, r.challenge.algorithm, r.challenge.qop, r.challenge.opaque],
    ['carrier.example', 'a,b=c', 'md5', ['auth', 'auth-int'], 'x"y']);
  assert.equal(r.challenge.params.get('stale'), 'FALSE');
  const spaced = parseDigestChallenge('  digest\trealm = carrier.example ,nonce="n"');
  assert.ok(spaced.ok);
  assert.deepEqual([spaced.challenge.realm, spaced.challenge.nonce], ['carrier.example', 'n']);
  const comma = parseDigestChallenge('Digest nonce="n", realm="a,realm=\\"evil\\"", domain="sip:a.example,sip:b.example"');
  assert.ok(comma.ok);
  assert.equal(comma.challenge.realm, 'a,realm="evil"', 'a quoted comma is part of the value, not a parameter boundary');
});

test('challenge parser: a parameter given twice is refused, whatever its case; a name merely ending in realm is another parameter', () => {
  assert.equal(fault(parseDigestChallenge('Digest realm="carrier.example", realm="evil.example", nonce="n"')), 'repeated');
  assert.equal(fault(parseDigestChallenge('Digest realm="carrier.example", nonce="n", REALM="evil.example"')), 'repeated');
  for (const p of ['nonce', 'algorithm', 'qop', 'opaque', 'stale']) {
    assert.equal(fault(parseDigestChallenge(`Digest realm="r", nonce="n", ${p}="auth", ${p}="auth"`)), 'repeated', p);
  }
  const x = parseDigestChallenge('Digest xrealm="carrier.example", realm="evil.example", nonce="n"');
  assert.ok(x.ok);
  assert.equal(x.challenge.realm, 'evil.example');
  assert.equal(x.challenge.params.get('xrealm'), 'carrier.example');
});

test('challenge parser: what is not the auth-param grammar is malformed', () => {
  for (const text of [
    '', 'Digest', 'Digest ', 'Digest realm', 'Digest realm=', 'Digest realm="open', 'Digest realm="a",', 'Digest realm="a",, nonce="n"',
    'Digest ,realm="a"', 'Digest realm="a" nonce="n"', 'Digest realm="a"; nonce="n"', 'Digest realm=a b', 'Digest realm=<a>',
    'Digest realm="a\r\n", nonce="n"', 'Digest realm="a\\', '"Digest" realm="a"', `Digest realm="a", nonce="${'n'.repeat(5000)}"`,
    // Two challenges joined into one value (drachtio-srf joins repeated header fields with a comma).
    'Digest realm="a", nonce="1", algorithm=SHA-256,Digest realm="a", nonce="2"', 'Digest realm="a", nonce="1", Basic realm="a"',
  ]) assert.equal(fault(parseDigestChallenge(text)), 'malformed', JSON.stringify(text.slice(0, 80)));
  assert.equal(fault(parseDigestChallenge(`Digest ${Array.from({ length: 40 }, (_, i) => `p${i}=1`).join(', ')}`)), 'malformed', 'bounded');
});

test('challenge parser: only what drachtio-srf computes is supported: Digest, MD5, qop auth or none', () => {
  assert.equal(fault(parseDigestChallenge('Basic realm="carrier.example"')), 'unsupported');
  for (const a of ['SHA-256', 'MD5-sess', 'SHA-512-256', '"SHA-256"', 'x']) {
    assert.equal(fault(parseDigestChallenge(`Digest realm="r", nonce="n", algorithm=${a}`)), 'unsupported', a);
  }
  for (const a of ['MD5', 'md5', '"MD5"']) assert.equal(fault(parseDigestChallenge(`Digest realm="r", nonce="n", algorithm=${a}`)), 'ok', a);
  assert.equal(fault(parseDigestChallenge('Digest realm="r", nonce="n", qop="auth-int"')), 'unsupported');
  assert.equal(fault(parseDigestChallenge('Digest realm="r", nonce="n", qop="auth, auth-int"')), 'ok');
  // srf answers with the first qop it reads: auth-int, which it does not compute.
  assert.equal(fault(readChallenge('Digest realm="r", nonce="n", qop="auth-int,auth"')), 'unsupported');
  assert.equal(fault(readChallenge('Digest realm="r", nonce="n", qop="auth,auth-int"')), 'ok');
});

test('readChallenge refuses what drachtio-srf would read otherwise: quoted commas, escapes, names in capitals', () => {
  assert.equal(fault(readChallenge('Digest realm="carrier.example", nonce="a,realm=evil.example"')), 'misread');
  assert.equal(fault(readChallenge('Digest realm="carrier\\"x", nonce="n"')), 'misread');
  assert.equal(fault(readChallenge('Digest Realm="carrier.example", nonce="n"')), 'misread');
  assert.equal(fault(readChallenge('Digest realm ="carrier.example", nonce="n"')), 'misread');
  assert.equal(fault(readChallenge('Digest realm="carrier.example", nonce="n", domain="sip:a,sip:b"')), 'ok', 'srf uses no domain');
});

/**
 * Challenges a carrier sends, and ones made to split the gateway's reading from srf's, each with whether the
 * gateway reads it as one it can answer (the realm is checked after: digest-answer.ts).
 */
const CORPUS: Array<[string, boolean]> = [
  ['Digest realm="carrier.example", nonce="n1"', true],
  ['Digest realm="carrier.example", nonce="n1", algorithm=MD5, qop="auth", opaque="o"', true],
  ['DIGEST realm="carrier.example",nonce="n1",qop=auth', true],
  ['Digest realm=carrier.example, nonce=n1', true],
  ['Digest realm="carrier.example", realm="evil.example", nonce="n1"', false],
  ['Digest xrealm="carrier.example", realm="evil.example", nonce="n1"', true],
  ['Digest realm="evil.example", xrealm="carrier.example", nonce="n1"', true],
  ['Digest realm="carrier.example", nonce="a,realm=evil.example"', false],
  ['Digest realm="carrier.example", opaque="x,realm=\\"evil.example\\""', false],
  ['Digest realm=evil.example, nonce="n1", opaque="realm=\\"carrier.example"', false],
  ['Digest Realm="carrier.example", realm="evil.example", nonce="n1"', false],
  ['Digest realm="carrier.example", nonce="n1",Digest realm="evil.example", nonce="n2"', false],
  ['Digest realm="carrier.example", nonce="n1", qop="auth-int,auth"', false],
  ['Digest realm="carrier.example", nonce="n1", qop="auth,auth-int"', true],
  ['Digest realm="carrier.example" , nonce = "n1"', false],
  ['Digest realm="", nonce=""', true],
  ['Digest nonce="n1"', true],
];

test('srfChallengeView reads realm, nonce, qop and opaque exactly as drachtio-srf does', () => {
  for (const [text] of CORPUS) {
    const srf = srfReads(text);
    const view = srfChallengeView(text);
    for (const k of ['realm', 'nonce', 'qop', 'opaque'] as const) assert.equal(view[k], srf[k], `${k} of ${text}`);
  }
});

test('every challenge the gateway would answer is hashed by drachtio-srf with the realm, nonce and qop the gateway read', () => {
  for (const [text, answerable] of CORPUS) {
    const r = readChallenge(text);
    assert.equal(r.ok, answerable, `${text}: ${r.ok ? 'read' : r.why}`);
    if (!r.ok) continue;
    const srf = srfReads(text);
    assert.equal(srf.realm, r.challenge.realm, text);
    assert.equal(srf.nonce, r.challenge.nonce, text);
    assert.equal(srf.qop, r.challenge.qop === undefined ? undefined : 'auth', text);
  }
});
