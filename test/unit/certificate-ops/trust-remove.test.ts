// `pki trust remove` (and DELETE /pki/trust/:store/:sha256) on a trust-store folder the way the TLS side reads it:
// every certificate of every *.pem/*.crt file is trusted, a file may be a bundle, and a file with no certificate in
// it is ignored. A CA that shares a file with others is refused with nothing removed; a success leaves no file of
// the folder holding the CA; a file that is not a certificate is passed over, never an error.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { removeTrustedCa } from '../../../src/certificate-ops/authorities.js';
import type { PkiConfig } from '../../../src/certificate-ops/names.js';
import { createLocalCa, inspectCertificate, loadTrustStore } from '../../../src/pki/index.js';

const caA = createLocalCa({ commonName: 'CA A' });
const caB = createLocalCa({ commonName: 'CA B' });
const fpA = inspectCertificate(caA.certPem).fingerprint256;
const fpB = inspectCertificate(caB.certPem).fingerprint256;

/** A trust-store folder holding `files`, and a configuration naming it `remote`. */
function store(t: TestContext, files: Record<string, string>): { dir: string; config: PkiConfig; contents: () => Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'tg-trust-remove-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  const config = { trustpoints: {}, trustStores: { remote: dir } } as unknown as PkiConfig;
  const contents = (): Record<string, string> => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  return { dir, config, contents };
}

const trustedFps = (dir: string): string[] => loadTrustStore(dir).map((p) => inspectCertificate(p).fingerprint256);

test('a CA also held in a bundle is refused naming the bundle, and nothing is removed (it would stay trusted through the bundle)', (t) => {
  const s = store(t, { 'A.pem': caA.certPem, 'bundle.crt': caB.certPem + caA.certPem });
  const before = s.contents();
  assert.throws(() => removeTrustedCa(s.config, 'remote', fpA),
    (e: Error & { code?: string; kind?: string }) => e.code === 'ERR_PKI_TRUST_BUNDLE' && e.kind === 'conflict' && e.message.includes('bundle.crt')
      && !e.message.includes('A.pem'));
  assert.deepEqual(s.contents(), before, 'A.pem is not removed either');
  assert.ok(trustedFps(s.dir).includes(fpA));
});

test('a CA that is the first of a bundle is refused: removing the file would stop trusting the CAs after it', (t) => {
  const s = store(t, { 'A.pem': caA.certPem, 'bundle.crt': caB.certPem + caA.certPem });
  const before = s.contents();
  assert.throws(() => removeTrustedCa(s.config, 'remote', fpB.replace(/:/g, '').slice(0, 16)),
    (e: Error & { code?: string; kind?: string }) => e.code === 'ERR_PKI_TRUST_BUNDLE' && e.kind === 'conflict' && e.message.includes('bundle.crt'));
  assert.deepEqual(s.contents(), before);
  assert.deepEqual(new Set(trustedFps(s.dir)), new Set([fpA, fpB]));
});

test('every file that holds only the CA goes, whichever certificate of it matches, and the store no longer trusts it', (t) => {
  const s = store(t, { 'A.pem': caA.certPem, 'a-again.crt': caA.certPem + caA.certPem, 'B.pem': caB.certPem });
  const r = removeTrustedCa(s.config, 'remote', fpA);
  assert.deepEqual(r, { store: 'remote', removed: ['A.pem', 'a-again.crt'], skipped: [] });
  assert.deepEqual(Object.keys(s.contents()), ['B.pem']);
  assert.deepEqual(trustedFps(s.dir), [fpB]);
});

test('a file with no certificate in it is passed over and named as skipped, never an error', (t) => {
  const s = store(t, { 'notes.pem': '', 'readme.crt': 'CA A came from the remote site\n', 'A.pem': caA.certPem, 'B.pem': caB.certPem });
  const r = removeTrustedCa(s.config, 'remote', fpA);
  assert.deepEqual(r, { store: 'remote', removed: ['A.pem'], skipped: ['notes.pem', 'readme.crt'] });
  assert.deepEqual(Object.keys(s.contents()), ['B.pem', 'notes.pem', 'readme.crt']);
  assert.throws(() => removeTrustedCa(s.config, 'remote', fpA), (e: Error & { kind?: string }) => e.kind === 'missing');
});

test('a file named by name goes whatever it holds (pki trust remove STORE FILE)', (t) => {
  const s = store(t, { 'notes.pem': '', 'bundle.crt': caB.certPem + caA.certPem });
  assert.deepEqual(removeTrustedCa(s.config, 'remote', 'bundle.crt', { byFile: true }).removed, ['bundle.crt']);
  assert.deepEqual(removeTrustedCa(s.config, 'remote', 'notes.pem', { byFile: true }).removed, ['notes.pem']);
  assert.deepEqual(s.contents(), {});
});
