import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalCa, generateKeyPair, issueCertificate, type TrustpointMaterial } from '../../src/pki/index.js';
import { buildTlsProfile, type TlsProfileSpec } from '../../src/tls/index.js';
import { requireOpenssl } from '../support/test-certs.js';
import { connectTls, settled, startListener, startPeerServer } from './tls-support.js';

/**
 * A peer whose chain has `cas` CA certificates above its own: a root and cas-1 intermediates, each signing the
 * next. The trust anchor is the root; the peer sends its intermediates (the root too: ours leaves it out).
 */
function chainOf(cas: number, name: string): { root: string; peer: TrustpointMaterial } {
  const root = createLocalCa({ commonName: `${name} root` });
  let issuer = { certPem: root.certPem, keyPem: root.keyPem };
  const chain: string[] = [root.certPem];
  for (let i = 1; i < cas; i++) {
    const k = generateKeyPair();
    const certPem = issueCertificate({
      subject: { commonName: `${name} CA ${i}` }, subjectKeyPem: k.publicKeyPem, issuerKeyPem: issuer.keyPem, issuerCertPem: issuer.certPem, isCA: true,
    });
    chain.unshift(certPem);
    issuer = { certPem, keyPem: k.privateKeyPem };
  }
  const k = generateKeyPair();
  const certPem = issueCertificate({
    subject: { commonName: `${name}.example` }, subjectKeyPem: k.publicKeyPem, issuerKeyPem: issuer.keyPem, issuerCertPem: issuer.certPem,
    san: [{ type: 'dns', value: `${name}.example` }], extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  return { root: root.certPem, peer: { keyPem: k.privateKeyPem, certPem, chainPems: chain } };
}

const gwCa = createLocalCa({ commonName: 'gw CA' });
const gw = chainOf(1, 'gw');
const four = chainOf(4, 'four');
const five = chainOf(5, 'five');
const six = chainOf(6, 'six');
const trusted = [gw.root, four.root, five.root, six.root, gwCa.certPem];

const profile = (spec: Partial<TlsProfileSpec>, tp: TrustpointMaterial = gw.peer) =>
  buildTlsProfile({ name: 'p', tenant: 'acme', ...spec }, { trustpoint: tp, trustedCaPems: trusted });

test('inbound mutual TLS: a client chain of 4 CAs is accepted, one of 6 refused with its own reason; the limit is the profile\'s', async (t) => {
  const strict = profile({ name: 'strict', requireClientCertificate: true, cnSanValidate: 'client' });
  const rec = await startListener(t, { profiles: () => [strict], defaultProfile: () => strict });
  const as = (tp: TrustpointMaterial) => ({
    host: '127.0.0.1', port: rec.port, ca: trusted, checkServerIdentity: () => undefined, key: tp.keyPem, cert: tp.certPem + tp.chainPems.slice(0, -1).join(''),
  });
  assert.equal((await connectTls(as(four.peer))).ok, true);
  assert.equal((await connectTls(as(six.peer))).ok, false);
  await settled(rec, 2);
  assert.equal(rec.accepted.length, 1);
  assert.equal(rec.failures.length, 1);
  assert.equal(rec.failures[0]!.reason, 'chain-too-deep');
  assert.equal(rec.failures[0]!.code, 'ERR_TLS_CHAIN_DEPTH');
  assert.match(rec.failures[0]!.detail, /6 CA certificates above its own, more than maxChainDepth 4/);

  const loose = profile({ name: 'loose', requireClientCertificate: true, cnSanValidate: 'client', maxChainDepth: 6 });
  const rec6 = await startListener(t, { profiles: () => [loose], defaultProfile: () => loose });
  assert.equal((await connectTls({ ...as(six.peer), port: rec6.port })).ok, true, 'maxChainDepth 6 takes it');
  const tight = profile({ name: 'tight', requireClientCertificate: true, cnSanValidate: 'client', maxChainDepth: 3 });
  const rec3 = await startListener(t, { profiles: () => [tight], defaultProfile: () => tight });
  assert.equal((await connectTls({ ...as(four.peer), port: rec3.port })).ok, false, 'maxChainDepth 3 refuses 4');
  await settled(rec3, 1);
  assert.equal(rec3.failures[0]!.reason, 'chain-too-deep');
});

test('outbound: a server chain of 5 CAs is refused by default with ERR_TLS_CHAIN_DEPTH, one of 4 accepted', async (t) => {
  const client = profile({ name: 'out', cnSanValidate: 'server' });
  for (const [c, want] of [[four, true], [five, false]] as const) {
    const server = await startPeerServer(t, { key: c.peer.keyPem, cert: c.peer.certPem + c.peer.chainPems.slice(0, -1).join('') });
    const name = c === four ? 'four.example' : 'five.example';
    const r = await connectTls(client.clientOptions({ address: '127.0.0.1', port: server.port, domain: name }));
    assert.equal(r.ok ? 'ok' : r.failure.reason, want ? 'ok' : 'chain-too-deep', name);
    if (!r.ok) assert.equal(r.failure.code, 'ERR_TLS_CHAIN_DEPTH');
  }
});

test('DHE suites work as a server: a client offering only DHE-RSA-AES128-GCM-SHA256 (CUBE tls-cipher example) gets it', async (t) => {
  await requireOpenssl();
  const rsa = createLocalCa({ commonName: 'rsa CA', key: { type: 'rsa', bits: 2048 } });
  const k = generateKeyPair({ type: 'rsa', bits: 2048 });
  const certPem = issueCertificate({
    subject: { commonName: 'gw.example' }, subjectKeyPem: k.publicKeyPem, issuerKeyPem: rsa.keyPem, issuerCertPem: rsa.certPem,
    san: [{ type: 'dns', value: 'gw.example' }], extKeyUsage: ['serverAuth'],
  });
  const tp: TrustpointMaterial = { keyPem: k.privateKeyPem, certPem, chainPems: [rsa.certPem] };
  const cube = profile({ name: 'cube', ciphers: ['DHE_RSA_AES128_GCM_SHA256', 'ECDHE_RSA_AES128_GCM_SHA256'], maxVersion: 'TLSv1.2' }, tp);
  const rec = await startListener(t, { profiles: () => [cube], defaultProfile: () => cube });
  const dir = mkdtempSync(join(tmpdir(), 'tg-dhe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.pem'), rsa.certPem);
  const r = await promisify(execFile)('openssl', [
    's_client', '-connect', `127.0.0.1:${rec.port}`, '-tls1_2', '-cipher', 'DHE-RSA-AES128-GCM-SHA256', '-CAfile', join(dir, 'ca.pem'),
    '-verify_return_error', '-brief',
  ], { timeout: 10_000 }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
  const text = `${r.stdout}\n${r.stderr}`;
  assert.match(text, /Ciphersuite: DHE-RSA-AES128-GCM-SHA256/, text);
  await settled(rec, 1);
  assert.equal(rec.accepted[0]?.cipher, 'DHE-RSA-AES128-GCM-SHA256');

  const off = profile({ name: 'off', ciphers: ['DHE_RSA_AES128_GCM_SHA256', 'ECDHE_RSA_AES128_GCM_SHA256'], maxVersion: 'TLSv1.2', dhparam: 'none' }, tp);
  const recOff = await startListener(t, { profiles: () => [off], defaultProfile: () => off });
  const r2 = await promisify(execFile)('openssl', [
    's_client', '-connect', `127.0.0.1:${recOff.port}`, '-tls1_2', '-cipher', 'DHE-RSA-AES128-GCM-SHA256', '-brief',
  ], { timeout: 10_000 }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
  assert.doesNotMatch(`${r2.stdout}\n${r2.stderr}`, /Ciphersuite: DHE/, 'with dhparam none, no DHE');
  await settled(recOff, 1);
  assert.equal(recOff.failures[0]?.reason, 'no-shared-cipher');
});
