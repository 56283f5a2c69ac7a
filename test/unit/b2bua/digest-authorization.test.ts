import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parseDigestChallenge } from '../../../src/b2bua/digest-challenge.js';
import { digestAuthorization } from '../../../src/b2bua/digest-authorization.js';

const challenge = (text: string) => {
  const r = parseDigestChallenge(text);
  assert.ok(r.ok);
  return r.challenge;
};

test('digest authorization: the response of RFC 2617 §3.5', () => {
  const c = challenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  const v = digestAuthorization(c, { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle Of Life' }, '0a4f113b');
  assert.match(v, /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(v, /qop=auth, nc=00000001, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41"$/);
});

test('digest authorization: without qop, the hash drachtio-srf computes for the same challenge', () => {
  const text = 'Digest realm="carrier.test", nonce="abc123"';
  const v = digestAuthorization(challenge(text), { method: 'REGISTER', uri: 'sip:carrier.test', username: 'trunk1', password: 'pw' });
  const DigestClient = createRequire(import.meta.url)('drachtio-srf/lib/digest-client.js') as new (res: unknown) => { authenticate(cb: (err: unknown) => void): void };
  let sent: Record<string, string> | undefined;
  const res = {
    statusCode: 401, has: () => true, get: () => text, socket: undefined,
    agent: { request: (o: { headers: Record<string, string> }) => (sent = o.headers) },
    req: {
      method: 'REGISTER', get: () => 'x', getParsedHeader: () => ({ seq: 1 }),
      _originalParams: { options: { method: 'REGISTER', uri: 'sip:carrier.test', headers: {}, auth: { username: 'trunk1', password: 'pw' } } },
    },
  };
  new DigestClient(res).authenticate(() => undefined);
  const srfResponse = /response="([0-9a-f]{32})"/.exec(sent?.Authorization ?? '')?.[1];
  assert.ok(srfResponse);
  assert.match(v, new RegExp(`response="${srfResponse}"`));
  assert.doesNotMatch(v, /qop|cnonce/);
});

test('digest authorization: a quote in a name is escaped, not closing the value', () => {
  const v = digestAuthorization(challenge('Digest realm="r", nonce="n"'), { method: 'REGISTER', uri: 'sip:d', username: 'a"b', password: 'p' });
  assert.match(v, /^Digest username="a\\"b", /);
});
