// `pki import` (and POST /pki/import) checks that the trustpoint, as its files will be written, is one a TLS profile
// using it can load: the gateway builds the chain from the certificate file's first certificate, the chain files and
// the profile's trust store only. A chain with no file to hold it (a trustpoint by path with no `chain:`) is refused
// with ERR_PKI_IMPORT_UNUSABLE and the old files stay; chainLength says what the chain files hold.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { importTrustpointCertificate } from '../../../src/certificate-ops/enrol.js';
import type { PkiConfig } from '../../../src/certificate-ops/names.js';
import { createLocalCa, generateKeyPair, issueCertificate, issueGatewayCertificate, saveTrustpoint, type LocalCa } from '../../../src/pki/index.js';
import { buildTlsProfile } from '../../../src/tls/profile.js';
import { loadTrustpointEntry, trustStorePems, type TrustpointEntry } from '../../../src/tls-files.js';

/** A root, an intermediate it signed (a CA), and a certificate for `keyPem` signed by `by` (the intermediate or the root). */
function signed(keyPem: string, by: 'root' | 'intermediate'): { root: LocalCa; intermediate: LocalCa; certPem: string } {
  const root = createLocalCa({ commonName: 'new root' });
  const k = generateKeyPair({ type: 'ec' });
  const intermediate = {
    keyPem: k.privateKeyPem,
    certPem: issueCertificate({ subject: { commonName: 'new intermediate' }, subjectKeyPem: k.publicKeyPem, issuerKeyPem: root.keyPem, issuerCertPem: root.certPem, isCA: true }),
  };
  const issuer = by === 'root' ? root : intermediate;
  const certPem = issueCertificate({
    subject: { commonName: 'gw.test' }, subjectKeyPem: keyPem, issuerKeyPem: issuer.keyPem, issuerCertPem: issuer.certPem,
    san: [{ type: 'dns', value: 'gw.test' }], extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  return { root, intermediate, certPem };
}

/** A trustpoint (by path with the chain files given, or a folder) holding an old certificate, and an empty trust-store folder. */
function setup(t: TestContext, layout: { chain?: string[] } | 'dir') {
  const dir = mkdtempSync(join(tmpdir(), 'tg-import-loadable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const oldCa = createLocalCa({ commonName: 'old CA' });
  const old = issueGatewayCertificate(oldCa, { domain: 'gw.test' });
  const store = join(dir, 'trust');
  mkdirSync(store);
  let tp: TrustpointEntry;
  let files: string[];
  if (layout === 'dir') {
    tp = { dir: join(dir, 'tp') };
    saveTrustpoint(tp.dir, { ...old, chainPems: [] });
    files = ['cert.pem', 'chain.pem', 'key.pem'].map((f) => join(join(dir, 'tp'), f));
  } else {
    const chain = layout.chain?.map((f) => join(dir, f));
    tp = { certificate: join(dir, 'publickey.pem'), key: join(dir, 'privateKey.pem'), ...(chain ? { chain } : {}) };
    writeFileSync(tp.certificate, old.certPem);
    writeFileSync(tp.key, old.keyPem);
    for (const f of chain ?? []) writeFileSync(f, 'old chain\n');
    files = [tp.certificate, tp.key, ...(chain ?? [])];
  }
  const snapshot = (): string[] => files.map((f) => readFileSync(f, 'utf8'));
  const withProfile = { trustpoints: { gw: tp }, trustStores: { remote: store }, tlsProfiles: { edge: { trustpoint: 'gw', trustStore: 'remote' } } } as unknown as PkiConfig;
  const noProfile = { trustpoints: { gw: tp }, trustStores: { remote: store } } as unknown as PkiConfig;
  /** The profile edge built from the files as they are now, as the gateway builds it at start and on reload. */
  const load = () => buildTlsProfile({ name: 'edge' }, { trustpoint: loadTrustpointEntry('gw', tp), trustedCaPems: trustStorePems('remote', store) });
  return { tp, store, oldCa, keyPem: old.keyPem, snapshot, withProfile, noProfile, load };
}

const unusable = (e: Error & { code?: string; kind?: string }): boolean => e.code === 'ERR_PKI_IMPORT_UNUSABLE' && e.kind === 'refused';

test('no chain file for an intermediate: refused before anything is written, and the old files still load', (t) => {
  const s = setup(t, {});
  const n = signed(s.keyPem, 'intermediate');
  writeFileSync(join(s.store, 'root.pem'), n.root.certPem);
  writeFileSync(join(s.store, 'old-ca.pem'), s.oldCa.certPem);
  const before = s.snapshot();
  for (const config of [s.withProfile, s.noProfile]) {
    assert.throws(() => importTrustpointCertificate(config, { trustpoint: 'gw', certPem: n.certPem, chainPem: n.intermediate.certPem + n.root.certPem, certLabel: 'gw.crt' }),
      (e: Error & { code?: string; kind?: string }) => unusable(e) && /no issuer found for .*CN=new intermediate/.test(e.message)
        && e.message.includes('names no chain file to hold the 2 certificate(s)') && e.message.endsWith('nothing written'));
    assert.deepEqual(s.snapshot(), before);
  }
  assert.match(s.load().certificate.issuer, /CN=old CA/, 'the old certificate still loads');
});

test('no chain file, the issuer in the profile\'s trust store: imported, chainLength 0 as written, and the profile loads it', (t) => {
  const s = setup(t, {});
  const n = signed(s.keyPem, 'root');
  writeFileSync(join(s.store, 'root.pem'), n.root.certPem);
  const r = importTrustpointCertificate(s.withProfile, { trustpoint: 'gw', certPem: n.certPem, chainPem: n.root.certPem, certLabel: 'gw.crt' });
  assert.equal(r.chainLength, 0);
  assert.match(s.load().certificate.issuer, /CN=new root/);
});

test('the profile\'s own trust store counts, not another one: an issuer only in a store the profile does not use is refused', (t) => {
  const s = setup(t, {});
  const n = signed(s.keyPem, 'root');
  const other = join(s.store, '..', 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'root.pem'), n.root.certPem);
  const config = { ...s.withProfile, trustStores: { remote: s.store, other } } as PkiConfig;
  const before = s.snapshot();
  assert.throws(() => importTrustpointCertificate(config, { trustpoint: 'gw', certPem: n.certPem, certLabel: 'gw.crt' }),
    (e: Error & { code?: string; kind?: string }) => unusable(e) && e.message.includes('TLS profile edge (trust store remote)'));
  assert.deepEqual(s.snapshot(), before);
});

test('a chain file takes the chain: chainLength 2 and the profile loads it', (t) => {
  const s = setup(t, { chain: ['CAList.pem'] });
  const n = signed(s.keyPem, 'intermediate');
  writeFileSync(join(s.store, 'root.pem'), n.root.certPem);
  const r = importTrustpointCertificate(s.withProfile, { trustpoint: 'gw', certPem: n.certPem, chainPem: n.intermediate.certPem, certLabel: 'gw.crt' });
  assert.equal(r.chainLength, 2);
  assert.match(s.load().certificate.issuer, /CN=new intermediate/);
});

test('a chain that ends in a trusted intermediate, not a root: the profile could not build it, so it is refused', (t) => {
  const s = setup(t, 'dir');
  const n = signed(s.keyPem, 'intermediate');
  writeFileSync(join(s.store, 'intermediate.pem'), n.intermediate.certPem);
  const before = s.snapshot();
  assert.throws(() => importTrustpointCertificate(s.withProfile, { trustpoint: 'gw', certPem: n.certPem, certLabel: 'gw.crt' }),
    (e: Error & { code?: string; kind?: string }) => unusable(e) && /no issuer found for .*CN=new root/.test(e.message) && !e.message.includes('names no chain file'));
  assert.deepEqual(s.snapshot(), before);
});
