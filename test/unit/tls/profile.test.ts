import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalCa, issueGatewayCertificate, generateKeyPair, createCrl } from '../../../src/pki/index.js';
import { buildTlsProfile, ProfileStore, selectProfileBySni, type TlsProfileMaterial } from '../../../src/tls/index.js';

const ca = createLocalCa();
const gw = issueGatewayCertificate(ca, { domain: 'gw.example.com' });
const good: TlsProfileMaterial = { trustpoint: gw, trustedCaPems: [ca.certPem] };

function problemCodes(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.equal((e as { code: string }).code, 'ERR_TLS_PROFILE_INVALID');
    return ((e as { details: { problems: { code: string }[] } }).details.problems).map((p) => p.code);
  }
  assert.fail('expected a throw');
}

test('a good profile compiles with effective versions and split cipher lists', () => {
  const p = buildTlsProfile({ name: 'acme', tenant: 'acme', ciphers: ['ECDHE_ECDSA_AES256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'] }, good);
  assert.equal(p.minVersion, 'TLSv1.2');
  assert.equal(p.maxVersion, 'TLSv1.3');
  assert.equal(p.ciphers?.tls12, 'ECDHE-ECDSA-AES256-GCM-SHA384');
  assert.equal(p.ciphers?.tls13, 'TLS_AES_256_GCM_SHA384');
  assert.equal(p.requestCert, false);
  assert.deepEqual(p.certificate.san, ['sip:gw.example.com', 'dns:gw.example.com']);
  assert.doesNotMatch(JSON.stringify(p.serverContextOptions), /PRIVATE KEY/, 'key not serialised');
  assert.equal(buildTlsProfile({ name: 'm', cnSanValidate: 'bidirectional' }, good).requestCert, true);
});

test('a 1.2-only cipher list caps maxVersion unless 1.3 was asked for explicitly', () => {
  assert.equal(buildTlsProfile({ name: 'a', ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256'] }, good).maxVersion, 'TLSv1.2');
  assert.deepEqual(problemCodes(() => buildTlsProfile({ name: 'a', ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256'], maxVersion: 'TLSv1.3' }, good)), ['ERR_TLS_VERSION_RANGE']);
  assert.equal(buildTlsProfile({ name: 'a', ciphers: ['TLS_AES_128_GCM_SHA256'] }, good).minVersion, 'TLSv1.3');
});

test('validation lists every problem with its code', () => {
  const other = generateKeyPair();
  assert.deepEqual(problemCodes(() => buildTlsProfile({ name: 'k' }, { trustpoint: { ...gw, keyPem: other.privateKeyPem }, trustedCaPems: [ca.certPem] })), ['ERR_PKI_KEY_MISMATCH']);
  assert.deepEqual(problemCodes(() => buildTlsProfile({ name: 'c' }, { trustpoint: { ...gw, chainPems: [] }, trustedCaPems: [] })), ['ERR_PKI_CHAIN_INCOMPLETE']);
  const expired = issueGatewayCertificate(ca, { domain: 'gw.example.com', notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') });
  assert.deepEqual(problemCodes(() => buildTlsProfile({ name: 'e' }, { trustpoint: expired, trustedCaPems: [ca.certPem] })), ['ERR_PKI_CERT_EXPIRED']);
  assert.deepEqual(
    problemCodes(() => buildTlsProfile({ name: 'x', ciphers: ['NOPE'], minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }, good)),
    ['ERR_TLS_CIPHER_UNKNOWN', 'ERR_TLS_VERSION_RANGE'],
  );
  assert.deepEqual(problemCodes(() => buildTlsProfile({ name: 'w', cnSan: ['*.x.example'] }, good)), ['ERR_TLS_PROFILE_INVALID']);
  assert.deepEqual(problemCodes(() => buildTlsProfile({ name: 'crl' }, { ...good, crlPems: ['-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'] })), ['ERR_TLS_CRL_INVALID']);
  const crl = createCrl({ issuerCertPem: ca.certPem, issuerKeyPem: ca.keyPem, revoked: [] });
  assert.ok(buildTlsProfile({ name: 'crl-ok' }, { ...good, crlPems: [crl] }));
});

test('client options: SNI only for names, name check per cnSanValidate', () => {
  const p = buildTlsProfile({ name: 'o', cnSan: ['alt.example'] }, good);
  const byName = p.clientOptions({ address: '127.0.0.1', port: 5061, domain: 'carrier.example' });
  assert.equal(byName.servername, 'carrier.example');
  assert.equal(byName.rejectUnauthorized, true);
  assert.equal(byName.secureContext, p.clientContext);
  assert.equal(p.clientOptions({ address: '127.0.0.1', port: 5061, domain: '10.0.0.9' }).servername, '');
  const none = buildTlsProfile({ name: 'n', sni: 'none' }, good);
  assert.equal(none.clientOptions({ address: '127.0.0.1', port: 5061, domain: 'carrier.example' }).servername, '');
  const fakeCert = { subject: {}, subjectaltname: 'DNS:carrier.example' } as never;
  assert.equal(byName.checkServerIdentity!('carrier.example', fakeCert), undefined);
  assert.ok(byName.checkServerIdentity!('carrier.example', { subject: {}, subjectaltname: 'DNS:evil.example' } as never));
  const noCheck = buildTlsProfile({ name: 'nc', cnSanValidate: 'none' }, good).clientOptions({ address: '127.0.0.1', port: 1, domain: 'carrier.example' });
  assert.equal(noCheck.checkServerIdentity!('carrier.example', { subject: {}, subjectaltname: 'DNS:evil.example' } as never), undefined);
});

test('SNI table: exact before wildcard, unknown is undefined', () => {
  const a = buildTlsProfile({ name: 'a', serverNames: ['a.example.com'] }, good);
  const w = buildTlsProfile({ name: 'w', serverNames: ['*.example.com'] }, good);
  assert.equal(selectProfileBySni([w, a], 'A.example.com')?.name, 'a');
  assert.equal(selectProfileBySni([w, a], 'b.example.com')?.name, 'w');
  assert.equal(selectProfileBySni([w, a], 'b.c.example.com'), undefined);
});

test('ProfileStore swaps all or nothing', () => {
  const store = new ProfileStore();
  const swaps: number[] = [];
  store.on('swapped', (v) => swaps.push(v));
  const r1 = store.reload([{ spec: { name: 'a' }, material: good }, { spec: { name: 'b' }, material: good }]);
  assert.deepEqual(r1, { ok: true, version: 1, names: ['a', 'b'] });
  const before = store.get('a');
  const r2 = store.reload([{ spec: { name: 'a' }, material: good }, { spec: { name: 'b', ciphers: ['NOPE'] }, material: good }]);
  assert.equal(r2.ok, false);
  assert.ok(!r2.ok && r2.problems[0]?.profile === 'b' && r2.problems[0]?.code === 'ERR_TLS_CIPHER_UNKNOWN');
  assert.equal(store.get('a'), before, 'old profile still serving');
  assert.equal(store.version, 1);
  const dup = store.reload([{ spec: { name: 'a' }, material: good }, { spec: { name: 'a' }, material: good }]);
  assert.equal(dup.ok, false);
  const r3 = store.reload([{ spec: { name: 'c' }, material: good }]);
  assert.equal(r3.ok, true);
  assert.equal(store.get('a'), undefined);
  assert.deepEqual(swaps, [1, 2]);
});

test('sniWidenings: a profile picked by SNI may narrow its listener\'s default, every widening is named', async () => {
  const { sniWidenings } = await import('../../../src/tls/index.js');
  const def = buildTlsProfile({ name: 'def', ciphers: ['ECDHE_ECDSA_AES256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'] }, good);
  const narrow = buildTlsProfile({ name: 'narrow', minVersion: 'TLSv1.3', ciphers: ['TLS_AES_256_GCM_SHA384'] }, good);
  const moreSuites = buildTlsProfile({ name: 'more', ciphers: ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256'] }, good);
  const defaults = buildTlsProfile({ name: 'defaults' }, good);
  const only12 = buildTlsProfile({ name: 'only12', maxVersion: 'TLSv1.2' }, good);
  assert.deepEqual(sniWidenings(def, [def, narrow, moreSuites, defaults]), [
    { profile: 'more', defaultProfile: 'def', ciphers: ['TLS_AES_128_GCM_SHA256'] },
    { profile: 'defaults', defaultProfile: 'def', ciphers: ['(OpenSSL defaults)'] },
  ]);
  assert.deepEqual(sniWidenings(only12, [defaults]), [{ profile: 'defaults', defaultProfile: 'only12', versions: 'TLSv1.2..TLSv1.3 beyond TLSv1.2..TLSv1.2' }]);
  assert.deepEqual(sniWidenings(defaults, [only12, narrow]), [], 'no list on the default: OpenSSL defaults, nothing wider');
});
