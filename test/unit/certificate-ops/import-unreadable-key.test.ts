// `pki import` when the key a CSR left waiting cannot be read (an interrupted csr truncated it): the certificate is
// still checked against the trustpoint's own key, and a refusal names the unreadable file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { importTrustpointCertificate } from '../../../src/certificate-ops/enrol.js';
import type { PkiConfig } from '../../../src/certificate-ops/names.js';
import { createLocalCa, issueGatewayCertificate, saveTrustpoint } from '../../../src/pki/index.js';

test('a truncated pending key is passed over: a certificate for the current key imports, another is refused naming the bad file', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-import-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const ca = createLocalCa({ commonName: 'import CA' });
  const leaf = issueGatewayCertificate(ca, { domain: 'gw.test' });
  saveTrustpoint(join(root, 'tp'), leaf);
  writeFileSync(join(root, 'tp', 'key.pending.pem'), '-----BEGIN PRIVATE KEY-----\nMIIB\n');
  const config = { trustpoints: { gw: { dir: join(root, 'tp') } }, trustStores: {} } as unknown as PkiConfig;
  const r = importTrustpointCertificate(config, { trustpoint: 'gw', certPem: leaf.certPem, chainPem: ca.certPem, certLabel: 'the certificate' });
  assert.equal(r.key, 'current');
  const stranger = issueGatewayCertificate(createLocalCa({ commonName: 'other CA' }), { domain: 'other.test' });
  assert.throws(() => importTrustpointCertificate(config, { trustpoint: 'gw', certPem: stranger.certPem, chainPem: ca.certPem, certLabel: 'the certificate' }),
    (e: Error & { code?: string }) => e.code === 'ERR_PKI_KEY_MISMATCH' && /not readable as a private key: .*key\.pending\.pem/.test(e.message));
});
