import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createLocalCa, generateKeyPair, issueCertificate, issueGatewayCertificate, type TrustpointMaterial } from '../../../src/pki/index.js';
import { buildTlsProfile, type TlsProfileSpec } from '../../../src/tls/index.js';
import { connectTls, settled, startListener } from '../../integration/tls-support.js';
import { HAS_OPENSSL, sClient, sServer } from './openssl-cli.js';

// A missing peer fails the run loudly: a skipped TLS test would pass for nothing.
if (!HAS_OPENSSL) throw new Error('openssl not found: it makes the test certificates and is the TLS peer (install the openssl package)');
const dir = mkdtempSync(join(tmpdir(), 'tg-openssl-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const ca = createLocalCa({ commonName: 'Interop Root' });
const stranger = createLocalCa({ commonName: 'Interop Stranger' });
// root → intermediate → gateway leaf, so the chain shown can be checked.
const ik = generateKeyPair();
const intermediate = issueCertificate({ subject: { commonName: 'Interop Issuing CA' }, subjectKeyPem: ik.publicKeyPem, issuerKeyPem: ca.keyPem, issuerCertPem: ca.certPem, isCA: true });
const lk = generateKeyPair();
const leaf = issueCertificate({
  subject: { commonName: 'gw.example.com' },
  subjectKeyPem: lk.publicKeyPem,
  issuerKeyPem: ik.privateKeyPem,
  issuerCertPem: intermediate,
  san: [{ type: 'uri', value: 'sip:gw.example.com' }, { type: 'dns', value: 'gw.example.com' }],
  extKeyUsage: ['serverAuth', 'clientAuth'],
});
const gw: TrustpointMaterial = { keyPem: lk.privateKeyPem, certPem: leaf, chainPems: [intermediate, ca.certPem] };
const client = issueGatewayCertificate({ certPem: intermediate, keyPem: ik.privateKeyPem }, { domain: 'pbx.example' });
const carrier = issueGatewayCertificate(ca, { domain: 'carrier.example' });

const files = {
  ca: join(dir, 'ca.pem'),
  stranger: join(dir, 'stranger.pem'),
  clientCert: join(dir, 'client.pem'),
  clientKey: join(dir, 'client.key'),
  clientChain: join(dir, 'client-chain.pem'),
  carrierCert: join(dir, 'carrier.pem'),
  carrierKey: join(dir, 'carrier.key'),
};
writeFileSync(files.ca, ca.certPem);
writeFileSync(files.stranger, stranger.certPem);
writeFileSync(files.clientCert, client.certPem);
writeFileSync(files.clientChain, intermediate);
writeFileSync(files.clientKey, client.keyPem, { mode: 0o600 });
writeFileSync(files.carrierCert, carrier.certPem);
writeFileSync(files.carrierKey, carrier.keyPem, { mode: 0o600 });

function profile(spec: Partial<TlsProfileSpec>) {
  return buildTlsProfile({ name: 'interop', tenant: 'acme', ...spec }, { trustpoint: gw, trustedCaPems: [ca.certPem] });
}

// One name of each kind: CUBE, IANA, OpenSSL (TLS 1.2), and a TLS 1.3 suite.
const strictSpec = { ciphers: ['ECDHE_ECDSA_AES256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'TLS_AES_256_GCM_SHA384'] };

test('s_client proves exactly which versions and ciphers the profile accepts', async (t) => {
  const rec = await startListener(t, { profiles: () => [], defaultProfile: () => profile(strictSpec) });
  const verify = ['-CAfile', files.ca, '-verify_return_error', '-servername', 'gw.example.com'];
  const accepted: [string[], RegExp][] = [
    [['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384'], /Cipher is ECDHE-ECDSA-AES256-GCM-SHA384/],
    [['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'], /Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/],
    [['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305'], /Cipher is ECDHE-ECDSA-CHACHA20-POLY1305/],
    // The server's order (the profile's) wins over the client's.
    [['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384'], /Cipher is ECDHE-ECDSA-AES256-GCM-SHA384/],
    [['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'], /TLSv1\.3, Cipher is TLS_AES_256_GCM_SHA384/],
  ];
  for (const [args, want] of accepted) {
    const r = await sClient(rec.port, [...verify, ...args]);
    assert.match(r.out, want, `${args.join(' ')}\n${r.out}`);
    assert.match(r.out, /Verify return code: 0 \(ok\)/);
  }
  const refused: [string[], string][] = [
    [['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-SHA384'], 'no-shared-cipher'],
    [['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384'], 'no-shared-cipher'],
    [['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'], 'no-shared-cipher'],
    [['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], 'protocol-version'],
    [['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'], 'protocol-version'],
  ];
  let n = accepted.length;
  for (const [args, reason] of refused) {
    const r = await sClient(rec.port, [...verify, ...args]);
    assert.match(r.out, /Cipher is \(NONE\)/, args.join(' '));
    await settled(rec, ++n);
    assert.equal(rec.failures.at(-1)?.reason, reason, args.join(' '));
  }
  assert.equal(rec.stats.failures('acme', 'server', 'no-shared-cipher'), 3);
});

test('s_client sees the chain leaf + intermediate (root not sent), and the client-certificate demand per profile', async (t) => {
  const plain = await startListener(t, { profiles: () => [], defaultProfile: () => profile({}) });
  const shown = await sClient(plain.port, ['-CAfile', files.ca, '-verify_return_error', '-showcerts', '-tls1_2']);
  assert.match(shown.out, /Verify return code: 0 \(ok\)/, shown.out);
  assert.equal(shown.out.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2);
  assert.match(shown.out, / 0 s:CN = gw.example.com/);
  assert.match(shown.out, / 1 s:CN = Interop Issuing CA/);
  assert.match(shown.out, /No client certificate CA names sent/);

  const mtls = await startListener(t, { profiles: () => [], defaultProfile: () => profile({ requireClientCertificate: true }) });
  const asked = await sClient(mtls.port, ['-CAfile', files.ca, '-tls1_2']);
  assert.match(asked.out, /Acceptable client certificate CA names/);
  await settled(mtls, 1);
  assert.equal(mtls.failures[0]?.reason, 'no-client-certificate');
  const withCert = await sClient(mtls.port, ['-CAfile', files.ca, '-tls1_2', '-cert', files.clientCert, '-cert_chain', files.clientChain, '-key', files.clientKey]);
  assert.match(withCert.out, /Verify return code: 0 \(ok\)/, withCert.out);
  await settled(mtls, 2);
  assert.equal(mtls.failures.length, 1, JSON.stringify(mtls.failures));
  assert.deepEqual(mtls.accepted[0]?.identities, ['sip:pbx.example', 'dns:pbx.example']);
});

test('an OpenSSL client that does not trust us sends unknown_ca, classified on the listener as peer-reported', async (t) => {
  const rec = await startListener(t, { profiles: () => [], defaultProfile: () => profile({}) });
  const r = await sClient(rec.port, ['-CAfile', files.stranger, '-verify_return_error', '-tls1_2']);
  assert.notEqual(r.code, 0);
  await settled(rec, 1);
  assert.equal(rec.failures[0]?.reason, 'unknown-ca');
  assert.equal(rec.failures[0]?.peerReported, true);
});

test('s_server sees SNI from a name target, none from sni:none or an IP target', async (t) => {
  const out = buildTlsProfile({ name: 'out', tenant: 'acme', cnSanValidate: 'server' }, { trustpoint: gw, trustedCaPems: [ca.certPem] });
  const noSni = buildTlsProfile({ name: 'nosni', tenant: 'acme', sni: 'none' }, { trustpoint: gw, trustedCaPems: [ca.certPem] });
  const targets: [string, ReturnType<typeof out.clientOptions> extends infer O ? (port: number) => O : never, boolean][] = [
    ['name', (port) => out.clientOptions({ address: '127.0.0.1', port, domain: 'carrier.example' }), true],
    ['sni none', (port) => noSni.clientOptions({ address: '127.0.0.1', port, domain: 'carrier.example' }), false],
  ];
  for (const [label, opts, sent] of targets) {
    const srv = await sServer(['-cert', files.carrierCert, '-key', files.carrierKey, '-naccept', '1', '-msg', '-tlsextdebug']);
    t.after(srv.stop);
    const handshake = await new Promise<boolean>((resolve) => {
      const s = tls.connect(opts(srv.port), () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
      setTimeout(() => (s.destroy(), resolve(false)), 3000).unref();
    });
    assert.equal(handshake, true, `${label}: handshake completed`);
    await srv.stop();
    // -msg dumps the ClientHello in hex; the server_name extension carries the name's bytes.
    const lines = srv.output().split('\n');
    const start = lines.findIndex((l) => /ClientHello/.test(l));
    const end = lines.findIndex((l, i) => i > start && /^(<<<|>>>)/.test(l));
    const wire = lines.slice(start + 1, end < 0 ? undefined : end).join('').replace(/\s+/g, '');
    assert.ok(wire.length > 100, 'ClientHello captured');
    assert.equal(wire.includes(Buffer.from('carrier.example').toString('hex')), sent, label);
  }
});

test('s_client: minVersion TLSv1.3 refuses -tls1_2, maxVersion TLSv1.2 refuses -tls1_3', async (t) => {
  const only13 = await startListener(t, { profiles: () => [], defaultProfile: () => profile({ minVersion: 'TLSv1.3' }) });
  const only12 = await startListener(t, { profiles: () => [], defaultProfile: () => profile({ maxVersion: 'TLSv1.2' }) });
  const verify = ['-CAfile', files.ca, '-verify_return_error'];
  assert.match((await sClient(only13.port, [...verify, '-tls1_3'])).out, /New, TLSv1\.3, Cipher is /);
  assert.match((await sClient(only13.port, [...verify, '-tls1_2'])).out, /Cipher is \(NONE\)/);
  await settled(only13, 2);
  assert.equal(only13.failures.length, 1);
  assert.equal(only13.failures[0]?.reason, 'protocol-version');
  assert.match((await sClient(only12.port, [...verify, '-tls1_2'])).out, /New, TLSv1\.2, Cipher is /);
  assert.match((await sClient(only12.port, [...verify, '-tls1_3'])).out, /Cipher is \(NONE\)/);
  await settled(only12, 2);
  assert.equal(only12.failures.length, 1);
  assert.equal(only12.failures[0]?.reason, 'protocol-version');
  assert.equal(only12.stats.failures('acme', 'server', 'protocol-version'), 1);
});

test('s_client -servername: the SNI picks the profile (its certificate and chain, its client-certificate demand); no SNI gets the default; an unknown name is refused', async (t) => {
  const carrierTp: TrustpointMaterial = { keyPem: carrier.keyPem, certPem: carrier.certPem, chainPems: [ca.certPem] };
  const def = profile({});
  const acme = buildTlsProfile(
    { name: 'acme', tenant: 'acme-sni', serverNames: ['carrier.example'], requireClientCertificate: true, minVersion: 'TLSv1.3' },
    { trustpoint: carrierTp, trustedCaPems: [ca.certPem] },
  );
  const rec = await startListener(t, { profiles: () => [def, acme], defaultProfile: () => def, refuseUnknownSni: true });
  const verify = ['-CAfile', files.ca, '-verify_return_error', '-showcerts'];
  const mine = ['-cert', files.clientCert, '-cert_chain', files.clientChain, '-key', files.clientKey];

  const none = await sClient(rec.port, [...verify, '-noservername', ...mine]);
  assert.match(none.out, / 0 s:CN = gw.example.com/, none.out);
  assert.match(none.out, /Verify return code: 0 \(ok\)/);
  const byName = await sClient(rec.port, [...verify, '-servername', 'carrier.example', ...mine]);
  assert.match(byName.out, / 0 s:(O = trunkgate, )?CN = carrier\.example/, byName.out);
  // The acme leaf is issued by the root: its chain is its own (leaf and root), not the default's intermediate.
  assert.doesNotMatch(byName.out, /CN = Interop Issuing CA/, byName.out);
  assert.match(byName.out, / 1 s:O = trunkgate, CN = Interop Root/);
  assert.match(byName.out, /Verify return code: 0 \(ok\)/);
  await settled(rec, 2);
  assert.deepEqual(rec.accepted.map((a) => a.profile), ['interop', 'acme']);
  assert.deepEqual(rec.accepted[1]?.identities, ['sip:pbx.example', 'dns:pbx.example']);

  // The acme profile demands a client certificate and TLS 1.3: refused with its own reasons, under its tenant.
  await sClient(rec.port, ['-CAfile', files.ca, '-servername', 'carrier.example']);
  await settled(rec, 3);
  assert.equal(rec.failures.at(-1)?.reason, 'no-client-certificate');
  await sClient(rec.port, ['-CAfile', files.ca, '-servername', 'carrier.example', '-tls1_2', ...mine]);
  await settled(rec, 4);
  assert.equal(rec.failures.at(-1)?.reason, 'protocol-version');
  assert.equal(rec.failures.at(-1)?.code, 'ERR_TLS_PROFILE_VERSION');
  assert.equal(rec.stats.failures('acme-sni', 'server', 'no-client-certificate'), 1);
  assert.equal(rec.stats.failures('acme-sni', 'server', 'protocol-version'), 1);
  // The default profile does not demand one, although the listener asks (Node asks per listener).
  const noCert = await sClient(rec.port, ['-CAfile', files.ca, '-verify_return_error', '-noservername']);
  assert.match(noCert.out, /Verify return code: 0 \(ok\)/);
  await settled(rec, 5);
  assert.equal(rec.accepted.at(-1)?.profile, 'interop');

  const unknown = await sClient(rec.port, [...verify, '-servername', 'nobody.example']);
  assert.match(unknown.out, /Cipher is \(NONE\)/);
  assert.doesNotMatch(unknown.out, /BEGIN CERTIFICATE/, 'no certificate shown to an unknown name');
  await settled(rec, 6);
  assert.equal(rec.failures.at(-1)?.reason, 'unknown-sni');
});
