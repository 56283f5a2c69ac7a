import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import {
  createCrl,
  createLocalCa,
  generateKeyPair,
  inspectCertificate,
  issueCertificate,
  issueGatewayCertificate,
  type LocalCa,
  type TrustpointMaterial,
} from '../../src/pki/index.js';
import { buildTlsProfile, formatCubeText, sipxText, type CompiledTlsProfile, type TlsFailureReason, type TlsProfileSpec } from '../../src/tls/index.js';
import { createTestCa } from '../support/test-certs.js';
import { connectTls, settled, startListener, startPeerServer } from './tls-support.js';

// Certificates are made at test time: our CA, a stranger CA, and peers signed by each.
const ours = createLocalCa({ commonName: 'Gateway Test CA' });
const stranger = createLocalCa({ commonName: 'Stranger CA' });
const gw = issueGatewayCertificate(ours, { domain: 'gw.example.com' });
const carrier = issueGatewayCertificate(ours, { domain: 'carrier.example' });
const pbx = issueGatewayCertificate(ours, { domain: 'pbx.example' });
const strangerPeer = issueGatewayCertificate(stranger, { domain: 'carrier.example' });
const DAY = 86_400_000;
const expired = issueGatewayCertificate(ours, { domain: 'carrier.example', notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
const future = issueGatewayCertificate(ours, { domain: 'carrier.example', notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 400 * DAY) });
const wrongSan = issueGatewayCertificate(ours, { domain: 'other.example' });

function leafWith(ca: LocalCa, cn: string, san?: { type: 'dns'; value: string }[]): TrustpointMaterial {
  const k = generateKeyPair();
  const certPem = issueCertificate({ subject: { commonName: cn }, subjectKeyPem: k.publicKeyPem, issuerKeyPem: ca.keyPem, issuerCertPem: ca.certPem, ...(san ? { san } : {}), extKeyUsage: ['serverAuth', 'clientAuth'] });
  return { keyPem: k.privateKeyPem, certPem, chainPems: [ca.certPem] };
}
const cnOnly = leafWith(ours, 'carrier.example');
const cnWithOtherSan = leafWith(ours, 'carrier.example', [{ type: 'dns', value: 'other.example' }]);

function profile(spec: Partial<TlsProfileSpec> & { name?: string }, tp: TrustpointMaterial = gw, extra: { crlPems?: string[]; trusted?: string[] } = {}): CompiledTlsProfile {
  return buildTlsProfile({ name: 'p', tenant: 'acme', ...spec }, { trustpoint: tp, trustedCaPems: extra.trusted ?? [ours.certPem], ...(extra.crlPems ? { crlPems: extra.crlPems } : {}) });
}

function raw(tp: TrustpointMaterial) {
  return { key: tp.keyPem, cert: tp.certPem + tp.chainPems.join('') };
}

const outbound = profile({ name: 'out', cnSanValidate: 'server' });

// ---- outbound: our client profile against far ends we did not build from profiles ----

test('outbound: unknown CA, expired, not yet valid, wrong SAN are each classified', async (t) => {
  const cases: [string, TrustpointMaterial, string][] = [
    ['unknown CA', strangerPeer, 'unknown-ca'],
    ['expired', expired, 'expired'],
    ['not yet valid', future, 'not-yet-valid'],
    ['wrong SAN', wrongSan, 'name-mismatch'],
    ['CN-only but SAN present elsewhere', cnWithOtherSan, 'name-mismatch'],
  ];
  for (const [label, tp, reason] of cases) {
    const peer = await startPeerServer(t, raw(tp));
    const r = await connectTls(outbound.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'carrier.example' }));
    assert.equal(r.ok, false, label);
    assert.equal(!r.ok && r.failure.reason, reason, label);
  }
});

test('outbound: name mismatch carries expected vs presented and the sipXbridge text', async (t) => {
  const peer = await startPeerServer(t, raw(wrongSan));
  const r = await connectTls(outbound.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'carrier.example' }));
  assert.ok(!r.ok);
  assert.deepEqual(r.failure.expected, ['carrier.example']);
  assert.deepEqual(r.failure.presented, ['sip:other.example', 'dns:other.example']);
  assert.equal(sipxText(r.failure, 'client'), 'Certificate identity does not match requested domain');
  assert.match(formatCubeText(r.failure, { direction: 'client', tenant: 'acme' }), /^%SIP-2-TLS_HANDSHAKE_FAILED: .*identity check failed/);
});

test('outbound: CN-only certificate passes when SAN rules apply (no SAN) and fails on a wrong CN; no rules: chain only', async (t) => {
  const peer = await startPeerServer(t, raw(cnOnly));
  const ok = await connectTls(outbound.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'carrier.example' }));
  assert.equal(ok.ok, true);
  const bad = await connectTls(outbound.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'sbc.carrier.example' }));
  assert.equal(!bad.ok && bad.failure.reason, 'name-mismatch');
  const loose = profile({ name: 'loose', cnSanValidate: 'none' });
  const anyName = await connectTls(loose.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'sbc.carrier.example' }));
  assert.equal(anyName.ok, true);
  const listed = profile({ name: 'listed', cnSan: ['carrier.example'] });
  const viaList = await connectTls(listed.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'sbc.carrier.example' }));
  assert.equal(viaList.ok, true, 'cnSan list widens the accepted names');
});

test('outbound: a server certificate revoked by the CRL is refused', async (t) => {
  const crl = createCrl({ issuerCertPem: ours.certPem, issuerKeyPem: ours.keyPem, revoked: [{ serialNumber: inspectCertificate(carrier.certPem).serialNumber, revokedAt: new Date(Date.now() - 1000) }] });
  const withCrl = profile({ name: 'crl' }, gw, { crlPems: [crl] });
  const peer = await startPeerServer(t, raw(carrier));
  const r = await connectTls(withCrl.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'carrier.example' }));
  assert.equal(!r.ok && r.failure.reason, 'revoked');
  const other = await startPeerServer(t, raw(pbx));
  const fine = await connectTls(withCrl.clientOptions({ address: '127.0.0.1', port: other.port, domain: 'pbx.example' }));
  assert.equal(fine.ok, true, 'a certificate not on the CRL still passes');
});

// ---- inbound: listeners built from profiles ----

test('inbound: unknown SNI refused, known SNI picks its profile, no SNI gets the default', async (t) => {
  const def = profile({ name: 'default' });
  const acme = profile({ name: 'acme', serverNames: ['acme.gw.example.com'] }, carrier);
  const rec = await startListener(t, { profiles: () => [def, acme], defaultProfile: () => def, refuseUnknownSni: true });
  const client = { ca: [ours.certPem], checkServerIdentity: () => undefined, host: '127.0.0.1', port: rec.port };
  const known = await connectTls({ ...client, servername: 'acme.gw.example.com' });
  assert.ok(known.ok && known.data === 'ok acme' && known.peerSan === 'URI:sip:carrier.example, DNS:carrier.example');
  const none = await connectTls(client);
  assert.ok(none.ok && none.data === 'ok default');
  const unknown = await connectTls({ ...client, servername: 'nobody.example' });
  assert.equal(unknown.ok, false);
  await settled(rec, 3);
  assert.equal(rec.failures[0]?.reason, 'unknown-sni');
  assert.equal(rec.stats.failures('acme', 'server', 'unknown-sni'), 1);
});

test('inbound mutual TLS: good client accepted with identities; missing, unknown-CA, expired, not-yet-valid, wrong-SAN and revoked clients refused with their reasons', async (t) => {
  const crl = createCrl({ issuerCertPem: ours.certPem, issuerKeyPem: ours.keyPem, revoked: [{ serialNumber: inspectCertificate(carrier.certPem).serialNumber, revokedAt: new Date(Date.now() - 1000) }] });
  const mtls = profile({ name: 'mtls', requireClientCertificate: true, cnSanValidate: 'bidirectional', cnSan: ['pbx.example', 'other.example.net', 'carrier.example'] }, gw, { crlPems: [crl] });
  const rec = await startListener(t, { profiles: () => [], defaultProfile: () => mtls });
  const base = { host: '127.0.0.1', port: rec.port, ca: [ours.certPem], checkServerIdentity: () => undefined };
  const good = await connectTls({ ...base, ...raw(pbx) });
  assert.ok(good.ok, 'pbx accepted');
  await settled(rec, 1);
  assert.deepEqual(rec.accepted[0]?.identities, ['sip:pbx.example', 'dns:pbx.example']);
  const cases: [string, object, string][] = [
    ['no certificate', {}, 'no-client-certificate'],
    ['unknown CA', raw(strangerPeer), 'unknown-ca'],
    ['expired', raw(expired), 'expired'],
    ['not yet valid', raw(future), 'not-yet-valid'],
    ['wrong SAN', raw(wrongSan), 'name-mismatch'],
    ['revoked', raw(carrier), 'revoked'],
  ];
  let n = 1;
  for (const [label, creds, reason] of cases) {
    const r = await connectTls({ ...base, ...creds });
    assert.equal(r.ok, false, label);
    await settled(rec, ++n);
    assert.equal(rec.failures.at(-1)?.reason, reason, label);
  }
  const wrong = rec.failures.find((f) => f.reason === 'name-mismatch')!;
  assert.equal(sipxText(wrong, 'server'), 'No matching TLS Peer found for sip:other.example, dns:other.example');
  assert.equal(rec.stats.failures('acme', 'server', 'expired'), 1);
  assert.equal(rec.stats.successes('acme', 'server'), 1);
});

test('inbound: TLS 1.0/1.1 offered and no shared cipher are refused with their reasons', async (t) => {
  const strict = profile({ name: 'strict', ciphers: ['ECDHE_ECDSA_AES256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'] });
  const rec = await startListener(t, { profiles: () => [], defaultProfile: () => strict });
  const base = { host: '127.0.0.1', port: rec.port, ca: [ours.certPem], checkServerIdentity: () => undefined };
  for (const v of ['TLSv1', 'TLSv1.1'] as const) {
    const r = await connectTls({ ...base, minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.equal(!r.ok && r.failure.reason, 'protocol-version', `client view ${v}`);
  }
  await settled(rec, 2);
  assert.deepEqual(rec.failures.map((f) => f.reason), ['protocol-version', 'protocol-version']);
  const r = await connectTls({ ...base, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  assert.equal(!r.ok && r.failure.reason, 'no-shared-cipher', 'client view');
  await settled(rec, 3);
  assert.equal(rec.failures[2]?.reason, 'no-shared-cipher');
  assert.equal(rec.stats.failures('acme', 'server', 'protocol-version'), 2);
});

test('inbound: a Node client that rejects our CA closes without an alert; its own view is unknown-ca', async (t) => {
  // Node verifies the server's chain after the handshake and closes without a TLS alert, so the listener
  // cannot know why; the alert case (OpenSSL clients) is covered by the openssl interop test.
  const def = profile({ name: 'default' }, strangerPeer, { trusted: [stranger.certPem] });
  const rec = await startListener(t, { profiles: () => [], defaultProfile: () => def });
  const r = await connectTls(outbound.clientOptions({ address: '127.0.0.1', port: rec.port, domain: 'carrier.example' }));
  assert.equal(!r.ok && r.failure.reason, 'unknown-ca');
  assert.equal(!r.ok && r.failure.peerReported, false);
});

test('positive: versions and ciphers follow the profile; outbound SNI is sent for names only', async (t) => {
  const v12 = profile({ name: 'v12', maxVersion: 'TLSv1.2', ciphers: ['ECDHE_ECDSA_AES128_GCM_SHA256'] });
  const rec = await startListener(t, { profiles: () => [], defaultProfile: () => v12 });
  const r = await connectTls({ host: '127.0.0.1', port: rec.port, ca: [ours.certPem], servername: 'gw.example.com' });
  assert.ok(r.ok);
  assert.equal(r.protocol, 'TLSv1.2');
  assert.equal(r.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
  const v13 = profile({ name: 'v13', minVersion: 'TLSv1.3' });
  const rec13 = await startListener(t, { profiles: () => [], defaultProfile: () => v13 });
  const r13 = await connectTls(outbound.clientOptions({ address: '127.0.0.1', port: rec13.port, domain: 'gw.example.com' }));
  assert.ok(r13.ok && r13.protocol === 'TLSv1.3');
  const old = await connectTls({ host: '127.0.0.1', port: rec13.port, ca: [ours.certPem], servername: 'gw.example.com', maxVersion: 'TLSv1.2' });
  assert.equal(!old.ok && old.failure.reason, 'protocol-version');

  // SNI seen by the far end.
  const seen: (string | false)[] = [];
  const peer = await startPeerServer(t, { ...raw(carrier), SNICallback: (name, cb) => { seen.push(name); cb(null); } });
  await connectTls(outbound.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'carrier.example' }));
  const noSni = profile({ name: 'nosni', sni: 'none' });
  await connectTls(noSni.clientOptions({ address: '127.0.0.1', port: peer.port, domain: 'carrier.example' }));
  await connectTls(outbound.clientOptions({ address: '127.0.0.1', port: peer.port, domain: '127.0.0.1' }));
  assert.deepEqual(seen, ['carrier.example'], 'only the name target sent SNI');
});

test('outbound mutual TLS presents the client trustpoint, which may differ from the server one', async (t) => {
  const out = buildTlsProfile({ name: 'cl', tenant: 'acme' }, { trustpoint: gw, clientTrustpoint: pbx, trustedCaPems: [ours.certPem] });
  const server = profile({ name: 'srv', requireClientCertificate: true, cnSanValidate: 'client', cnSan: ['pbx.example'] }, carrier);
  const rec = await startListener(t, { profiles: () => [], defaultProfile: () => server });
  const r = await connectTls(out.clientOptions({ address: '127.0.0.1', port: rec.port, domain: 'carrier.example' }));
  assert.ok(r.ok);
  await settled(rec, 1);
  assert.deepEqual(rec.accepted[0]?.identities, ['sip:pbx.example', 'dns:pbx.example']);
});

// ---- inbound negative matrix with certificates made by the openssl CLI (an oracle independent of src/pki) ----

const openssl = promisify(execFile);

test('inbound matrix (openssl-made certificates): every refusal has its own reason, code and counter; CN-only with and without SAN rules', async (t) => {
  const ca = await createTestCa({ cn: 'Matrix CA' });
  const other = await createTestCa({ cn: 'Matrix Stranger CA' });
  t.after(() => ca.cleanup());
  t.after(() => other.cleanup());
  const server = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'URI:sip:gw.test'] });
  const pbxCert = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test', 'URI:sip:pbx.test'] });
  const revokedCert = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test'] });
  const cnOnlyOk = await ca.issue({ cn: 'pbx.test' });
  const cnOnlyRogue = await ca.issue({ cn: 'rogue.test' });
  const cnOkSanOther = await ca.issue({ cn: 'pbx.test', sans: ['DNS:other.test'] });
  const expiredCert = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test'], validity: 'expired' });
  const futureCert = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test'], validity: 'not-yet-valid' });
  const strangerCert = await other.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test'] });
  // Revoke with openssl's own CA database and CRL.
  const cnf = join(ca.dir, 'ca.cnf');
  await openssl('openssl', ['ca', '-config', cnf, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-revoke', revokedCert.certPath]);
  const crlPath = join(ca.dir, 'crl.pem');
  await openssl('openssl', ['ca', '-config', cnf, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-gencrl', '-crldays', '7', '-out', crlPath]);
  const crl = await readFile(crlPath, 'utf8');

  const tp: TrustpointMaterial = { keyPem: server.key, certPem: server.cert, chainPems: [ca.cert] };
  const material = { trustpoint: tp, trustedCaPems: [ca.cert], crlPems: [crl] };
  const strict = buildTlsProfile(
    { name: 'strict', tenant: 'acme', serverNames: ['gw.test'], requireClientCertificate: true, cnSanValidate: 'client', cnSan: ['pbx.test'], ciphers: ['ECDHE_ECDSA_AES256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'] },
    material,
  );
  const rec = await startListener(t, { profiles: () => [strict], defaultProfile: () => strict, refuseUnknownSni: true });
  const base = { host: '127.0.0.1', port: rec.port, ca: [ca.cert], checkServerIdentity: () => undefined };
  const creds = (c: { cert: string; key: string }) => ({ cert: c.cert, key: c.key });

  const good = await connectTls({ ...base, ...creds(pbxCert) });
  assert.ok(good.ok, 'a listed client with SAN is accepted');
  const cnOnly = await connectTls({ ...base, ...creds(cnOnlyOk) });
  assert.ok(cnOnly.ok, 'a CN-only certificate is matched on its CN when SAN rules apply (RFC 5922 §7.1)');
  await settled(rec, 2);
  assert.deepEqual(rec.accepted.map((a) => a.identities), [['dns:pbx.test', 'sip:pbx.test'], ['cn:pbx.test']]);

  const cases: [string, ConnectionOptions, TlsFailureReason, string][] = [
    ['unknown CA', creds(strangerCert), 'unknown-ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['expired', creds(expiredCert), 'expired', 'CERT_HAS_EXPIRED'],
    ['not yet valid', creds(futureCert), 'not-yet-valid', 'CERT_NOT_YET_VALID'],
    ['wrong SAN (CN ignored when SAN present)', creds(cnOkSanOther), 'name-mismatch', 'ERR_TLS_NAME_MISMATCH'],
    ['CN-only, CN not in cnSan', creds(cnOnlyRogue), 'name-mismatch', 'ERR_TLS_NAME_MISMATCH'],
    ['no client certificate', {}, 'no-client-certificate', 'ERR_TLS_NO_CLIENT_CERT'],
    ['TLS 1.0 offered', { ...creds(pbxCert), minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, 'protocol-version', 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    ['TLS 1.1 offered', { ...creds(pbxCert), minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, 'protocol-version', 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
    ['no shared TLS 1.2 cipher', { ...creds(pbxCert), maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, 'no-shared-cipher', 'ERR_SSL_NO_SHARED_CIPHER'],
    ['no shared TLS 1.3 suite', { ...creds(pbxCert), minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }, 'no-shared-cipher', 'ERR_SSL_NO_SHARED_CIPHER'],
    ['unknown SNI', { ...creds(pbxCert), servername: 'nobody.test' }, 'unknown-sni', 'ERR_TLS_UNKNOWN_SNI'],
    ['revoked by CRL', creds(revokedCert), 'revoked', 'CERT_REVOKED'],
  ];
  for (const [label, opts, reason, code] of cases) {
    const before = rec.stats.failures('acme', 'server', reason);
    const n = rec.failures.length + rec.accepted.length;
    const r = await connectTls({ ...base, ...opts });
    assert.equal(r.ok, false, label);
    await settled(rec, n + 1);
    const f = rec.failures.at(-1)!;
    assert.equal(f.reason, reason, label);
    assert.equal(f.code, code, label);
    assert.equal(rec.stats.failures('acme', 'server', reason), before + 1, `${label}: its counter moved by one`);
    assert.match(formatCubeText(f, { direction: 'server', tenant: 'acme' }), /^%SIP-2-TLS_HANDSHAKE_FAILED: TLS handshake failure - /);
  }
  assert.equal(rec.accepted.length, 2, 'no refused client was accepted');
  assert.deepEqual(
    rec.stats.snapshot().map((c) => `${c.reason}=${c.count}`),
    ['expired=1', 'name-mismatch=2', 'no-client-certificate=1', 'no-shared-cipher=2', 'not-yet-valid=1', 'protocol-version=2', 'revoked=1', 'unknown-ca=1', 'unknown-sni=1'],
  );
  assert.equal(rec.stats.successes('acme', 'server'), 2);

  // Without SAN rules (chain only): the CN-only certificate with a CN nobody listed is accepted, identity cn:.
  const chainOnly = buildTlsProfile({ name: 'chain-only', tenant: 'acme', requireClientCertificate: true, cnSanValidate: 'none' }, material);
  const loose = await startListener(t, { profiles: () => [], defaultProfile: () => chainOnly });
  const rogue = await connectTls({ ...base, port: loose.port, ...creds(cnOnlyRogue) });
  assert.ok(rogue.ok, 'chain-only profile accepts a CN-only certificate');
  await settled(loose, 1);
  assert.deepEqual(loose.accepted[0]?.identities, ['cn:rogue.test']);
  const stillExpired = await connectTls({ ...base, port: loose.port, ...creds(expiredCert) });
  assert.equal(stillExpired.ok, false, 'chain-only still checks validity');
  await settled(loose, 2);
  assert.equal(loose.failures[0]?.reason, 'expired');
});

test('shared listener: the profile the SNI picks keeps its own versions and suites (fail closed), refused with their reasons and counters', async (t) => {
  // OpenSSL takes versions and suites from the listener's base (default) context; the SNI swaps the
  // certificate only. A profile picked by SNI therefore narrows the default, enforced after the handshake.
  const def = profile({ name: 'default', tenant: 'shared', ciphers: ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256'] });
  const modern = profile({ name: 'modern', tenant: 'modern', serverNames: ['modern.example'], minVersion: 'TLSv1.3', ciphers: ['TLS_AES_256_GCM_SHA384'] }, carrier);
  const legacy = profile({ name: 'legacy', tenant: 'legacy', serverNames: ['legacy.example'], maxVersion: 'TLSv1.2', ciphers: ['ECDHE_ECDSA_AES128_GCM_SHA256'] }, pbx);
  const rec = await startListener(t, { profiles: () => [modern, legacy], defaultProfile: () => def });
  const base = { host: '127.0.0.1', port: rec.port, ca: [ours.certPem], checkServerIdentity: () => undefined };
  const ok: [string | undefined, ConnectionOptions, string, string][] = [
    [undefined, { maxVersion: 'TLSv1.2' }, 'default', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
    ['modern.example', {}, 'modern', 'TLS_AES_256_GCM_SHA384'],
    ['legacy.example', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, 'legacy', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ];
  for (const [sni, opts, name, cipher] of ok) {
    const r = await connectTls({ ...base, ...(sni ? { servername: sni } : {}), ...opts });
    assert.ok(r.ok && r.data === `ok ${name}` && r.cipher === cipher, `${sni}: ${JSON.stringify(r)}`);
  }
  const refused: [string, ConnectionOptions, string, TlsFailureReason, string][] = [
    ['modern.example', { maxVersion: 'TLSv1.2' }, 'modern', 'protocol-version', 'ERR_TLS_PROFILE_VERSION'],
    ['modern.example', { ciphers: 'TLS_AES_128_GCM_SHA256' }, 'modern', 'no-shared-cipher', 'ERR_TLS_PROFILE_CIPHER'],
    ['legacy.example', {}, 'legacy', 'protocol-version', 'ERR_TLS_PROFILE_VERSION'],
    // The server's order (the default's) picks AES256 before the SNI is known: legacy refuses it.
    ['legacy.example', { maxVersion: 'TLSv1.2' }, 'legacy', 'no-shared-cipher', 'ERR_TLS_PROFILE_CIPHER'],
  ];
  let n = ok.length;
  for (const [sni, opts, tenant, reason, code] of refused) {
    const label = `${sni} ${JSON.stringify(opts)}`;
    const before = rec.stats.failures(tenant, 'server', reason);
    const r = await connectTls({ ...base, servername: sni, ...opts });
    assert.equal(r.ok, false, label);
    await settled(rec, ++n);
    assert.equal(rec.failures.at(-1)?.reason, reason, label);
    assert.equal(rec.failures.at(-1)?.code, code, label);
    assert.equal(rec.stats.failures(tenant, 'server', reason), before + 1, `${label}: counted for tenant ${tenant}`);
  }
  assert.equal(rec.accepted.length, ok.length);

  // A listener with one profile refuses in the handshake itself.
  const single = await startListener(t, { profiles: () => [], defaultProfile: () => modern });
  const r = await connectTls({ ...base, port: single.port, maxVersion: 'TLSv1.2' });
  assert.equal(!r.ok && r.handshake, false, 'no handshake completed');
  await settled(single, 1);
  assert.equal(single.failures[0]?.code, 'ERR_SSL_UNSUPPORTED_PROTOCOL');
});
