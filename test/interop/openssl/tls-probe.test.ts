// trunkgate tls probe against five differently configured `openssl s_server` far ends: TLS 1.2 only, TLS 1.3 only,
// client certificate required, an expired certificate and a wrong name. Each report names exactly their versions,
// suites, chain and identity, and a profile's verdict with the rule that decides it.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { tlsProbeCommand } from '../../../src/cli/tls-probe.js';
import { createLocalCa, issueGatewayCertificate } from '../../../src/pki/index.js';
import { buildTlsProfile, probeTls, type TlsProbeReport } from '../../../src/tls/index.js';
import { createTestCa, type TestCert } from '../../support/test-certs.js';
import { HAS_OPENSSL, sServer } from './openssl-cli.js';

assert.equal(HAS_OPENSSL, true);
const ca = await createTestCa({ cn: 'probe CA' });
process.on('exit', () => void ca.cleanup());
const good = await ca.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test', 'URI:sip:sbc.carrier.test'] });
const expired = await ca.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test'], validity: 'expired' });
const wrong = await ca.issue({ cn: 'other.test', sans: ['DNS:other.test'] });

// The gateway side: its own identity from another CA, trusting the probe CA, checking the server's name.
const ours = createLocalCa({ commonName: 'gw CA' });
const profile = buildTlsProfile({ name: 'carrier', cnSanValidate: 'server' },
  { trustpoint: issueGatewayCertificate(ours, { domain: 'gw.test' }), trustedCaPems: [ca.cert] });

async function farEnd(t: TestContext, cert: TestCert, args: string[]): Promise<number> {
  const s = await sServer(['-cert', cert.certPath, '-key', cert.keyPath, '-cert_chain', ca.certPath, ...args]);
  t.after(() => s.stop());
  return s.port;
}

const probe = (port: number): Promise<TlsProbeReport> => probeTls({ host: '127.0.0.1', port, sni: 'sbc.carrier.test', profile });

test('TLS 1.2 only: versions, its ECDSA suites only, the chain and identities; the profile connects', async (t) => {
  const r = await probe(await farEnd(t, good, ['-tls1_2']));
  assert.deepEqual(r.versions, { 'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': false });
  assert.deepEqual(r.ciphers.tls13, []);
  assert.ok(r.ciphers.tls12.includes('ECDHE-ECDSA-AES128-GCM-SHA256'), r.ciphers.tls12.join(' '));
  assert.ok(r.ciphers.tls12.every((c) => /ECDSA/.test(c)), `an EC certificate allows ECDSA suites only: ${r.ciphers.tls12.join(' ')}`);
  assert.deepEqual(r.identities, ['dns:sbc.carrier.test', 'sip:sbc.carrier.test']);
  assert.equal(r.chain.length, 2);
  assert.match(r.chain[0]!.subject, /CN=sbc\.carrier\.test/);
  assert.match(r.chain[1]!.subject, /CN=probe CA/);
  assert.equal(r.clientCertificate, 'not required');
  assert.deepEqual({ ok: r.profile?.ok, version: r.profile?.version }, { ok: true, version: 'TLSv1.2' });
});

test('TLS 1.3 only: 1.3 and its suites, nothing of 1.2', async (t) => {
  const r = await probe(await farEnd(t, good, ['-tls1_3']));
  assert.deepEqual(r.versions, { 'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': true });
  assert.deepEqual(r.ciphers.tls12, []);
  assert.deepEqual([...r.ciphers.tls13].sort(), ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
  assert.equal(r.profile?.ok, true);
});

test('a client certificate required: said so, and the profile is refused by the far end for its unknown CA', async (t) => {
  const r = await probe(await farEnd(t, good, ['-Verify', '1', '-verify_return_error', '-CAfile', ca.certPath]));
  assert.equal(r.clientCertificate, 'required');
  assert.equal(r.versions['TLSv1.3'], true);
  assert.equal(r.profile?.ok, false);
  assert.equal(r.profile?.failure?.reason, 'unknown-ca');
  assert.equal(r.profile?.failure?.peerReported, true);
});

test('an expired certificate and a wrong name: the profile\'s verdict names the rule', async (t) => {
  const old = await probe(await farEnd(t, expired, []));
  assert.equal(old.profile?.failure?.reason, 'expired');
  assert.ok(Date.parse(old.chain[0]!.notAfter) < Date.now());
  const named = await probe(await farEnd(t, wrong, []));
  assert.equal(named.profile?.failure?.reason, 'name-mismatch');
  assert.deepEqual(named.profile?.failure?.expected, ['sbc.carrier.test']);
  assert.deepEqual(named.identities, ['dns:other.test']);
});

test('the command: text by default, JSON on request, exit 1 when nothing answers, 2 on a bad target', async (t) => {
  const port = await farEnd(t, good, []);
  const lines: string[] = [];
  const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s), env: {} };
  assert.equal(await tlsProbeCommand(['probe', `127.0.0.1:${port}`, '--sni', 'sbc.carrier.test'], io), 0);
  assert.match(lines.join('\n'), /versions: TLSv1 no, TLSv1\.1 no, TLSv1\.2 yes, TLSv1\.3 yes/);
  assert.match(lines.join('\n'), /identities: dns:sbc\.carrier\.test, sip:sbc\.carrier\.test/);
  lines.length = 0;
  assert.equal(await tlsProbeCommand(['probe', `127.0.0.1:${port}`, '--json'], io), 0);
  assert.equal((JSON.parse(lines.join('\n')) as TlsProbeReport).sni, undefined, 'no SNI to an address');
  lines.length = 0;
  assert.equal(await tlsProbeCommand(['probe', '127.0.0.1:1'], io), 1);
  assert.match(lines.join('\n'), /first handshake failed/);
  assert.equal(await tlsProbeCommand(['probe', 'nohostport'], io), 2);
  assert.equal(await tlsProbeCommand(['frob', '127.0.0.1:5061'], io), 2);
});
