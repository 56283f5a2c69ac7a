// trunkgate tls probe against differently configured `openssl s_server` far ends: TLS 1.2 only, TLS 1.3 only,
// client certificate required or only requested, an expired certificate and a wrong name, and far ends that close
// without an alert. Each report names exactly their versions, suites, chain and identity, the CAs named in a TLS 1.2
// certificate request, and a profile's verdict with the rule that decides it.
import assert from 'node:assert/strict';
import net from 'node:net';
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

/**
 * A TCP relay to `port` that passes the far end's TLS records on, but ends the connection without a byte where the
 * far end sent an alert: a far end that closes silently when it refuses something.
 */
async function silentRelay(t: TestContext, port: number): Promise<number> {
  const server = net.createServer((client) => {
    const up = net.connect(port, '127.0.0.1');
    const end = (): void => {
      client.destroy();
      up.destroy();
    };
    for (const s of [client, up]) s.on('error', end).on('close', end);
    client.on('data', (d) => up.write(d));
    let pending = Buffer.alloc(0);
    up.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
        if (pending[0] === 21) return end();
        const n = 5 + pending.readUInt16BE(3);
        client.write(pending.subarray(0, n));
        pending = pending.subarray(n);
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => server.close(() => ok())));
  return (server.address() as net.AddressInfo).port;
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
  assert.deepEqual(r.certificateRequest, { state: 'not sent', version: 'TLSv1.2' });
  assert.deepEqual(r.clientCaNames, []);
  assert.deepEqual({ ok: r.profile?.ok, version: r.profile?.version }, { ok: true, version: 'TLSv1.2' });
});

test('TLS 1.3 only: 1.3 and its suites, nothing of 1.2', async (t) => {
  const r = await probe(await farEnd(t, good, ['-tls1_3']));
  assert.deepEqual(r.versions, { 'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': true });
  assert.deepEqual(r.ciphers.tls12, []);
  assert.deepEqual([...r.ciphers.tls13].sort(), ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
  assert.equal(r.profile?.ok, true);
  assert.equal(r.clientCaNames, null, 'the CA names are unknown');
  assert.equal(r.certificateRequest.state, 'unknown');
  assert.match(r.certificateRequest.state === 'unknown' ? r.certificateRequest.reason : '', /TLS 1\.3 only, where the certificate request is encrypted/);
});

test('a client certificate required: said so, and the profile is refused by the far end for its unknown CA', async (t) => {
  const r = await probe(await farEnd(t, good, ['-Verify', '1', '-verify_return_error', '-CAfile', ca.certPath]));
  assert.equal(r.clientCertificate, 'required');
  assert.deepEqual(r.versions, { 'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true }, 'TLS 1.2 refused for want of a certificate still counts');
  assert.ok(r.ciphers.tls12.includes('ECDHE-ECDSA-AES128-GCM-SHA256'), r.ciphers.tls12.join(' '));
  assert.deepEqual(r.clientCaNames, [r.chain[1]!.subject], 'the CA of -CAfile, as its certificate names it');
  assert.equal(r.chain[1]!.subject, 'CN=probe CA');
  assert.equal(r.unreachable, undefined);
  assert.equal(r.profile?.ok, false);
  assert.equal(r.profile?.failure?.reason, 'unknown-ca');
  assert.equal(r.profile?.failure?.peerReported, true);
});

test('a client certificate asked for but not required: requested, with the CA it names and the signature algorithms it takes', async (t) => {
  const r = await probe(await farEnd(t, good, ['-verify', '1', '-CAfile', ca.certPath]));
  assert.equal(r.clientCertificate, 'requested');
  assert.deepEqual(r.clientCaNames, ['CN=probe CA']);
  assert.ok(r.certificateRequest.state === 'sent' && r.certificateRequest.signatureAlgorithms.includes('ecdsa_secp256r1_sha256'));
  assert.equal(r.profile?.ok, true);
});

test('closed without an alert: a TLS 1.2 far end that asked for a certificate is told apart from one that refuses TLS 1.2', async (t) => {
  const mutual = await probe(await silentRelay(t, await farEnd(t, good, ['-tls1_2', '-Verify', '1', '-verify_return_error', '-CAfile', ca.certPath])));
  assert.equal(mutual.clientCertificate, 'required');
  assert.equal(mutual.versions['TLSv1.2'], true);
  assert.deepEqual(mutual.clientCaNames, ['CN=probe CA']);
  assert.equal(mutual.unreachable?.reason, 'no-client-certificate', 'the first handshake failed, for the certificate');
  assert.match(mutual.unreachable?.detail ?? '', /asked for a client certificate \(CertificateRequest over TLSv1\.2\)/);
  assert.deepEqual(mutual.chain.map((c) => c.subject), ['CN=sbc.carrier.test', 'CN=probe CA'], 'the chain, read from the refused handshake');
  const only13 = await probe(await silentRelay(t, await farEnd(t, good, ['-tls1_3'])));
  assert.equal(only13.versions['TLSv1.2'], false);
  assert.equal(only13.versions['TLSv1.3'], true);
  assert.equal(only13.clientCertificate, 'not required');
  assert.equal(only13.clientCaNames, null);
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
  assert.match(lines.join('\n'), /^client CA names: - \(no CertificateRequest over TLSv1\.2\)$/m);
  assert.match(lines.join('\n'), /^OCSP: not stapled\nrevocation pointers \(not fetched\): -$/m);
  lines.length = 0;
  assert.equal(await tlsProbeCommand(['probe', `127.0.0.1:${port}`, '--json'], io), 0);
  const json = JSON.parse(lines.join('\n')) as TlsProbeReport;
  assert.equal(json.sni, undefined, 'no SNI to an address');
  assert.deepEqual([json.clientCaNames, json.certificateRequest, json.ocsp, json.revocation],
    [[], { state: 'not sent', version: 'TLSv1.2' }, { stapled: false }, { ocspUrls: [], crlUrls: [], fetched: false }]);
  lines.length = 0;
  assert.equal(await tlsProbeCommand(['probe', '127.0.0.1:1'], io), 1);
  assert.match(lines.join('\n'), /first handshake failed/);
  assert.equal(await tlsProbeCommand(['probe', 'nohostport'], io), 2);
  assert.equal(await tlsProbeCommand(['frob', '127.0.0.1:5061'], io), 2);
});
