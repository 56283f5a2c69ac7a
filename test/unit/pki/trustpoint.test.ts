import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootstrapPki,
  createLocalCa,
  exportCaCertificate,
  generateKeyPair,
  importSignedCertificate,
  importTrustedCa,
  issueCertificate,
  issueGatewayCertificate,
  loadTrustStore,
  verifyCertificateChain,
} from '../../../src/pki/index.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-pki-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** root → intermediate → leaf, as an outside CA would hand it back. */
function outsideChain() {
  const root = createLocalCa({ commonName: 'Outside Root' });
  const ik = generateKeyPair();
  const intermediate = issueCertificate({
    subject: { commonName: 'Outside Issuing CA' },
    subjectKeyPem: ik.publicKeyPem,
    issuerKeyPem: root.keyPem,
    issuerCertPem: root.certPem,
    isCA: true,
  });
  const lk = generateKeyPair();
  const leaf = issueCertificate({
    subject: { commonName: 'gw.example.com' },
    subjectKeyPem: lk.publicKeyPem,
    issuerKeyPem: ik.privateKeyPem,
    issuerCertPem: intermediate,
    san: [{ type: 'dns', value: 'gw.example.com' }],
  });
  return { root, intermediate, leaf, leafKey: lk.privateKeyPem };
}

test('import accepts a matching certificate whose chain reaches the root', () => {
  const c = outsideChain();
  const tp = importSignedCertificate({ privateKeyPem: c.leafKey, certPem: c.leaf, chainPems: [c.intermediate, c.root.certPem] });
  assert.equal(tp.chainPems.length, 2);
  const tp2 = importSignedCertificate({ privateKeyPem: c.leafKey, certPem: c.leaf + c.intermediate, trustedPems: [c.root.certPem] });
  assert.equal(tp2.chainPems.length, 2, 'bundle in the cert PEM, root from the trust store');
});

test('import refuses: key mismatch, missing intermediate, unknown root, expired, not yet valid', () => {
  const c = outsideChain();
  const other = generateKeyPair();
  assert.throws(() => importSignedCertificate({ privateKeyPem: other.privateKeyPem, certPem: c.leaf, chainPems: [c.intermediate, c.root.certPem] }), {
    code: 'ERR_PKI_KEY_MISMATCH',
  });
  assert.throws(() => importSignedCertificate({ privateKeyPem: c.leafKey, certPem: c.leaf, chainPems: [c.root.certPem] }), {
    code: 'ERR_PKI_CHAIN_INCOMPLETE',
  });
  const stranger = createLocalCa({ commonName: 'Stranger' });
  assert.throws(
    () => importSignedCertificate({ privateKeyPem: c.leafKey, certPem: c.leaf, chainPems: [c.intermediate, c.root.certPem], trustedPems: [stranger.certPem] }),
    { code: 'ERR_PKI_CHAIN_INCOMPLETE' },
  );
  const later = new Date(Date.now() + 900 * 86_400_000);
  assert.throws(() => importSignedCertificate({ privateKeyPem: c.leafKey, certPem: c.leaf, chainPems: [c.intermediate, c.root.certPem], now: later }), {
    code: 'ERR_PKI_CERT_EXPIRED',
  });
  const earlier = new Date(Date.now() - 86_400_000);
  assert.throws(() => importSignedCertificate({ privateKeyPem: c.leafKey, certPem: c.leaf, chainPems: [c.intermediate, c.root.certPem], now: earlier }), {
    code: 'ERR_PKI_CERT_NOT_YET_VALID',
  });
});

test('chain with a forged issuer of the same name fails on the signature', () => {
  const c = outsideChain();
  const impostor = createLocalCa({ commonName: 'Outside Root' });
  const r = verifyCertificateChain({ certPem: c.intermediate, trustedPems: [impostor.certPem] });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'ERR_PKI_SIGNATURE_INVALID');
});

test('trust store: import a remote CA once, refuse a leaf, load the folder', (t) => {
  const dir = tmp(t);
  const remote = createLocalCa({ commonName: 'Carrier Root' });
  importTrustedCa(dir, remote.certPem);
  importTrustedCa(dir, remote.certPem);
  const gw = issueGatewayCertificate(remote, { domain: 'x.example' });
  assert.throws(() => importTrustedCa(dir, gw.certPem), { code: 'ERR_PKI_NOT_CA' });
  const loaded = loadTrustStore(dir);
  assert.equal(loaded.length, 1);
  assert.equal(loaded[0], remote.certPem);
});

test('export our CA as PEM and DER', () => {
  const ca = createLocalCa();
  const out = exportCaCertificate(ca.certPem);
  assert.equal(out.pem, ca.certPem);
  assert.equal(out.der[0], 0x30, 'DER SEQUENCE');
  assert.equal(Buffer.compare(out.der, Buffer.from(ca.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')), 0);
});

test('bootstrap creates CA and trustpoint with 0600 keys, and is idempotent', (t) => {
  const dir = tmp(t);
  const first = bootstrapPki(dir, 'gw.example.com');
  assert.equal(first.created, true);
  for (const key of [first.caKeyPath, join(first.trustpointDir, 'key.pem')]) {
    assert.equal(statSync(key).mode & 0o777, 0o600, key);
  }
  assert.equal(statSync(first.caCertPath).mode & 0o077, 0o044);
  const r = verifyCertificateChain({ certPem: first.trustpoint.certPem, trustedPems: [first.caCertPem] });
  assert.equal(r.ok, true);
  const second = bootstrapPki(dir, 'gw.example.com');
  assert.equal(second.created, false);
  assert.equal(second.trustpoint.certPem, first.trustpoint.certPem);
  assert.equal(readFileSync(join(dir, 'trustpoints/gw/cert.pem'), 'utf8'), first.trustpoint.certPem);
});
