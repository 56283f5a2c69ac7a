// CUBE's TLS trunk example as docs/examples/cube/cube.yaml translates it, run as written, with kamailio as the
// carrier in both directions. Only the addresses are changed (ports picked here, the carrier's address is
// `localhost` so a name is sent as SNI); the certificates are made here into the file's own relative paths.
//   in:  sipp UAC → UDP → kamailio (the carrier, DHE-only, TLS 1.2) → mutual TLS → trunkgate → UDP → sipp UAS
//   out: sipp UAC → UDP → trunkgate → mutual TLS (sips:, SNI) → kamailio (the carrier) → UDP → sipp UAS
// Both ways: the DHE suite of `tls-cipher 100` or the profile's list is negotiated, `cn-san validate
// bidirectional` passes for the carrier's name, and `srtp-crypto 100` leaves only AEAD_AES_256_GCM in the offer.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { loadConfig, tryLoadConfig } from '../../../src/config/index.js';
import { validateCipherName } from '../../../src/tls/cipher-names.js';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { freePort, runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa, writeTrustpointDir } from '../../support/test-certs.js';
import { startTrunkgate, type LogLine } from '../../support/trunkgate-process.js';

const example = fileURLToPath(new URL('../../../docs/examples/cube/cube.yaml', import.meta.url));
const GW_NAME = 'cube.example.com';
const CARRIER = 'sip.carrier.example';

const cdrOf = (lines: LogLine[], number: string): Record<string, unknown> | undefined =>
  lines.find((l) => l.msg === 'cdr' && (l.cdr as { calledNumber?: string }).calledNumber === number)?.cdr as Record<string, unknown> | undefined;

test('docs/examples/cube/cube.yaml loads as shipped once its trustpoint is provisioned, and its objects are CUBE\'s', () => {
  // As shipped its trustpoint folder is empty: the check names it, as config check would, until \`trunkgate pki\` fills it.
  const shipped = tryLoadConfig([example], { validateCipherName });
  assert.ok(!shipped.ok);
  assert.deepEqual(shipped.problems.map((p) => [p.code, p.path]), [['ERR_CONFIG_REFERENCE', 'trustpoints.CUBE-TP.dir']]);
  const c = loadConfig([example], { validateCipherName, trustpointExists: () => true });
  assert.deepEqual([...c.tlsCiphers['100']!], ['DHE_RSA_AES128_GCM_SHA256', 'ECDHE_RSA_AES256_GCM_SHA384']);
  assert.equal(c.tlsProfiles['100']?.cnSanValidate, 'bidirectional');
  assert.equal(c.tenants.carrier?.url, 'sips');
  assert.deepEqual([...c.tenants.carrier!.srtpCrypto!], ['AEAD_AES_256_GCM']);
  assert.equal(c.trustpoints['CUBE-TP'] && 'dir' in c.trustpoints['CUBE-TP'] ? c.trustpoints['CUBE-TP'].dir : '', join(example, '..', 'pki/cube-tp'));
});

test(`CUBE's example carries a call each way with kamailio (${kamailioVersion()}): DHE, cn-san bidirectional, SNI, sips, SRTP suites`, { timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-cube-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const gatewayCa = await createTestCa({ cn: 'CUBE gateway CA', keyType: 'rsa' });
  t.after(() => gatewayCa.cleanup());
  const carrierCa = await createTestCa({ cn: 'Carrier CA', keyType: 'rsa' });
  t.after(() => carrierCa.cleanup());
  const cube = await gatewayCa.issue({ cn: GW_NAME, sans: [`DNS:${GW_NAME}`], keyType: 'rsa' });
  const carrier = await carrierCa.issue({ cn: CARRIER, sans: [`DNS:${CARRIER}`], keyType: 'rsa' });

  // The example's own relative paths, filled here: pki/cube-tp and pki/carrier-ca.pem beside the file.
  const profiles = join(root, 'profiles');
  writeTrustpointDir(join(profiles, 'pki', 'cube-tp'), cube, gatewayCa.cert);
  writeFileSync(join(profiles, 'pki', 'carrier-ca.pem'), carrierCa.cert);

  const uasIn = await startSippUas({ scenario: { file: 'uas-call-srtp.xml' } });
  t.after(() => uasIn.stop());
  const uasOut = await startSippUas({ scenario: { file: 'uas-call-srtp.xml' } });
  t.after(() => uasOut.stop());
  // The carrier's receiving side: demands our client certificate and trusts only the CA that signed it.
  const kamOut = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { certificate: carrier.cert, privateKey: carrier.key, caList: gatewayCa.cert, verifyCertificate: true, requireCertificate: true, method: 'TLSv1.2' },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: uasOut.port, transport: 'udp' } },
  });
  t.after(() => kamOut.stop());

  const [udpPort, securePort] = [await freePort(), await freePort()];
  const doc = parseDocument(readFileSync(example, 'utf8'));
  doc.setIn(['gateway', 'listen', 0, 'port'], udpPort);
  doc.setIn(['gateway', 'engine', 'control', 'port'], 0);
  doc.setIn(['tenants', 'carrier', 'listenPortSecure'], securePort);
  doc.setIn(['tenants', 'carrier', 'sipServer'], `localhost:${kamOut.port('tls')}`);
  doc.setIn(['tenants', 'pbx', 'sipServer'], `127.0.0.1:${uasIn.port}`);
  writeFileSync(join(profiles, 'cube.yaml'), doc.toString());
  copyFileSync(example, join(root, 'as-shipped.yaml'));

  const gw = await startTrunkgate(t, profiles, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') });

  // In: the carrier calls over TLS 1.2 offering only the DHE suite (CUBE's cipher 1).
  const kamIn = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: carrier.cert, privateKey: carrier.key, caList: gatewayCa.cert, method: 'TLSv1.2', cipherList: 'DHE-RSA-AES128-GCM-SHA256',
      destinations: [{ host: '127.0.0.1', port: securePort, serverName: GW_NAME }],
    },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: securePort, transport: 'tls' } },
  });
  t.after(() => kamIn.stop());
  const inbound = await runSipp({ scenario: { file: 'uac-call-srtp.xml' }, remote: `127.0.0.1:${kamIn.port('udp')}`, service: '5551001', calls: 1, timeoutSec: 20 });
  const tail = (): string => gw.lines.slice(-20).map((l) => JSON.stringify(l)).join('\n');
  assert.equal(inbound.stats.successful, 1, `inbound call (the far UAS answers 488 to an offer that is not AEAD-only): ${inbound.errors.slice(0, 1200)}\n${tail()}`);
  await gw.waitFor((l) => l.msg === 'cdr' && (l.cdr as { calledNumber?: string }).calledNumber === '5551001', 10_000);
  const inCdr = cdrOf(gw.lines, '5551001')!;
  assert.equal(inCdr.status, 200);
  assert.equal(inCdr.tenantIn, 'carrier');
  assert.equal(inCdr.tlsPeer, CARRIER);
  for (let i = 0; i < 200 && kamIn.tlsReplies().length === 0; i++) await new Promise((ok) => setTimeout(ok, 25));
  const replies = kamIn.tlsReplies();
  assert.ok(replies.length > 0, 'kamailio logged no reply over TLS');
  assert.deepEqual([...new Set(replies.map((r) => r.cipher))], ['DHE-RSA-AES128-GCM-SHA256'], 'the gateway served the DHE suite');
  assert.deepEqual([...new Set(replies.map((r) => r.peerCn))], [GW_NAME]);

  // Out: the PBX calls; the gateway places it sips: over TLS with SNI and its client certificate.
  const outbound = await runSipp({ scenario: { file: 'uac-call-srtp.xml' }, remote: `127.0.0.1:${udpPort}`, service: '5552002', calls: 1, timeoutSec: 20 });
  assert.equal(outbound.stats.successful, 1, `outbound call: ${outbound.errors.slice(0, 1200)}\n${tail()}`);
  const seen = await kamOut.waitForRequests((s) => s.some((r) => r.method === 'INVITE'), 5000);
  const invite = seen.find((r) => r.method === 'INVITE')!;
  assert.equal(invite.proto, 'tls');
  assert.equal(invite.sni, 'localhost', 'SNI is the carrier\'s name as the tenant writes it');
  assert.equal(invite.verified, '1', 'kamailio verified our client certificate');
  assert.equal(invite.peerCn, GW_NAME);
  assert.equal(invite.version, 'TLSv1.2');
  assert.match(invite.cipher ?? '', /^(DHE|ECDHE)-RSA-AES(128|256)-GCM-SHA(256|384)$/, 'a suite of tls-cipher 100');
  await gw.waitFor((l) => l.msg === 'cdr' && (l.cdr as { calledNumber?: string }).calledNumber === '5552002', 10_000);
  const outCdr = cdrOf(gw.lines, '5552002')!;
  assert.equal(outCdr.status, 200);
  assert.equal(outCdr.tenantOut, 'carrier');
});
