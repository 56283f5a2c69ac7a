/**
 * `pki trust add` and POST /pki/trust take CAs within their dates only, and a CA bundle whole: an expired CA is
 * refused with ERR_PKI_CERT_EXPIRED, one not yet valid with ERR_PKI_CERT_NOT_YET_VALID (422), a leaf with
 * ERR_PKI_NOT_CA, and a bundle with any of them in it adds nothing; a bundle of CAs adds every one, each in its own
 * file, and the reply lists them all.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAdmin } from '../../../src/admin/index.js';
import { CertificateTaskError, pkiService } from '../../../src/certificate-ops/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { createLocalCa, issueGatewayCertificate } from '../../../src/pki/index.js';
import { minimalAdminServices } from '../../support/admin-services.js';

const expired = createLocalCa({ commonName: 'Expired CA', validityDays: 1, now: new Date('2020-01-01') });
const future = createLocalCa({ commonName: 'Future CA', now: new Date('2035-01-01') });
const a = createLocalCa({ commonName: 'A' });
const b = createLocalCa({ commonName: 'B' });
const leaf = issueGatewayCertificate(a, { domain: 'gw.example.com' }).certPem;
const sha = (pem: string): string => new X509Certificate(pem).fingerprint256;

function store(t: TestContext): { dir: string; files: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tg-trust-add-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, files: () => readdirSync(dir).sort() };
}

const service = (dir: string) => pkiService({ config: () => ({ trustpoints: {}, trustStores: { remote: dir } }) });

const REFUSED = [
  { what: 'an expired CA', pem: expired.certPem, code: 'ERR_PKI_CERT_EXPIRED', says: /Expired CA.*expired 2020-01-02/ },
  { what: 'a CA not yet valid', pem: future.certPem, code: 'ERR_PKI_CERT_NOT_YET_VALID', says: /Future CA.*not valid before 2034-12-31/ },
  { what: 'a bundle whose second CA expired', pem: a.certPem + expired.certPem, code: 'ERR_PKI_CERT_EXPIRED', says: /certificate 2 of 2 \(.*Expired CA/ },
  { what: 'a bundle with a leaf in it', pem: b.certPem + leaf, code: 'ERR_PKI_NOT_CA', says: /certificate 2 of 2 .* is not a CA/ },
] as const;

for (const c of REFUSED) {
  test(`the service refuses ${c.what} with ${c.code}, and the store folder stays empty`, (t) => {
    const s = store(t);
    assert.throws(() => service(s.dir).trustAdd({ store: 'remote', certificate: c.pem }), (e: unknown) =>
      e instanceof CertificateTaskError && e.code === c.code && e.kind === 'refused' && c.says.test(e.message));
    assert.deepEqual(s.files(), []);
  });

  test(`POST /pki/trust answers ${c.what} with 422 ${c.code}, and no file is left`, async (t) => {
    const s = store(t);
    const app = await buildAdmin({ ...minimalAdminServices(), pki: service(s.dir) }, { log: silentLogger(), processMetrics: false });
    t.after(() => app.close());
    const r = await app.inject({ method: 'POST', url: '/pki/trust', payload: { store: 'remote', certificate: c.pem } });
    assert.equal(r.statusCode, 422);
    assert.equal((r.json() as { code: string }).code, c.code);
    assert.deepEqual(s.files(), []);
  });
}

test('the service adds every CA of a bundle, each in its own file, and says which', (t) => {
  const s = store(t);
  const r = service(s.dir).trustAdd({ store: 'remote', certificate: `${a.certPem}${b.certPem}${a.certPem}` });
  assert.deepEqual(r.added.map((x) => [x.subject, x.sha256]), [['O=trunkgate, CN=A', sha(a.certPem)], ['O=trunkgate, CN=B', sha(b.certPem)]]);
  assert.equal(s.files().length, 2, 'A given twice is one file');
  assert.deepEqual(r.added.map((x) => sha(readFileSync(x.file, 'utf8'))), [sha(a.certPem), sha(b.certPem)]);
});

test('POST /pki/trust adds every CA of a bundle and answers with each', async (t) => {
  const s = store(t);
  const app = await buildAdmin({ ...minimalAdminServices(), pki: service(s.dir) }, { log: silentLogger(), processMetrics: false });
  t.after(() => app.close());
  const r = await app.inject({ method: 'POST', url: '/pki/trust', payload: { store: 'remote', certificate: a.certPem + b.certPem } });
  assert.equal(r.statusCode, 200);
  const body = r.json() as { added: { subject: string; sha256: string }[] };
  assert.deepEqual(body.added, [{ subject: 'O=trunkgate, CN=A', sha256: sha(a.certPem) }, { subject: 'O=trunkgate, CN=B', sha256: sha(b.certPem) }]);
  assert.deepEqual(s.files().map((f) => sha(readFileSync(join(s.dir, f), 'utf8'))).sort(), [sha(a.certPem), sha(b.certPem)].sort());
});
