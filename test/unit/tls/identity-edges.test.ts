import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { issueCertificate } from '../../../src/pki/issue-certificate.js';
import {
  checkClientIdentity, createCheckServerIdentity, hostMatches, identityHost, matchIdentity, peerIdentities,
} from '../../../src/tls/index.js';

/** Edges of the RFC 5922 identity rules that the main table leaves open. */

function cert(cn: string | undefined, san?: string): PeerCertificate {
  return { subject: cn ? { CN: cn } : {}, subjectaltname: san } as unknown as PeerCertificate;
}
const w = { allowWildcard: true };

test('peerIdentities: no certificate, an empty SAN, a port only at the end, X509Certificate subjects', () => {
  assert.deepEqual(peerIdentities(undefined), []);
  assert.deepEqual(peerIdentities(null), []);
  assert.deepEqual(peerIdentities(cert('cn.example', '')), ['cn:cn.example'], 'an empty SAN is no SAN: the CN counts');
  assert.deepEqual(peerIdentities(cert(' CN.Example. ')), ['cn:cn.example']);
  assert.deepEqual(peerIdentities(cert(undefined, 'URI:sip: Gw.Example. ')), ['sip:gw.example']);
  assert.deepEqual(peerIdentities(cert(undefined, 'URI:sip:h5061.example:5061, DNS:a, DNS:a')), ['sip:h5061.example', 'dns:a'], 'deduplicated');
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = (k: typeof key.privateKey) => k.export({ type: 'pkcs8', format: 'pem' }) as string;
  const x = new X509Certificate(issueCertificate({
    subject: { commonName: 'x509.example', organization: 'Org' }, subjectKeyPem: key.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    issuerKeyPem: pem(key.privateKey),
  }));
  assert.deepEqual(peerIdentities(x), ['cn:x509.example'], 'the CN line of a string subject');
  const noCn = new X509Certificate(issueCertificate({
    subject: { organization: 'Org' }, subjectKeyPem: key.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    issuerKeyPem: pem(key.privateKey),
  }));
  assert.deepEqual(peerIdentities(noCn), []);
});

test('identityHost and hostMatches edges', () => {
  assert.equal(identityHost('dns:a.example'), 'a.example');
  assert.equal(identityHost('plain'), 'plain');
  assert.equal(identityHost(':x'), 'x');
  assert.equal(hostMatches(' gw.example.com ', 'gw.example.com'), true);
  assert.equal(hostMatches('a.example.com', 'b.example.com', w), false, 'no wildcard: names must be equal');
  assert.equal(hostMatches('*.0.0.1', '10.0.0.1', w), false, 'a wildcard never covers an IP address');
  assert.equal(hostMatches('*.example.com', '.example.com', w), false, 'the covered label is not empty');
});

test('matchIdentity and matchAny edges', () => {
  assert.equal(matchIdentity(['ip:10.0.0.2'], '10.0.0.1'), undefined);
  assert.equal(matchIdentity(['ip:10.0.0.2', 'ip:10.0.0.1'], '10.0.0.1'), 'ip:10.0.0.1');
  assert.equal(matchIdentity(['dns:*.example.com'], 'a.example.com', w), 'dns:*.example.com', 'a presented wildcard, when allowed');
  assert.equal(matchIdentity(['dns:a.example.com'], '*.example.com', w), 'dns:a.example.com', 'a *.domain expected name is a pattern');
  const r = checkClientIdentity(cert(undefined, 'DNS:other.example, DNS:pbx.example'), ['pbx.example']);
  assert.deepEqual(r.ok && { identities: r.identities, matched: r.matched }, { identities: ['dns:other.example', 'dns:pbx.example'], matched: 'dns:pbx.example' });
});

test('refusals say what was expected and what was presented', () => {
  const onlyDomain = createCheckServerIdentity({ domain: 'carrier.example' })('x', cert(undefined, 'DNS:other.example')) as Error & { details: { expected: string[] } };
  assert.equal(onlyDomain.message, 'Certificate identity does not match requested domain: expected carrier.example, presented dns:other.example');
  assert.deepEqual(onlyDomain.details.expected, ['carrier.example']);
  const onlyList = createCheckServerIdentity({ cnSan: ['a.example', 'b.example'] })('x', cert(undefined, 'DNS:c.example')) as Error & { details: { expected: string[] } };
  assert.deepEqual(onlyList.details.expected, ['a.example', 'b.example']);
  const nothing = createCheckServerIdentity({})('x', cert(undefined)) as Error;
  assert.equal(nothing.message, 'Certificate identity does not match requested domain: expected (none), presented (none)');
  const none = checkClientIdentity(undefined, ['pbx.example']);
  assert.deepEqual(none, { ok: false, code: 'ERR_TLS_NO_CLIENT_CERT', reason: 'no client certificate', expected: ['pbx.example'], presented: [] });
  const noIds = checkClientIdentity(cert('x', 'URI:http://x'), ['pbx.example']);
  assert.equal(!noIds.ok && noIds.reason, 'No matching TLS Peer found for (no identities)');
});
