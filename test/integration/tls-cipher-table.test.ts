import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalCa, generateKeyPair, issueCertificate, type TrustpointMaterial } from '../../src/pki/index.js';
import { CIPHER_SUITES, buildTlsProfile, supportedCipherNames, type CipherSuiteName } from '../../src/tls/index.js';
import { connectTls, settled, startListener, startPeerServer } from './tls-support.js';

/**
 * Every suite of the cipher-name table, by each of its three names: either it is negotiated, inbound (our
 * listener, a client offering only it) and outbound (our client offering only it), or the profile naming it is
 * refused at load with the reason. An RSA certificate serves the RSA and DHE_RSA suites, an ECDSA one the ECDSA
 * suites; TLS 1.3 suites take either.
 */
function leaf(type: 'rsa' | 'ec'): { tp: TrustpointMaterial; ca: string } {
  const ca = createLocalCa({ commonName: `${type} CA`, key: type === 'rsa' ? { type: 'rsa', bits: 2048 } : { type: 'ec' } });
  const k = generateKeyPair(type === 'rsa' ? { type: 'rsa', bits: 2048 } : { type: 'ec' });
  const certPem = issueCertificate({
    subject: { commonName: 'gw.example' }, subjectKeyPem: k.publicKeyPem, issuerKeyPem: ca.keyPem, issuerCertPem: ca.certPem,
    san: [{ type: 'dns', value: 'gw.example' }], extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  return { tp: { keyPem: k.privateKeyPem, certPem, chainPems: [ca.certPem] }, ca: ca.certPem };
}
const rsa = leaf('rsa');
const ec = leaf('ec');
const supported = supportedCipherNames();
const ALL_TLS13 = CIPHER_SUITES.filter((x) => x.tls13).map((x) => x.openssl).join(':');
const certFor = (s: CipherSuiteName) => (/ECDSA/.test(s.iana) ? ec : rsa);

for (const s of CIPHER_SUITES) {
  const names = [s.iana, s.openssl, s.cube];
  if (!supported.has(s.openssl.toUpperCase())) {
    test(`${s.iana}: refused at load by each of its names, saying this OpenSSL cannot negotiate it`, () => {
      for (const n of names) {
        assert.throws(() => buildTlsProfile({ name: 'x', ciphers: [n] }, { trustpoint: rsa.tp, trustedCaPems: [rsa.ca] }), (e: Error & { details?: { problems?: { code: string; reason: string }[] } }) => {
          const p = e.details?.problems?.[0];
          return p?.code === 'ERR_TLS_CIPHER_UNSUPPORTED' && p.reason.includes(n);
        }, n);
      }
    });
    continue;
  }
  test(`${s.iana}: negotiated inbound and outbound when a profile names it as ${s.cube}`, async (t) => {
    const { tp, ca } = certFor(s);
    const version = s.tls13 ? { minVersion: 'TLSv1.3' as const } : { maxVersion: 'TLSv1.2' as const };
    for (const n of names) buildTlsProfile({ name: 'x', ciphers: [n], ...version }, { trustpoint: tp, trustedCaPems: [ca] });
    const p = buildTlsProfile({ name: 'only', ciphers: [s.cube], ...version }, { trustpoint: tp, trustedCaPems: [ca] });
    const rec = await startListener(t, { profiles: () => [p], defaultProfile: () => p });
    // Node takes TLS 1.3 suites in `ciphers` too (its TLS_* entries), so one option offers exactly this suite.
    const offer = { ciphers: s.openssl, ...(s.tls13 ? { minVersion: 'TLSv1.3' as const } : { maxVersion: 'TLSv1.2' as const }) };
    const inbound = await connectTls({ host: '127.0.0.1', port: rec.port, ca: [ca], checkServerIdentity: () => undefined, ...offer });
    assert.equal(inbound.ok ? inbound.cipher : inbound.failure.code, s.openssl, 'inbound');
    await settled(rec, 1);
    // The far end accepts everything this OpenSSL has, DHE and the TLS 1.3 CCM suites included.
    const peer = await startPeerServer(t, {
      key: tp.keyPem, cert: tp.certPem, ...(s.tls13 ? {} : { maxVersion: 'TLSv1.2' }), ciphers: `ALL:${ALL_TLS13}`, dhparam: 'auto',
    });
    const outbound = await connectTls(p.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'gw.example' }));
    assert.equal(outbound.ok ? outbound.cipher : outbound.failure.code, s.openssl, 'outbound');
  });
}
