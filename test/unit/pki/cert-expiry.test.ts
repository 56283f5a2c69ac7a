import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateExpiryWatch } from '../../../src/cert-expiry.js';
import { ManualClock } from '../../../src/common/index.js';
import type { GatewayConfig } from '../../../src/config/index.js';
import { createLocalCa, issueGatewayCertificate, saveTrustpoint } from '../../../src/pki/index.js';
import { captureLog } from '../b2bua/fake-srf.js';

const DAY = 86_400_000;

test('expiry lines: once per certificate at 30, 7 and 1 days left, then once when expired; trust-store CAs too', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-expiry-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const start = Date.UTC(2030, 0, 1);
  const ca = createLocalCa({ commonName: 'expiry CA', now: new Date(start - DAY) });
  const leaf = issueGatewayCertificate(ca, { domain: 'gw.test', notBefore: new Date(start - DAY), notAfter: new Date(start + 40 * DAY) });
  saveTrustpoint(join(root, 'tp'), leaf);
  const shortCa = createLocalCa({ commonName: 'short-lived CA', now: new Date(start - DAY), validityDays: 11 });
  writeFileSync(join(root, 'store.pem'), shortCa.certPem);
  const config = { trustpoints: { gw: { dir: join(root, 'tp') } }, trustStores: { carriers: join(root, 'store.pem') } } as unknown as GatewayConfig;
  const clock = new ManualClock(start);
  const { log, lines } = captureLog();
  const w = new CertificateExpiryWatch({ log, config: () => config, clock, everyMs: DAY });
  w.start();
  // Day 0: the leaf has 40 days, its CA (chain) ten years, the short CA 10 days left: one 30-day line, for the short CA.
  assert.deepEqual(lines.map((l) => `${l['code']} ${l['where']} ${l['threshold']} ${l['daysLeft']}`), ['WARN_CERT_EXPIRING trust store carriers 30 10']);
  assert.equal(w.rows().length, 3, 'leaf, chain CA, trust-store CA');
  for (let day = 1; day <= 45; day++) clock.advance(DAY);
  const of = (where: string) => lines.filter((l) => l['where'] === where).map((l) => `${l['code']} ${l['threshold'] ?? '-'} ${l['daysLeft']}`);
  assert.deepEqual(of('trust store carriers'), [
    'WARN_CERT_EXPIRING 30 10', 'WARN_CERT_EXPIRING 7 7', 'WARN_CERT_EXPIRING 1 1', 'ERR_PKI_CERT_EXPIRED - -1',
  ]);
  assert.deepEqual(of('trustpoint gw'), [
    'WARN_CERT_EXPIRING 30 30', 'WARN_CERT_EXPIRING 7 7', 'WARN_CERT_EXPIRING 1 1', 'ERR_PKI_CERT_EXPIRED - -1',
  ]);
  assert.equal(lines.length, 8, 'the chain CA has years left: nothing');
  w.close();
  const n = lines.length;
  clock.advance(10 * DAY);
  assert.equal(lines.length, n, 'nothing after close');
});

test('a trustpoint that cannot be read is one line, not a crash; a later check sees it once fixed', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-expiry2-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const config = { trustpoints: { gw: { dir: join(root, 'missing') } }, trustStores: {} } as unknown as GatewayConfig;
  const clock = new ManualClock(Date.now());
  const { log, lines } = captureLog();
  const w = new CertificateExpiryWatch({ log, config: () => config, clock, everyMs: 1000 });
  w.start();
  w.check();
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['code'], 'ERR_PKI_IO');
  assert.match(String(lines[0]!['msg']), /trustpoint gw/);
  assert.deepEqual(w.rows(), []);
  const ca = createLocalCa({ commonName: 'later CA' });
  saveTrustpoint(join(root, 'missing'), issueGatewayCertificate(ca, { domain: 'gw.test' }));
  clock.advance(1000);
  assert.equal(w.rows().length, 2);
  w.close();
});

test('a certificate that does not parse in a trust store hides none of the others: they still get their expiry lines', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-expiry-bad-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const start = Date.UTC(2030, 0, 1);
  const shortCa = createLocalCa({ commonName: 'short-lived CA', now: new Date(start - DAY), validityDays: 11 });
  const broken = '-----BEGIN CERTIFICATE-----\nMIIBbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
  writeFileSync(join(root, 'store.pem'), broken + shortCa.certPem);
  const config = { trustpoints: {}, trustStores: { carriers: join(root, 'store.pem') } } as unknown as GatewayConfig;
  const { log, lines } = captureLog();
  const w = new CertificateExpiryWatch({ log, config: () => config, clock: new ManualClock(start), everyMs: DAY });
  w.start();
  t.after(() => w.close());
  assert.equal(w.rows().length, 1, 'the good CA is listed');
  assert.ok(lines.some((l) => l['code'] === 'WARN_CERT_EXPIRING' && l['where'] === 'trust store carriers'), JSON.stringify(lines));
});
