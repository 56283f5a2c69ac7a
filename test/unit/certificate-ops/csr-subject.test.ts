/**
 * A CSR's subject is what the operator typed, as openssl (a peer we did not write) reads it back: non-ASCII text such
 * as `O=München GmbH` or `CN=東京.example` is written as a UTF8String, not as PrintableString garbage. A subject with a
 * control character (a terminal escape, a line break), a value over its RFC 5280 bound or a C that is not two letters
 * is refused with 400 ERR_PKI_CSR_INVALID, and no key is left waiting for it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAdmin } from '../../../src/admin/index.js';
import { pkiService } from '../../../src/certificate-ops/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { createLocalCa, generateKeyPair, issueCertificate, issueGatewayCertificate } from '../../../src/pki/index.js';
import { minimalAdminServices } from '../../support/admin-services.js';
import { requireOpenssl } from '../../support/test-certs.js';

await requireOpenssl();

function folder(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-csr-subject-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** The subject as `openssl <req|x509> -noout -subject -nameopt utf8` prints it, as attribute → value. */
function opensslSubject(kind: 'req' | 'x509', pem: string, dir: string): Record<string, string> {
  const file = join(dir, `${kind}.pem`);
  writeFileSync(file, pem);
  const line = execFileSync('openssl', [kind, '-in', file, '-noout', '-subject', '-nameopt', 'utf8'], { encoding: 'utf8' }).trim();
  rmSync(file);
  assert.match(line, /^subject=/);
  return Object.fromEntries(line.slice('subject='.length).split(', ').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

/**
 * The string type each value is written with, as `openssl asn1parse` shows it: PrintableString for a value of that
 * character set only, UTF8String for any other (RFC 5280 §4.1.2.4), never Latin-1 bytes in a PrintableString.
 */
function stringTypes(pem: string, dir: string): string[] {
  const file = join(dir, 'asn1.pem');
  writeFileSync(file, pem);
  const out = execFileSync('openssl', ['asn1parse', '-in', file], { encoding: 'utf8' });
  rmSync(file);
  return out.split('\n').map((l) => /prim: (PRINTABLESTRING|UTF8STRING)\s*:(.*)$/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]}:${m[2]}`);
}

const expectedTypes = (values: string[]): string[] =>
  values.map((v) => `${/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(v) ? 'PRINTABLESTRING' : 'UTF8STRING'}:${v}`).sort();

/** What was typed, as attribute → value. */
const typed = (subject: string): Record<string, string> => Object.fromEntries(subject.split(',').map((p) => p.split('=') as [string, string]));

async function admin(t: TestContext) {
  const dir = folder(t);
  const tp = join(dir, 'trustpoints', 'gw');
  const pki = pkiService({ config: () => ({ trustpoints: { gw: { dir: tp } }, trustStores: {} }) });
  const app = await buildAdmin({ ...minimalAdminServices(), pki }, { log: silentLogger(), processMetrics: false });
  t.after(() => app.close());
  const csr = (subject: string) => app.inject({ method: 'POST', url: '/pki/csr', payload: { trustpoint: 'gw', subject } });
  return { dir, csr };
}

const SUBJECTS = [
  'CN=gw.example.com,O=München GmbH,OU=Sprachdienste,C=DE',
  'CN=東京.example,O=株式会社テスト',
  'CN=gw_1.example.com,O=Société Générale',
  'CN=gw.example.com,O=Example (Voice),OU=Trunk 2,C=US',
];

for (const subject of SUBJECTS) {
  test(`POST /pki/csr ${JSON.stringify(subject)}: openssl reads the subject back as typed, and the CSR verifies`, async (t) => {
    const { dir, csr } = await admin(t);
    const r = await csr(subject);
    assert.equal(r.statusCode, 200, r.body);
    const pem = (r.json() as { csr: string }).csr;
    assert.deepEqual(opensslSubject('req', pem, dir), typed(subject));
    assert.deepEqual(stringTypes(pem, dir).sort(), expectedTypes(Object.values(typed(subject))));
    const file = join(dir, 'check.csr');
    writeFileSync(file, pem);
    execFileSync('openssl', ['req', '-in', file, '-noout', '-verify'], { stdio: 'ignore' });
  });
}

test('a certificate issued with a non-ASCII subject reads back as typed in openssl x509', (t) => {
  const dir = folder(t);
  const k = generateKeyPair();
  const subject = { commonName: '東京.example', organization: 'München GmbH', country: 'DE' };
  const pem = issueCertificate({ subject, subjectKeyPem: k.publicKeyPem, issuerKeyPem: k.privateKeyPem });
  assert.deepEqual(opensslSubject('x509', pem, dir), { C: 'DE', O: 'München GmbH', CN: '東京.example' });
  assert.deepEqual(stringTypes(pem, dir).sort(), expectedTypes(['DE', 'München GmbH', '東京.example', 'DE', 'München GmbH', '東京.example']),
    'subject and issuer (self-signed)');
});

const REFUSED = [
  { what: 'an escape sequence and a line break in the CN', subject: 'CN=gw\u001b[31m\r\nINJECT,O=x', says: /CN: the control character U\+001B/ },
  { what: 'a DEL in the O', subject: 'CN=gw.example.com,O=Ex\u007fample', says: /O: the control character U\+007F/ },
  { what: 'a right-to-left override in the OU', subject: 'CN=gw.example.com,OU=moc.\u202eelpmaxe', says: /OU: the control character U\+202E/ },
  { what: 'a CN of 65 characters', subject: `CN=${'a'.repeat(61)}.com`, says: /CN is 65 characters long; RFC 5280 allows at most 64/ },
  { what: 'an O of 65 characters', subject: `CN=gw.example.com,O=${'ü'.repeat(65)}`, says: /O is 65 characters long/ },
  { what: 'a three-letter C', subject: 'CN=gw.example.com,C=DEU', says: /C: 'DEU' is not a two-letter country code/ },
];

for (const c of REFUSED) {
  test(`POST /pki/csr with ${c.what} is refused 400 ERR_PKI_CSR_INVALID, and no key is left waiting`, async (t) => {
    const { dir, csr } = await admin(t);
    const r = await csr(c.subject);
    assert.equal(r.statusCode, 400);
    const body = r.json() as { code: string; message: string };
    assert.equal(body.code, 'ERR_PKI_CSR_INVALID');
    assert.match(body.message, c.says);
    assert.doesNotMatch(body.message, /[\u0000-\u001f\u007f\u202e]/, 'the refusal does not echo the character');
    assert.deepEqual(readdirSync(dir), [], 'no pending key, not even its folder');
  });
}

test('a 64-character CN, the bound, is taken', async (t) => {
  const { dir, csr } = await admin(t);
  const cn = `${'a'.repeat(60)}.com`;
  const r = await csr(`CN=${cn}`);
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(opensslSubject('req', (r.json() as { csr: string }).csr, dir), { CN: cn });
});

test('a gateway certificate for a domain over 64 characters is still issued, named by its SAN alone', (t) => {
  const dir = folder(t);
  const domain = `${'a'.repeat(63)}.${'b'.repeat(10)}.example`;
  const ca = createLocalCa();
  const gw = issueGatewayCertificate(ca, { domain });
  assert.deepEqual(opensslSubject('x509', gw.certPem, dir), { O: 'trunkgate' });
  assert.match(new X509Certificate(gw.certPem).subjectAltName ?? '', new RegExp(`DNS:${domain}`));
});
