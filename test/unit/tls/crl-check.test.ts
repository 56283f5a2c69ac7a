// A TLS profile's CRLs are checked when it is built (src/tls/crl-check.ts): OpenSSL loads an expired CRL, one from an
// issuer outside the trust store or one with a broken signature without a word, then fails every handshake it applies
// to (CRL_HAS_EXPIRED, UNABLE_TO_GET_CRL, CRL_SIGNATURE_FAILURE). buildTlsProfile refuses each with ERR_TLS_CRL_INVALID
// naming the file and the reason; a good CRL, ours or openssl's, loads. The expiry watch warns before nextUpdate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertificateExpiryWatch } from '../../../src/cert-expiry.js';
import { listCertificates } from '../../../src/certificate-inventory.js';
import { ManualClock } from '../../../src/common/index.js';
import type { GatewayConfig } from '../../../src/config/index.js';
import { createCrl, createLocalCa, issueGatewayCertificate } from '../../../src/pki/index.js';
import { buildTlsProfile, type TlsProfileMaterial } from '../../../src/tls/index.js';
import { createTestCa, requireOpenssl } from '../../support/test-certs.js';
import { captureLog } from '../b2bua/fake-srf.js';

const DAY = 86_400_000;
const ca = createLocalCa({ commonName: 'CRL CA' });
const other = createLocalCa({ commonName: 'Other CA' });
const gw = issueGatewayCertificate(ca, { domain: 'gw.example.com' });
const base: TlsProfileMaterial = { trustpoint: gw, trustedCaPems: [ca.certPem] };
const goodCrl = createCrl({ issuerCertPem: ca.certPem, issuerKeyPem: ca.keyPem, revoked: [] });

/** The problems buildTlsProfile refused the material with; [] when it built the profile. */
function refusal(material: TlsProfileMaterial): { code: string; reason: string }[] {
  try {
    buildTlsProfile({ name: 'edge' }, material);
    return [];
  } catch (e) {
    const d = (e as { code?: string; details?: { code?: string; problems?: { code: string; reason: string }[] } });
    assert.equal(d.code, 'ERR_TLS_PROFILE_INVALID');
    assert.equal(d.details?.code, d.details?.problems?.[0]?.code, 'details.code is the first problem\'s');
    return d.details?.problems ?? [];
  }
}

test('an expired CRL is refused: nextUpdate has passed', () => {
  const expired = createCrl({ issuerCertPem: ca.certPem, issuerKeyPem: ca.keyPem, revoked: [], thisUpdate: new Date('2024-01-01'), nextUpdate: new Date('2024-01-08') });
  assert.deepEqual(refusal({ ...base, crlPems: [expired], crlLabels: ['/etc/trunkgate/ca.crl'] }), [
    { code: 'ERR_TLS_CRL_INVALID', reason: 'CRL /etc/trunkgate/ca.crl: expired: its nextUpdate 2024-01-08T00:00:00.000Z has passed' },
  ]);
});

test('a CRL whose issuer is not a CA of the trust store is refused', () => {
  const stranger = createCrl({ issuerCertPem: other.certPem, issuerKeyPem: other.keyPem, revoked: [] });
  assert.deepEqual(refusal({ ...base, crlPems: [goodCrl, stranger] }), [
    { code: 'ERR_TLS_CRL_INVALID', reason: 'CRL 2: its issuer O=trunkgate, CN=Other CA is not the subject of a CA in the profile\'s trust store' },
  ]);
});

test('a CRL with a broken signature is refused', () => {
  const der = Buffer.from(goodCrl.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  der[der.length - 3]! ^= 1;
  const broken = `-----BEGIN X509 CRL-----\n${der.toString('base64')}\n-----END X509 CRL-----\n`;
  assert.deepEqual(refusal({ ...base, crlPems: [broken] }), [
    { code: 'ERR_TLS_CRL_INVALID', reason: 'CRL 1: its signature does not verify with the key of O=trunkgate, CN=CRL CA' },
  ]);
  // Signed by a key that is not the named issuer's: the same refusal.
  const forged = createCrl({ issuerCertPem: other.certPem, issuerKeyPem: other.keyPem, revoked: [] });
  const sameName = createLocalCa({ commonName: 'Other CA' });
  assert.match(refusal({ ...base, trustedCaPems: [ca.certPem, sameName.certPem], crlPems: [forged] })[0]?.reason ?? '', /signature does not verify/);
});

test('a good CRL loads: ours, and one openssl made for an RSA CA', async (t) => {
  assert.deepEqual(refusal({ ...base, crlPems: [goodCrl] }), []);
  await requireOpenssl();
  const rsa = await createTestCa({ cn: 'openssl RSA CA', keyType: 'rsa' });
  t.after(() => rsa.cleanup());
  const leaf = await rsa.issue({ cn: 'gw.example.com', sans: ['DNS:gw.example.com'] });
  const cnf = join(rsa.dir, 'ca.cnf');
  writeFileSync(cnf, readFileSync(cnf, 'utf8').replace('[c]\n', '[c]\ndefault_crl_days = 7\n'));
  await promisify(execFile)('openssl', ['ca', '-config', cnf, '-cert', rsa.certPath, '-keyfile', rsa.keyPath, '-gencrl', '-out', join(rsa.dir, 'crl.pem')]);
  const crl = readFileSync(join(rsa.dir, 'crl.pem'), 'utf8');
  assert.deepEqual(refusal({ trustpoint: { certPem: leaf.cert, keyPem: leaf.key, chainPems: [rsa.cert] }, trustedCaPems: [rsa.cert], crlPems: [crl] }), []);
});

test('a profile\'s CRL is in the certificate inventory, role crl: the expiry watch warns before its nextUpdate', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-crl-expiry-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const start = Date.UTC(2030, 0, 1);
  const crlFile = join(root, 'ca.crl');
  writeFileSync(crlFile, createCrl({ issuerCertPem: ca.certPem, issuerKeyPem: ca.keyPem, revoked: [], thisUpdate: new Date(start - DAY), nextUpdate: new Date(start + 10 * DAY), crlNumber: 42 }));
  // Two profiles naming one file: one row.
  const config = {
    trustpoints: {}, trustStores: {},
    tlsProfiles: { a: { revocation: { crl: crlFile } }, b: { revocation: { crl: [crlFile] } } },
  } as unknown as GatewayConfig;
  const { rows, problems } = listCertificates(config, new Date(start));
  assert.deepEqual(problems, []);
  assert.equal(rows.length, 1);
  assert.deepEqual({ ...rows[0], sha256: '-' }, {
    where: `CRL ${crlFile}`, role: 'crl', subject: 'O=trunkgate, CN=CRL CA', san: [], issuer: 'O=trunkgate, CN=CRL CA', serial: '2a', sha256: '-',
    notBefore: new Date(start - DAY).toISOString(), notAfter: new Date(start + 10 * DAY).toISOString(), daysLeft: 10,
  });
  const clock = new ManualClock(start);
  const { log, lines } = captureLog();
  const w = new CertificateExpiryWatch({ log, config: () => config, clock, everyMs: DAY });
  w.start();
  t.after(() => w.close());
  for (let day = 1; day <= 11; day++) clock.advance(DAY);
  assert.deepEqual(lines.map((l) => `${l['code']} ${l['role']} ${l['threshold'] ?? '-'} ${l['daysLeft']}`), [
    'WARN_CERT_EXPIRING crl 30 10', 'WARN_CERT_EXPIRING crl 7 7', 'WARN_CERT_EXPIRING crl 1 1', 'ERR_TLS_CRL_INVALID crl - -1',
  ]);
  assert.match(String(lines[0]!['msg']), /^CRL nextUpdate in 10 days: CRL .*ca\.crl \(crl\) O=trunkgate, CN=CRL CA/);
});
