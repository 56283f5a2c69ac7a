// trunkgate tls probe and a far end's revocation status: `openssl s_server -status_file` staples an OCSP response
// that `openssl ocsp` made at test time from the test CA's database (index.txt), for a good and a revoked
// certificate; the probe reports what the responder said, for which certificate, and who signed it. A far end that
// staples nothing is reported as such; the leaf's OCSP responder and CRL distribution point are named, not fetched.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { tlsProbeCommand } from '../../../src/cli/tls-probe.js';
import { probeTls } from '../../../src/tls/index.js';
import { createTestCa, type TestCa, type TestCert } from '../../support/test-certs.js';
import { HAS_OPENSSL, sServer } from './openssl-cli.js';

assert.equal(HAS_OPENSSL, true);
const run = promisify(execFile);
const OCSP_URL = 'http://ocsp.carrier.test/';
const CRL_URL = 'http://crl.carrier.test/carrier.crl';
const ca = await createTestCa({ cn: 'carrier CA' });
const stranger = await createTestCa({ cn: 'stranger CA' });
process.on('exit', () => {
  void ca.cleanup();
  void stranger.cleanup();
});
const pointers = [`authorityInfoAccess=OCSP;URI:${OCSP_URL}`, `crlDistributionPoints=URI:${CRL_URL}`];
const good = await ca.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test'], extensions: pointers });
const revoked = await ca.issue({ cn: 'old.carrier.test', sans: ['DNS:old.carrier.test'], extensions: pointers });
await ca.revoke(revoked, 'keyCompromise');
const plain = await ca.issue({ cn: 'plain.carrier.test', sans: ['DNS:plain.carrier.test'] });

/** The responder's answer for `cert`, made by `openssl ocsp` from the CA's index.txt and signed by `signer`. */
async function ocspResponse(cert: TestCert, name: string, signer: TestCa = ca): Promise<string> {
  const req = join(ca.dir, `${name}.req`);
  const resp = join(ca.dir, `${name}.der`);
  await run('openssl', ['ocsp', '-issuer', ca.certPath, '-cert', cert.certPath, '-no_nonce', '-reqout', req]);
  await run('openssl', ['ocsp', '-index', join(ca.dir, 'index.txt'), '-CA', ca.certPath, '-rsigner', signer.certPath, '-rkey', signer.keyPath,
    '-reqin', req, '-respout', resp, '-ndays', '2']);
  return resp;
}

async function farEnd(t: TestContext, cert: TestCert, args: string[]): Promise<number> {
  const s = await sServer(['-cert', cert.certPath, '-key', cert.keyPath, '-cert_chain', ca.certPath, ...args]);
  t.after(() => s.stop());
  return s.port;
}

const probe = (port: number) => probeTls({ host: '127.0.0.1', port, sni: 'sbc.carrier.test' });
const DAY = 86_400_000;

test('a good certificate with a stapled response: good, for its own certificate, signed by its issuer, with the dates', async (t) => {
  const r = await probe(await farEnd(t, good, ['-status_file', await ocspResponse(good, 'good')]));
  const o = r.ocsp;
  assert.deepEqual({ stapled: o.stapled, status: o.status, forLeaf: o.forLeaf, signature: o.signature }, { stapled: true, status: 'good', forLeaf: true, signature: 'valid' });
  assert.match(o.signatureNote ?? '', /signed by the issuer \(CN=carrier CA\)/);
  const now = Date.now();
  assert.ok(Math.abs(Date.parse(o.thisUpdate!) - now) < DAY, `thisUpdate ${o.thisUpdate}`);
  assert.ok(Math.abs(Date.parse(o.nextUpdate!) - (now + 2 * DAY)) < DAY, `nextUpdate ${o.nextUpdate} (openssl ocsp -ndays 2)`);
  assert.equal(o.revokedAt, undefined);
  assert.deepEqual(r.revocation, { ocspUrls: [OCSP_URL], crlUrls: [CRL_URL], fetched: false });
});

test('a revoked certificate: revoked, when, and the reason the CA database gives (keyCompromise)', async (t) => {
  const r = await probe(await farEnd(t, revoked, ['-status_file', await ocspResponse(revoked, 'revoked')]));
  assert.equal(r.ocsp.status, 'revoked');
  assert.equal(r.ocsp.reason, 'keyCompromise');
  assert.equal(r.ocsp.forLeaf, true);
  assert.ok(Math.abs(Date.parse(r.ocsp.revokedAt!) - Date.now()) < DAY, `revokedAt ${r.ocsp.revokedAt}`);
  assert.equal(r.ocsp.signature, 'valid');
});

test('no stapling: stapled false, and a certificate without pointers names none', async (t) => {
  const r = await probe(await farEnd(t, plain, []));
  assert.deepEqual(r.ocsp, { stapled: false });
  assert.deepEqual(r.revocation, { ocspUrls: [], crlUrls: [], fetched: false });
  assert.deepEqual(r.chain.map((c) => c.subject), ['CN=plain.carrier.test', 'CN=carrier CA']);
});

test('a response for another certificate, or signed by a stranger, is reported as such', async (t) => {
  const other = await probe(await farEnd(t, good, ['-status_file', await ocspResponse(revoked, 'other')]));
  assert.equal(other.ocsp.forLeaf, false, 'the staple names the revoked certificate\'s serial, not this one\'s');
  const forged = await probe(await farEnd(t, good, ['-status_file', await ocspResponse(good, 'forged', stranger)]));
  assert.equal(forged.ocsp.status, 'good');
  assert.equal(forged.ocsp.signature, 'invalid');
});

test('TLS 1.2 with a client certificate required: the staple, chain and CA list are read from the refused handshake', async (t) => {
  const port = await farEnd(t, good, ['-tls1_2', '-Verify', '1', '-verify_return_error', '-CAfile', ca.certPath,
    '-status_file', await ocspResponse(good, 'mutual')]);
  const r = await probe(port);
  assert.equal(r.clientCertificate, 'required');
  assert.equal(r.ocsp.status, 'good');
  assert.equal(r.ocsp.forLeaf, true);
  assert.deepEqual(r.chain.map((c) => c.subject), ['CN=sbc.carrier.test', 'CN=carrier CA']);
  assert.deepEqual(r.clientCaNames, ['CN=carrier CA']);
  const lines: string[] = [];
  const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s), env: {} };
  assert.equal(await tlsProbeCommand(['probe', `127.0.0.1:${port}`, '--sni', 'sbc.carrier.test'], io), 0);
  const text = lines.join('\n');
  assert.match(text, /^OCSP: stapled, good for its certificate; this update \S+, next update \S+; signature valid \(signed by the issuer \(CN=carrier CA\)\)$/m);
  assert.match(text, /^revocation pointers \(not fetched\): OCSP http:\/\/ocsp\.carrier\.test\/; CRL http:\/\/crl\.carrier\.test\/carrier\.crl$/m);
});
