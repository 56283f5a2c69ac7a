// A registration trunk over mutual TLS: trunkgate registers its contact at kamailio (registrar with digest, its own
// CA, verifying the gateway's client certificate) over TLS, and kamailio delivers a carrier call to that contact
// over TLS, presenting its own certificate to the gateway's TLS listener; the call is the carrier tenant's.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { freePort, runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa, writeTrustpointDir } from '../../support/test-certs.js';
import { profilesDir, startTrunkgate, type LogLine } from '../../support/trunkgate-process.js';

test(`registration trunk over mutual TLS with kamailio ${kamailioVersion()}: registered over TLS, the carrier's call delivered to the contact over TLS`, { timeout: 60_000 }, async (t) => {
  const gatewayCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  const carrierCa = await createTestCa({ cn: 'carrier CA' });
  t.after(async () => { await gatewayCa.cleanup(); await carrierCa.cleanup(); });
  const gwCert = await gatewayCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });
  const kamCert = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test', 'DNS:localhost'] });

  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { certificate: kamCert.cert, privateKey: kamCert.key, caList: gatewayCa.cert, verifyCertificate: true, requireCertificate: true },
    route: { kind: 'registrar', realm: 'carrier.test', users: { trunk1: 'tls-pw' }, callsTo: 'sip:trunk1@carrier.test' },
  });
  t.after(() => kam.stop());

  const [sipPort, securePort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const profiles = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ../pki/gw }
trustStores:
  carriers: ../pki/carrier-ca.pem
tlsProfiles:
  edge: { trustpoint: gw, trustStore: carriers, minVersion: TLSv1.2, requireClientCert: true }
tenants:
  pbx: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
  carrier:
    transport: tls
    tlsProfile: edge
    listenPortSecure: ${securePort}
    sipServer: localhost:${kam.port('tls')}
    register: { username: trunk1, domain: carrier.test, realm: carrier.test, passwordEnv: TG_TRUNK_PW, expires: 600 }
tlsPeers:
  sbc.carrier.test: { tenants: [carrier], permissions: {} }
dialPeers:
  - { id: did-to-pbx, destinationPattern: "^2\\\\d{3}$", tenant: pbx, from: [carrier] }
`);
  const root = join(profiles, '..');
  writeTrustpointDir(join(root, 'pki', 'gw'), gwCert, gatewayCa.cert);
  writeFileSync(join(root, 'pki', 'carrier-ca.pem'), carrierCa.cert);
  const gw = await startTrunkgate(t, profiles, { env: { TG_TRUNK_PW: 'tls-pw' }, ready: (l) => l.code === 'EVT_GATEWAY_READY' });

  const { line } = await gw.waitFor((l) => l.code === 'EVT_REGISTRATION_UP', 15_000).catch((e: Error) => {
    throw new Error(`${e.message}\nkamailio:\n${kam.logs().slice(-2000)}`);
  });
  assert.equal(line.tenant, 'carrier');
  const registers = await kam.waitForRequests((seen) => seen.some((r) => r.method === 'REGISTER' && r.proto === 'tls'), 5_000);
  const reg = registers.find((r) => r.method === 'REGISTER')!;
  assert.deepEqual([reg.proto, reg.verified, reg.peerCn], ['tls', '1', 'gw.trunkgate.test'], 'REGISTER over TLS with the gateway\'s verified certificate');
  await kam.waitForLog(/tg-registered aor=sip:trunk1@carrier\.test contact=<sip:trunk1@127\.0\.0\.1:\d+;transport=tls>/);

  const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${kam.port('udp')}`, service: '2002', calls: 2, rate: 5, timeoutSec: 20 });
  assert.equal(r.stats.successful, 2, r.errors.slice(0, 800) + kam.relayFailures().join('\n'));
  await gw.waitFor(() => gw.lines.filter((l: LogLine) => l.msg === 'cdr').length >= 2, 5_000);
  for (const c of gw.lines.filter((l: LogLine) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>)) {
    assert.deepEqual([c.tenantIn, c.transportIn, c.calledNumber, c.status], ['carrier', 'tls', '2002', 200], JSON.stringify(c));
    assert.deepEqual(c.identities, ['dns:sbc.carrier.test', 'dns:localhost'].filter((i) => (c.identities as string[]).includes(i)), 'the carrier\'s certificate names, verified by the gateway');
    assert.ok((c.identities as string[]).includes('dns:sbc.carrier.test'));
  }
});
