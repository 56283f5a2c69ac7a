// What an outbound TLS profile offers, proved by `openssl s_server` as the far end of a B leg placed through the
// engine by a drachtio-srf app: the exact ClientHello (cipher suites in the profile's order, supported versions,
// SNI or none), the server restricted to one version or one cipher at a time (accepted: the call reaches it and it
// answers; refused: 503 with the reason, counted), and, when the server demands a client certificate (-Verify),
// the certificate of the profile's separate client trustpoint with its chain (leaf and issuing CA, no root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalCa, generateKeyPair, issueCertificate } from '../../../src/pki/index.js';
import type { TlsFailureReason } from '../../../src/tls/index.js';
import { createTestCa, type TestCert } from '../../support/test-certs.js';
import { HAS_OPENSSL } from './openssl-cli.js';
import { counterDelta, farEnd, outboundProfile, placeCall, startOutboundRig, tracedClientHello } from './outbound-support.js';

// A missing peer fails the run loudly: a skipped TLS test would pass for nothing.
if (!HAS_OPENSSL) throw new Error('openssl not found: it makes the test certificates and is the TLS peer (install the openssl package)');
const dir = mkdtempSync(join(tmpdir(), 'tg-outbound-'));
const ca = HAS_OPENSSL ? await createTestCa({ cn: 'outbound profile CA' }) : undefined;
process.on('exit', () => {
  rmSync(dir, { recursive: true, force: true });
  void ca?.cleanup();
});
const gw = await ca?.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
const carrier = await ca?.issue({ cn: 'carrier.test', sans: ['DNS:carrier.test'] });

// The client trustpoint: its own root → issuing CA → leaf, none of it shared with the server trustpoint.
const clientRoot = createLocalCa({ commonName: 'Outbound Client Root' });
const issuingKey = generateKeyPair();
const issuing = issueCertificate({ subject: { commonName: 'Outbound Client Issuing CA' }, subjectKeyPem: issuingKey.publicKeyPem, issuerKeyPem: clientRoot.keyPem, issuerCertPem: clientRoot.certPem, isCA: true });
const leafKey = generateKeyPair();
const clientLeaf = issueCertificate({
  subject: { commonName: 'gw-client.test' }, subjectKeyPem: leafKey.publicKeyPem, issuerKeyPem: issuingKey.privateKeyPem, issuerCertPem: issuing,
  san: [{ type: 'dns', value: 'gw-client.test' }], extKeyUsage: ['clientAuth'],
});
const files = { clientRoot: join(dir, 'client-root.pem'), serverCa: join(dir, 'server-ca.pem') };
writeFileSync(files.clientRoot, clientRoot.certPem);
if (ca) writeFileSync(files.serverCa, ca.cert);

const CIPHERS = ['ECDHE_ECDSA_AES256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'TLS_AES_256_GCM_SHA384'];

const profiles = (): Parameters<typeof startOutboundRig>[1] => {
  const base = { tenant: 'carrier' };
  const mine = { clientTrustpoint: { keyPem: leafKey.privateKeyPem, certPem: clientLeaf, chainPems: [issuing, clientRoot.certPem] } };
  const withClient = (p: ReturnType<typeof outboundProfile>): ReturnType<typeof outboundProfile> => ({ ...p, material: { ...p.material, ...mine } });
  return [
    withClient(outboundProfile({ name: 'strict', ...base, ciphers: CIPHERS }, ca!, gw!)),
    outboundProfile({ name: 'tls12', ...base, ciphers: CIPHERS, maxVersion: 'TLSv1.2' }, ca!, gw!),
    outboundProfile({ name: 'tls13', ...base, minVersion: 'TLSv1.3' }, ca!, gw!),
    outboundProfile({ name: 'nosni', ...base, sni: 'none' }, ca!, gw!),
    outboundProfile({ name: 'sniname', ...base, sniName: 'edge.carrier.test', cnSan: ['carrier.test'] }, ca!, gw!),
    outboundProfile({ name: 'plain', ...base }, ca!, gw!),
  ];
};

const serverCert = (c: TestCert): string[] => ['-cert', c.certPath, '-key', c.keyPath, '-cert_chain', ca!.certPath];
const uri = (port: number): string => `sip:3000@127.0.0.1:${port};transport=tls`;

test('the ClientHello of a profile: its suites in its order, TLS 1.3 and 1.2 only, SNI the target\'s name', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const far = await farEnd(t, ['-naccept', '1', '-trace', ...serverCert(carrier!)]);
  assert.equal((await placeCall(rig, uri(far.port), 'tenant=carrier;profile=strict;domain=carrier.test')).status, 486);
  const hello = tracedClientHello(far.output());
  assert.ok(hello, far.output());
  assert.deepEqual(hello.ciphers, [
    'TLS_AES_256_GCM_SHA384',
    'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
    'TLS_EMPTY_RENEGOTIATION_INFO_SCSV',
  ]);
  assert.deepEqual(hello.versions, ['TLS 1.3', 'TLS 1.2']);
  assert.equal(hello.sni, 'carrier.test');

  // maxVersion TLSv1.2: no supported_versions extension, so no 1.3 on offer, and no 1.3 suite.
  const far12 = await farEnd(t, ['-naccept', '1', '-trace', ...serverCert(carrier!)]);
  assert.equal((await placeCall(rig, uri(far12.port), 'tenant=carrier;profile=tls12;domain=carrier.test')).status, 486);
  const hello12 = tracedClientHello(far12.output());
  assert.deepEqual(hello12?.versions, []);
  assert.equal(hello12?.clientVersion, 'TLS 1.2');
  assert.deepEqual(hello12?.ciphers.filter((c) => !c.includes('_WITH_') && c !== 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV'), [], 'no TLS 1.3 suite offered');

  // minVersion TLSv1.3: only 1.3 in supported_versions.
  const far13 = await farEnd(t, ['-naccept', '1', '-trace', ...serverCert(carrier!)]);
  assert.equal((await placeCall(rig, uri(far13.port), 'tenant=carrier;profile=tls13;domain=carrier.test')).status, 486);
  assert.deepEqual(tracedClientHello(far13.output())?.versions, ['TLS 1.3']);
});

test('s_server restricted to one version or one cipher at a time: what the profile offers is accepted, anything else refused with its reason', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const stats = rig.engine.transport.tlsStats();
  const accepted: [string, string[], string, string][] = [
    ['strict', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384'], 'TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
    ['strict', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'], 'TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
    ['strict', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305'], 'TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
    ['strict', ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'], 'TLSv1.3', 'TLS_AES_256_GCM_SHA384'],
    ['tls12', ['-tls1_2'], 'TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
    ['tls13', ['-tls1_3'], 'TLSv1.3', ''],
  ];
  for (const [profile, args, version, cipher] of accepted) {
    const far = await farEnd(t, ['-naccept', '1', ...serverCert(carrier!), ...args]);
    const r = await placeCall(rig, uri(far.port), `tenant=carrier;profile=${profile};domain=carrier.test`);
    assert.equal(r.status, 486, `${profile} ${args.join(' ')}: ${JSON.stringify(r)}`);
    const row = rig.engine.transport.connections().find((c) => c.direction === 'outbound' && c.remotePort === far.port);
    assert.equal(row?.tls?.version, version, args.join(' '));
    if (cipher !== '') assert.equal(row?.tls?.cipher, cipher, args.join(' '));
    assert.match(far.output(), new RegExp(`CIPHER is ${cipher || 'TLS_'}`), args.join(' '));
  }
  const refused: [string, string[], TlsFailureReason][] = [
    ['strict', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-SHA384'], 'no-shared-cipher'],
    ['strict', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA'], 'no-shared-cipher'],
    ['strict', ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'], 'no-shared-cipher'],
    ['strict', ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'], 'no-shared-cipher'],
    ['strict', ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], 'protocol-version'],
    ['strict', ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'], 'protocol-version'],
    ['tls12', ['-tls1_3'], 'protocol-version'],
    ['tls13', ['-tls1_2'], 'protocol-version'],
  ];
  for (const [profile, args, reason] of refused) {
    const far = await farEnd(t, ['-naccept', '1', ...serverCert(carrier!), ...args]);
    const before = stats.snapshot();
    const r = await placeCall(rig, uri(far.port), `tenant=carrier;profile=${profile};domain=carrier.test`);
    assert.equal(r.status, 503, `${profile} ${args.join(' ')}`);
    assert.match(r.reason ?? '', new RegExp(`TLS_HANDSHAKE_FAILED ${reason}:`), `${profile} ${args.join(' ')}`);
    assert.deepEqual(counterDelta(before, stats.snapshot()), [`carrier/client/${reason}: +1`], `${profile} ${args.join(' ')}`);
    assert.equal(far.invites().length, 0);
  }
});

test('SNI: sent for a name, none with sni: none, the profile\'s sniName instead of the target\'s when set', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const cases: [string, string, boolean, string | undefined][] = [
    ['plain', 'carrier.test', true, 'carrier.test'],
    ['nosni', 'carrier.test', false, undefined],
    ['sniname', 'carrier.test', true, 'edge.carrier.test'],
  ];
  for (const [profile, domain, sent, name] of cases) {
    const far = await farEnd(t, ['-naccept', '1', '-trace', ...serverCert(carrier!)]);
    assert.equal((await placeCall(rig, uri(far.port), `tenant=carrier;profile=${profile};domain=${domain}`)).status, 486, profile);
    const hello = tracedClientHello(far.output());
    assert.ok(hello && hello.ciphers.length > 0, `${profile}: ClientHello traced`);
    assert.equal(hello.hasSni, sent, profile);
    assert.equal(hello.sni, name, profile);
  }
});

test('s_server -Verify: the profile\'s client trustpoint is presented, leaf and issuing CA (root not sent); a server that does not trust it refuses, counted', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const stats = rig.engine.transport.tlsStats();
  for (const version of ['-tls1_2', '-tls1_3']) {
    const far = await farEnd(t, ['-naccept', '1', '-trace', '-Verify', '3', '-verify_return_error', '-CAfile', files.clientRoot, version, ...serverCert(carrier!)]);
    const r = await placeCall(rig, uri(far.port), 'tenant=carrier;profile=strict;domain=carrier.test');
    assert.equal(r.status, 486, `${version}: ${JSON.stringify(r)}\n${far.output()}`);
    const out = far.output();
    // The verify callback walks the chain s_server built: root (its own), issuing CA and leaf (both sent by us).
    assert.match(out, /depth=2 (O = trunkgate, )?CN = Outbound Client Root/, version);
    assert.match(out, /depth=1 CN = Outbound Client Issuing CA/, version);
    assert.match(out, /depth=0 CN = gw-client\.test/, version);
    const sent = clientCertificateChain(out);
    assert.deepEqual(sent, ['CN=gw-client.test', 'CN=Outbound Client Issuing CA'], `${version}: the chain on the wire\n${out}`);
    assert.doesNotMatch(out, /CN = gw\.test/, 'the server trustpoint is not the one presented');
  }

  // A server that trusts only another CA refuses our client certificate: an alert, classified and counted.
  for (const version of ['-tls1_2', '-tls1_3']) {
    const far = await farEnd(t, ['-naccept', '1', '-Verify', '3', '-verify_return_error', '-CAfile', files.serverCa, version, ...serverCert(carrier!)]);
    const before = stats.snapshot();
    const logged = rig.logs.length;
    // Two B legs at once: both wait on the one connection.
    const route = 'tenant=carrier;profile=strict;domain=carrier.test';
    const legs = await Promise.all([placeCall(rig, uri(far.port), route), placeCall(rig, uri(far.port), route)]);
    // In TLS 1.3 the alert comes after our side of the handshake is done and the INVITEs are out; it is still the
    // handshake's failure: 503 at once for each (not 408 after Timer B), classified, counted and logged once.
    for (const r of legs) {
      assert.equal(r.status, 503, `${version}: ${JSON.stringify(r)}`);
      assert.match(r.reason ?? '', /TLS_HANDSHAKE_FAILED unknown-ca: ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"$/, version);
    }
    assert.deepEqual(counterDelta(before, stats.snapshot()), ['carrier/client/unknown-ca: +1'], version);
    const lines = rig.logs.slice(logged).filter((l) => l['event'] === 'TLS_HANDSHAKE_FAILED');
    assert.equal(lines.length, 1, version);
    assert.match(lines[0]!.msg, /^%SIP-2-TLS_HANDSHAKE_FAILED: TLS handshake failure - certificate verify failed \(unknown CA\), direction=client, .*tenant=carrier, profile=strict, sni=carrier\.test, code=ERR_SSL_TLSV1_ALERT_UNKNOWN_CA$/, version);
    assert.equal(far.invites().length, 0, `${version}: the server never handed the INVITE on`);
  }
});

/** The subjects of the Certificate message the client sent, as s_server -trace decodes it. */
function clientCertificateChain(out: string): string[] {
  const recv = out.split(/\n(?=(?:Received|Sent) Record)/).find((b) => b.startsWith('Received Record') && /\n\s+Certificate, Length=/.test(b));
  if (!recv) return [];
  return [...recv.matchAll(/\n\s+Subject: (.*)/g)].map((m) => m[1]!.trim().replace(/ = /g, '='));
}
