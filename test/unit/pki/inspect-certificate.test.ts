import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { createLocalCa, inspectCertificate, splitSubjectAltName, typedSan } from '../../../src/pki/index.js';

test('subjectAltName text splits into kinds, quoted entries included', () => {
  const cases: [string, { kind: string; value: string }[]][] = [
    ['DNS:a.example, URI:sip:b.example', [{ kind: 'DNS', value: 'a.example' }, { kind: 'URI', value: 'sip:b.example' }]],
    ['IP Address:127.0.0.1, IP Address:::1', [{ kind: 'IP Address', value: '127.0.0.1' }, { kind: 'IP Address', value: '::1' }]],
    ['DNS:"a, b.example", DNS:c.example', [{ kind: 'DNS', value: 'a, b.example' }, { kind: 'DNS', value: 'c.example' }]],
    ['', []],
  ];
  for (const [text, want] of cases) assert.deepEqual(splitSubjectAltName(text), want, text);
});

test('typed SAN: sip URIs become sip:, other URIs uri:, names lower-cased', () => {
  assert.deepEqual(typedSan('URI:sip:GW.example.com, URI:sips:gw.example.com, DNS:Gw.Example.com, IP Address:10.0.0.1, email:a@b'), [
    'sip:GW.example.com',
    'uri:sips:gw.example.com',
    'dns:gw.example.com',
    'ip:10.0.0.1',
    'email:a@b',
  ]);
});

test('inspect: fingerprint, CA flag, self-signed, key type', () => {
  const ca = createLocalCa({ key: { type: 'rsa', bits: 2048 }, commonName: 'Test Root' });
  const info = inspectCertificate(ca.certPem);
  const der = new X509Certificate(ca.certPem).raw;
  const fp = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
  assert.equal(info.fingerprint256, fp);
  assert.equal(info.isCA, true);
  assert.equal(info.selfSigned, true);
  assert.equal(info.keyType, 'rsa');
  assert.equal(info.keySize, 2048);
  assert.equal(info.commonName, 'Test Root');
  assert.match(info.issuer, /CN=Test Root/);
});

test('garbage is ERR_PKI_CERT_INVALID', () => {
  assert.throws(() => inspectCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), { code: 'ERR_PKI_CERT_INVALID' });
});
