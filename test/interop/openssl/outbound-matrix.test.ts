// The outbound negative matrix of issue 3, with `openssl s_server` as the far end a B leg connects to: a real
// drachtio-srf app places the call through the engine with X-Trunkgate-Route (tenant, profile, the target's domain),
// and for each broken far end — unknown CA, expired, not yet valid, wrong SAN, CN-only certificates with and without
// SAN rules, a server that speaks only TLS 1.0 or 1.1, no shared cipher (1.2 list and 1.3 suites), revoked by CRL,
// a wildcard the profile does not allow — the app gets 503 with a Reason naming the failure, the tenant's
// client-direction counter moves by exactly one for that reason and no other, and the engine logs it once in
// CUBE's words. The cases the name checks let through get the far end's own answer (486 from OpenSSL's side).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TlsFailureReason } from '../../../src/tls/index.js';
import { createTestCa, type TestCert } from '../../support/test-certs.js';
import { until } from '../../integration/engine-tls-support.js';
import { HAS_OPENSSL } from './openssl-cli.js';
import { counterDelta, farEnd, outboundProfile, placeCall, revokeWithOpenssl, startOutboundRig, tracedClientHello } from './outbound-support.js';

// A missing peer fails the run loudly: a skipped TLS test would pass for nothing.
if (!HAS_OPENSSL) throw new Error('openssl not found: it makes the test certificates and is the TLS peer (install the openssl package)');
const ca = HAS_OPENSSL ? await createTestCa({ cn: 'outbound matrix CA' }) : undefined;
const rogue = HAS_OPENSSL ? await createTestCa({ cn: 'rogue CA' }) : undefined;
process.on('exit', () => {
  void ca?.cleanup();
  void rogue?.cleanup();
});
const issue = (o: Parameters<NonNullable<typeof ca>['issue']>[0]): Promise<TestCert> | undefined => ca?.issue(o);
const gw = await issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
const carrier = await issue({ cn: 'carrier.test', sans: ['DNS:carrier.test', 'URI:sip:carrier.test'] });
const stranger = await rogue?.issue({ cn: 'carrier.test', sans: ['DNS:carrier.test'] });
const expired = await issue({ cn: 'carrier.test', sans: ['DNS:carrier.test'], validity: 'expired' });
const future = await issue({ cn: 'carrier.test', sans: ['DNS:carrier.test'], validity: 'not-yet-valid' });
const wrongSan = await issue({ cn: 'wrong.test', sans: ['DNS:wrong.test'] });
const cnOnly = await issue({ cn: 'carrier.test' });
const cnBesideSan = await issue({ cn: 'carrier.test', sans: ['DNS:other.test'] });
const wildcard = await issue({ cn: 'wildcard', sans: ['DNS:*.carrier.test'] });
const revoked = await issue({ cn: 'carrier.test', sans: ['DNS:carrier.test'] });
const crl = ca && revoked ? await revokeWithOpenssl(ca, revoked) : '';

const STRICT = ['ECDHE_ECDSA_AES256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'];
const profiles = (): Parameters<typeof startOutboundRig>[1] => [
  outboundProfile({ name: 'out', tenant: 'carrier' }, ca!, gw!),
  outboundProfile({ name: 'strict', tenant: 'carrier', ciphers: STRICT }, ca!, gw!),
  outboundProfile({ name: 'crl', tenant: 'carrier' }, ca!, gw!, { crlPems: [crl] }),
  outboundProfile({ name: 'none', tenant: 'carrier', cnSanValidate: 'none' }, ca!, gw!),
  outboundProfile({ name: 'listed', tenant: 'carrier', cnSan: ['carrier.test'] }, ca!, gw!),
  outboundProfile({ name: 'wild', tenant: 'carrier', allowWildcard: true }, ca!, gw!),
  outboundProfile({ name: 'bidi', tenant: 'carrier', cnSanValidate: 'bidirectional', cnSan: ['sip.carrier.test'] }, ca!, gw!),
];

const certArgs = (c: TestCert): string[] => ['-cert', c.certPath, '-key', c.keyPath, '-cert_chain', ca!.certPath];

interface Refusal {
  label: string;
  cert: TestCert;
  profile: string;
  domain: string;
  server?: string[];
  reason: TlsFailureReason;
  /** The Reason header text after `TLS_HANDSHAKE_FAILED <reason>: `. */
  text: RegExp;
  /** CUBE's wording in the log line. */
  cube: string;
}

const refusals = (): Refusal[] => [
  { label: 'unknown CA', cert: stranger!, profile: 'out', domain: 'carrier.test', reason: 'unknown-ca', text: /^UNABLE_TO_(GET_ISSUER_CERT_LOCALLY|VERIFY_LEAF_SIGNATURE)$/, cube: 'certificate verify failed (unknown CA)' },
  { label: 'expired', cert: expired!, profile: 'out', domain: 'carrier.test', reason: 'expired', text: /^CERT_HAS_EXPIRED$/, cube: 'certificate verify failed (certificate has expired)' },
  { label: 'not yet valid', cert: future!, profile: 'out', domain: 'carrier.test', reason: 'not-yet-valid', text: /^CERT_NOT_YET_VALID$/, cube: 'certificate verify failed (certificate is not yet valid)' },
  {
    label: 'wrong SAN', cert: wrongSan!, profile: 'out', domain: 'carrier.test', reason: 'name-mismatch', cube: 'identity check failed',
    text: /^Certificate identity does not match requested domain; ERR_TLS_NAME_MISMATCH \(expected carrier\.test, presented dns:wrong\.test\)$/,
  },
  {
    label: 'CN-only certificate, SAN rules on, the CN is not the target', cert: cnOnly!, profile: 'out', domain: 'sbc.carrier.test', reason: 'name-mismatch', cube: 'identity check failed',
    text: /^Certificate identity does not match requested domain; ERR_TLS_NAME_MISMATCH \(expected sbc\.carrier\.test, presented cn:carrier\.test\)$/,
  },
  {
    label: 'CN names the target but a SAN is present (the CN is then not an identity)', cert: cnBesideSan!, profile: 'out', domain: 'carrier.test', reason: 'name-mismatch', cube: 'identity check failed',
    text: /^Certificate identity does not match requested domain; ERR_TLS_NAME_MISMATCH \(expected carrier\.test, presented dns:other\.test\)$/,
  },
  {
    label: 'wildcard certificate, profile without allowWildcard', cert: wildcard!, profile: 'out', domain: 'sbc.carrier.test', reason: 'name-mismatch', cube: 'identity check failed',
    text: /^Certificate identity does not match requested domain; ERR_TLS_NAME_MISMATCH \(expected sbc\.carrier\.test, presented dns:\*\.carrier\.test\)$/,
  },
  {
    label: 'wildcard allowed, but it covers one left-most label only', cert: wildcard!, profile: 'wild', domain: 'a.sbc.carrier.test', reason: 'name-mismatch', cube: 'identity check failed',
    text: /^Certificate identity does not match requested domain; ERR_TLS_NAME_MISMATCH \(expected a\.sbc\.carrier\.test, presented dns:\*\.carrier\.test\)$/,
  },
  {
    label: 'bidirectional: neither the target nor the cnSan list named', cert: wrongSan!, profile: 'bidi', domain: 'carrier.test', reason: 'name-mismatch', cube: 'identity check failed',
    text: /^Certificate identity does not match requested domain; ERR_TLS_NAME_MISMATCH \(expected carrier\.test sip\.carrier\.test, presented dns:wrong\.test\)$/,
  },
  { label: 'server offers only TLS 1.0', cert: carrier!, profile: 'out', domain: 'carrier.test', server: ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'], reason: 'protocol-version', text: /^ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION$/, cube: 'tlsv1 alert protocol version' },
  { label: 'server offers only TLS 1.1', cert: carrier!, profile: 'out', domain: 'carrier.test', server: ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], reason: 'protocol-version', text: /^ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION$/, cube: 'tlsv1 alert protocol version' },
  { label: 'no shared TLS 1.2 cipher', cert: carrier!, profile: 'strict', domain: 'carrier.test', server: ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'], reason: 'no-shared-cipher', text: /^ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE$/, cube: 'no shared cipher' },
  { label: 'no shared TLS 1.3 suite', cert: carrier!, profile: 'strict', domain: 'carrier.test', server: ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'], reason: 'no-shared-cipher', text: /^ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE$/, cube: 'no shared cipher' },
  { label: 'revoked by CRL', cert: revoked!, profile: 'crl', domain: 'carrier.test', reason: 'revoked', text: /^CERT_REVOKED$/, cube: 'certificate verify failed (certificate revoked)' },
];

test('outbound negative matrix against openssl s_server: each failure gets 503 with its Reason, one client-side count for the tenant under its own reason, one CUBE log line', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const stats = rig.engine.transport.tlsStats();
  const seenReasons = new Set<string>();
  for (const c of refusals()) {
    const far = await farEnd(t, ['-naccept', '1', ...certArgs(c.cert), ...(c.server ?? [])]);
    const before = stats.snapshot();
    const logsBefore = rig.logs.length;
    const r = await placeCall(rig, `sip:3000@127.0.0.1:${far.port};transport=tls`, `tenant=carrier;profile=${c.profile};domain=${c.domain}`);
    assert.equal(r.status, 503, `${c.label}: ${JSON.stringify(r)}`);
    const m = /^SIP;cause=503;text="TLS_HANDSHAKE_FAILED ([a-z-]+): (.*)"$/.exec(r.reason ?? '');
    assert.ok(m, `${c.label}: Reason ${r.reason}`);
    assert.equal(m[1], c.reason, `${c.label}: reason code in the Reason header`);
    assert.match(m[2]!.replace(/\\(.)/g, '$1'), c.text, `${c.label}: Reason text`);
    assert.deepEqual(counterDelta(before, stats.snapshot()), [`carrier/client/${c.reason}: +1`], `${c.label}: exactly one counter moved`);
    const lines = rig.logs.slice(logsBefore).filter((l) => l['event'] === 'TLS_HANDSHAKE_FAILED');
    assert.equal(lines.length, 1, `${c.label}: logged once`);
    const line = lines[0]!;
    assert.equal(line['reason'], c.reason);
    assert.equal(line['direction'], 'client');
    assert.equal(line['tenant'], 'carrier');
    assert.equal(line['profile'], c.profile);
    assert.ok(line.msg.startsWith(`%SIP-2-TLS_HANDSHAKE_FAILED: TLS handshake failure - ${c.cube}, direction=client, remote_addr=127.0.0.1, remote_port=${far.port}, tenant=carrier, profile=${c.profile}, sni=${c.domain}`), `${c.label}: ${line.msg}`);
    if (c.reason === 'name-mismatch') assert.match(line.msg, new RegExp(`expected=${c.domain.replace(/\./g, '\\.')}`));
    assert.equal(far.invites().length, 0, `${c.label}: no SIP reached the far end`);
    seenReasons.add(c.reason);
  }
  assert.deepEqual([...seenReasons].sort(), ['expired', 'name-mismatch', 'no-shared-cipher', 'not-yet-valid', 'protocol-version', 'revoked', 'unknown-ca']);
  assert.equal(rig.engine.transport.connections().filter((c) => c.direction === 'outbound').length, 0, 'no connection kept to a refused peer');
});

interface Pass {
  label: string;
  cert: TestCert;
  profile: string;
  domain: string;
}

const passes = (): Pass[] => [
  { label: 'SAN names the target', cert: carrier!, profile: 'out', domain: 'carrier.test' },
  { label: 'CN-only certificate, SAN rules on: the CN is the identity when there is no SAN', cert: cnOnly!, profile: 'out', domain: 'carrier.test' },
  { label: 'CN-only certificate, no SAN rules (cnSanValidate none): chain only', cert: cnOnly!, profile: 'none', domain: 'sbc.carrier.test' },
  { label: 'CN-only certificate named by the cnSan list, not by the target', cert: cnOnly!, profile: 'listed', domain: 'sbc.carrier.test' },
  { label: 'wildcard allowed: one left-most label', cert: wildcard!, profile: 'wild', domain: 'sbc.carrier.test' },
  { label: 'bidirectional: the target named', cert: carrier!, profile: 'bidi', domain: 'carrier.test' },
  { label: 'CRL loaded, certificate not on it', cert: carrier!, profile: 'crl', domain: 'carrier.test' },
];

test('outbound name checks that pass: the B leg reaches s_server, which answers; SNI carries the target\'s name; no failure counted', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const stats = rig.engine.transport.tlsStats();
  for (const c of passes()) {
    const far = await farEnd(t, ['-naccept', '1', '-trace', ...certArgs(c.cert)]);
    const before = stats.snapshot();
    const succeeded = stats.successes('carrier', 'client');
    const r = await placeCall(rig, `sip:3000@127.0.0.1:${far.port};transport=tls`, `tenant=carrier;profile=${c.profile};domain=${c.domain}`);
    assert.equal(r.status, 486, `${c.label}: ${JSON.stringify(r)}`);
    assert.equal(far.invites().length, 1, c.label);
    assert.doesNotMatch(far.invites()[0]!, /x-trunkgate-/i, 'no internal header on the wire');
    assert.equal(tracedClientHello(far.output())?.sni, c.domain, `${c.label}: SNI`);
    assert.deepEqual(counterDelta(before, stats.snapshot()), [], c.label);
    assert.equal(stats.successes('carrier', 'client'), succeeded + 1, `${c.label}: one successful client handshake counted for the tenant`);
  }
  const open = rig.engine.transport.connections().filter((c) => c.direction === 'outbound');
  assert.deepEqual(open.map((c) => `${c.tlsProfile}/${c.servername}`).sort(), passes().map((c) => `${c.profile}/${c.domain}`).sort(),
    'one connection per (far end, profile, SNI), in the connection table');
});

test('SNI: a name target sends the name, an IP target (no domain) sends none; with an IP the certificate must carry that IP', async (t) => {
  const byIp = await issue({ cn: 'carrier.test', sans: ['DNS:carrier.test', 'IP:127.0.0.1'] });
  const rig = await startOutboundRig(t, profiles());
  const named = await farEnd(t, ['-naccept', '1', '-trace', ...certArgs(byIp!)]);
  assert.equal((await placeCall(rig, `sip:3000@127.0.0.1:${named.port};transport=tls`, 'tenant=carrier;profile=out;domain=carrier.test')).status, 486);
  const helloNamed = tracedClientHello(named.output());
  assert.equal(helloNamed?.hasSni, true);
  assert.equal(helloNamed?.sni, 'carrier.test');

  const ip = await farEnd(t, ['-naccept', '1', '-trace', ...certArgs(byIp!)]);
  assert.equal((await placeCall(rig, `sip:3000@127.0.0.1:${ip.port};transport=tls`, 'tenant=carrier;profile=out')).status, 486);
  const helloIp = tracedClientHello(ip.output());
  assert.ok(helloIp && helloIp.ciphers.length > 0, 'ClientHello traced');
  assert.equal(helloIp.hasSni, false, 'no server_name extension for an IP target');

  // The same IP target at a server whose certificate has no IP identity: refused as a name mismatch.
  const noIp = await farEnd(t, ['-naccept', '1', ...certArgs(carrier!)]);
  const r = await placeCall(rig, `sip:3000@127.0.0.1:${noIp.port};transport=tls`, 'tenant=carrier;profile=out');
  assert.equal(r.status, 503);
  assert.match(r.reason ?? '', /name-mismatch: .*expected 127\.0\.0\.1, presented dns:carrier\.test sip:carrier\.test/);
  await until(() => rig.engine.transport.tlsStats().failures('carrier', 'client', 'name-mismatch') === 1);
  assert.equal(rig.engine.transport.tlsStats().failures('carrier', 'client', 'name-mismatch'), 1);
});

test('a stranger whose chain ends in its own root, against a profile with a CRL: unknown CA, not revoked', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const far = await farEnd(t, ['-naccept', '1', '-cert', stranger!.certPath, '-key', stranger!.keyPath, '-cert_chain', rogue!.certPath]);
  const r = await placeCall(rig, `sip:3000@127.0.0.1:${far.port};transport=tls`, 'tenant=carrier;profile=crl;domain=carrier.test');
  assert.equal(r.status, 503);
  assert.match(r.reason ?? '', /TLS_HANDSHAKE_FAILED unknown-ca: /);
  const stats = rig.engine.transport.tlsStats();
  assert.equal(stats.failures('carrier', 'client', 'unknown-ca'), 1);
  assert.equal(stats.failures('carrier', 'client', 'revoked'), 0);
});
