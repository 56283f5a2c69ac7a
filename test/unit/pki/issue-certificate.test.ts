import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  createLocalCa,
  generateKeyPair,
  inspectCertificate,
  issueCertificate,
  issueGatewayCertificate,
  createCsr,
  createCrl,
} from '../../../src/pki/index.js';

const combos = [
  { ca: 'ec', leaf: 'ec' },
  { ca: 'ec', leaf: 'rsa' },
  { ca: 'rsa', leaf: 'ec' },
  { ca: 'rsa', leaf: 'rsa' },
] as const;

for (const c of combos) {
  test(`${c.ca.toUpperCase()} CA issues a verifiable ${c.leaf.toUpperCase()} gateway certificate`, () => {
    const ca = createLocalCa({ key: { type: c.ca } });
    const gw = issueGatewayCertificate(ca, { domain: 'gw.example.com', key: { type: c.leaf } });
    const caCert = new X509Certificate(ca.certPem);
    const leaf = new X509Certificate(gw.certPem);
    assert.equal(caCert.ca, true);
    assert.equal(caCert.verify(caCert.publicKey), true, 'CA is self-signed');
    assert.equal(leaf.ca, false);
    assert.equal(leaf.checkIssued(caCert), true);
    assert.equal(leaf.verify(caCert.publicKey), true, 'leaf signed by CA');
    assert.equal(leaf.checkPrivateKey(require_key(gw.keyPem)), true);
    const info = inspectCertificate(gw.certPem);
    assert.deepEqual(info.san, ['sip:gw.example.com', 'dns:gw.example.com']);
    assert.equal(info.keyType, c.leaf);
    assert.equal(info.keySize, c.leaf === 'ec' ? 256 : 2048);
    assert.deepEqual(leaf.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.deepEqual(gw.chainPems, [ca.certPem]);
  });
}

import { createPrivateKey } from 'node:crypto';
function require_key(pem: string) {
  return createPrivateKey(pem);
}

test('validity window and serial are honoured', () => {
  const ca = createLocalCa();
  const k = generateKeyPair();
  const notBefore = new Date('2030-01-01T00:00:00Z');
  const notAfter = new Date('2031-01-01T00:00:00Z');
  const pem = issueCertificate({
    subject: { commonName: 'later.example' },
    subjectKeyPem: k.publicKeyPem,
    issuerKeyPem: ca.keyPem,
    issuerCertPem: ca.certPem,
    notBefore,
    notAfter,
    serialNumber: '0a1b2c',
  });
  const info = inspectCertificate(pem);
  assert.equal(info.notBefore.toISOString(), notBefore.toISOString());
  assert.equal(info.notAfter.toISOString(), notAfter.toISOString());
  assert.equal(info.serialNumber, '0a1b2c');
  assert.deepEqual(info.san, [], 'no SAN asked, none present');
  assert.equal(info.commonName, 'later.example');
});

test('a signer that is not a CA is refused', () => {
  const ca = createLocalCa();
  const gw = issueGatewayCertificate(ca, { domain: 'gw.example.com' });
  const k = generateKeyPair();
  assert.throws(
    () => issueCertificate({ subject: { commonName: 'x' }, subjectKeyPem: k.publicKeyPem, issuerKeyPem: gw.keyPem, issuerCertPem: gw.certPem }),
    { code: 'ERR_PKI_NOT_CA' },
  );
});

test('a signer key that does not match the issuer certificate is refused', () => {
  const ca = createLocalCa();
  const other = generateKeyPair();
  assert.throws(
    () => issueCertificate({ subject: { commonName: 'x' }, subjectKeyPem: other.publicKeyPem, issuerKeyPem: other.privateKeyPem, issuerCertPem: ca.certPem }),
    { code: 'ERR_PKI_KEY_MISMATCH' },
  );
});

test('IP SAN and extra DNS names are typed', () => {
  const ca = createLocalCa();
  const gw = issueGatewayCertificate(ca, { domain: 'gw.example.com', extraDns: ['alt.example.com'], ip: ['127.0.0.1'] });
  assert.deepEqual(inspectCertificate(gw.certPem).san, ['sip:gw.example.com', 'dns:gw.example.com', 'dns:alt.example.com', 'ip:127.0.0.1']);
});

test('CSR and CRL come out as PEM of the right kind', () => {
  const ca = createLocalCa();
  const k = generateKeyPair({ type: 'ec' });
  const csr = createCsr({ subject: { commonName: 'gw.example.com' }, privateKeyPem: k.privateKeyPem, san: [{ type: 'dns', value: 'gw.example.com' }] });
  assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
  const crl = createCrl({ issuerCertPem: ca.certPem, issuerKeyPem: ca.keyPem, revoked: [{ serialNumber: '01', revokedAt: new Date() }] });
  assert.match(crl, /^-----BEGIN X509 CRL-----\n/);
  assert.throws(() => createCrl({ issuerCertPem: ca.certPem, issuerKeyPem: k.privateKeyPem, revoked: [] }), { code: 'ERR_PKI_KEY_MISMATCH' });
});
