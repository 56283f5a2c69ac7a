// `pki import` (and POST /pki/import) into a trustpoint whose chain is several files: the chain as imported is
// written across them, one certificate each in path order, so the chain the gateway reads back is exactly the one
// imported; a chain that does not fit the files one each is refused before anything is written.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { importTrustpointCertificate } from '../../../src/certificate-ops/enrol.js';
import type { PkiConfig } from '../../../src/certificate-ops/names.js';
import { createLocalCa, generateKeyPair, issueCertificate, issueGatewayCertificate, splitPemBundle, type LocalCa } from '../../../src/pki/index.js';
import { loadTrustpointEntry } from '../../../src/tls-files.js';

/** A root, an intermediate it signed, and a gateway certificate the intermediate signed. */
function hierarchy(name: string): { root: LocalCa; intermediate: LocalCa; leaf: { keyPem: string; certPem: string } } {
  const root = createLocalCa({ commonName: `${name} root` });
  const keys = generateKeyPair({ type: 'ec' });
  const intermediate = {
    keyPem: keys.privateKeyPem,
    certPem: issueCertificate({ subject: { commonName: `${name} intermediate` }, subjectKeyPem: keys.publicKeyPem, issuerKeyPem: root.keyPem, issuerCertPem: root.certPem, isCA: true }),
  };
  return { root, intermediate, leaf: issueGatewayCertificate(intermediate, { domain: 'gw.test' }) };
}

function trustpoint(t: TestContext, chain: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-import-chain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const old = hierarchy('old');
  const tp = { certificate: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), chain: chain.map((f) => join(dir, f)) };
  writeFileSync(tp.certificate, old.leaf.certPem);
  writeFileSync(tp.key, old.leaf.keyPem);
  for (const f of tp.chain) writeFileSync(f, `old ${f}\n`);
  const config = { trustpoints: { gw: tp }, trustStores: {} } as unknown as PkiConfig;
  return { dir, tp, config, keyPem: old.leaf.keyPem };
}

/** A certificate for the trustpoint's current key, from a new hierarchy. */
function signedFor(keyPem: string): { root: LocalCa; intermediate: LocalCa; certPem: string } {
  const h = hierarchy('new');
  const certPem = issueCertificate({
    subject: { commonName: 'gw.test' }, subjectKeyPem: keyPem, issuerKeyPem: h.intermediate.keyPem, issuerCertPem: h.intermediate.certPem,
    san: [{ type: 'dns', value: 'gw.test' }], extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  return { root: h.root, intermediate: h.intermediate, certPem };
}

const one = (pem: string) => splitPemBundle(pem)[0]!;

test('a chain of two files gets one certificate each, and the gateway reads back exactly the chain imported', (t) => {
  const { tp, config, keyPem } = trustpoint(t, ['intermediate.pem', 'root.pem']);
  const s = signedFor(keyPem);
  const r = importTrustpointCertificate(config, { trustpoint: 'gw', certPem: s.certPem, chainPem: s.intermediate.certPem + s.root.certPem, certLabel: 'gw.crt' });
  assert.equal(r.chainLength, 2);
  assert.deepEqual(r.files, [tp.certificate, ...tp.chain, tp.key]);
  assert.deepEqual(tp.chain.map((f) => readFileSync(f, 'utf8')), [one(s.intermediate.certPem), one(s.root.certPem)]);
  assert.deepEqual(loadTrustpointEntry('gw', tp).chainPems, [one(s.intermediate.certPem), one(s.root.certPem)]);
});

test('a chain that does not fit the files one certificate each is refused, naming them, and nothing is written', (t) => {
  const { tp, config, keyPem } = trustpoint(t, ['a.pem', 'b.pem', 'c.pem']);
  const s = signedFor(keyPem);
  const before = [tp.certificate, tp.key, ...tp.chain].map((f) => readFileSync(f, 'utf8'));
  assert.throws(() => importTrustpointCertificate(config, { trustpoint: 'gw', certPem: s.certPem, chainPem: s.intermediate.certPem + s.root.certPem, certLabel: 'gw.crt' }),
    (e: Error & { code?: string; kind?: string }) => e.code === 'ERR_PKI_TRUSTPOINT_FILES' && e.kind === 'conflict'
      && e.message.includes('3 chain files') && e.message.includes('2 certificates') && e.message.includes(tp.chain[2]!));
  assert.deepEqual([tp.certificate, tp.key, ...tp.chain].map((f) => readFileSync(f, 'utf8')), before);
});

test('a file named twice (a chain file that is also the certificate) is refused: one of the two would be lost', (t) => {
  const { tp, keyPem } = trustpoint(t, ['intermediate.pem', 'root.pem']);
  const s = signedFor(keyPem);
  const same = { trustpoints: { gw: { ...tp, chain: [tp.certificate, tp.chain[1]] } }, trustStores: {} } as unknown as PkiConfig;
  assert.throws(() => importTrustpointCertificate(same, { trustpoint: 'gw', certPem: s.certPem, chainPem: s.intermediate.certPem + s.root.certPem, certLabel: 'gw.crt' }),
    { code: 'ERR_PKI_TRUSTPOINT_FILES' });
  assert.notEqual(readFileSync(tp.certificate, 'utf8'), one(s.certPem));
});
