import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa } from '../../support/test-certs.js';
import { startTrunkgate } from '../../support/trunkgate-process.js';

// The outbound half of the carrier case: trunkgate started as `npm start` does, on a profiles directory with a
// carrier tenant over TLS, its own TLS profile and trust store; kamailio plays the carrier SBC with its own CA and
// demands the gateway's client certificate (mutual TLS). sipp → UDP → gateway → mutual TLS → kamailio → sipp.

test(`sipp → gateway (policy pipeline) → mutual TLS → kamailio (${kamailioVersion()}, own CA, client certificate required) → sipp: 10 calls`, async (t) => {
  const carrierCa = await createTestCa({ cn: 'carrier CA' });
  t.after(() => carrierCa.cleanup());
  const gatewayCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  t.after(() => gatewayCa.cleanup());
  const sbc = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:localhost'] });
  const gwCert = await gatewayCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'URI:sip:gw.trunkgate.test'] });

  const uas = await startSippUas({ scenario: { file: 'uas-call-rr.xml' } });
  t.after(() => uas.stop());
  const kam = await startKamailio({
    listen: [{ proto: 'tls', host: '127.0.0.1', port: 0 }, { proto: 'udp', host: '127.0.0.1', port: 0 }],
    tls: { certificate: sbc.cert, privateKey: sbc.key, caList: gatewayCa.cert, verifyCertificate: true, requireCertificate: true },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: uas.port, transport: 'udp' } },
  });
  t.after(() => kam.stop());

  const root = mkdtempSync(join(tmpdir(), 'trunkgate-mutual-out-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const tpDir = join(root, 'pki', 'gw');
  mkdirSync(tpDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(tpDir, 'key.pem'), gwCert.key, { mode: 0o600 });
  writeFileSync(join(tpDir, 'cert.pem'), gwCert.cert);
  writeFileSync(join(tpDir, 'chain.pem'), gatewayCa.cert);
  writeFileSync(join(root, 'carrier-ca.pem'), carrierCa.cert);
  const profilesDir = join(root, 'profiles');
  mkdirSync(profilesDir);
  writeFileSync(join(profilesDir, 'gateway.yaml'), `
gateway:
  domain: gw.trunkgate.test
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0, tenant: pbx }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: carrier-out, tenant: carrier }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  admin: { enabled: false }
trustpoints:
  gw: { dir: ${tpDir} }
trustStores:
  carriers: [${join(root, 'carrier-ca.pem')}]
tlsProfiles:
  carrier-out: { trustpoint: gw, trustStore: carriers, minVersion: TLSv1.2, cnSanValidate: server }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  carrier: { transport: tls, url: sip, sipServer: localhost:${kam.port('tls')}, tlsProfile: carrier-out }
dialPeers:
  - { id: out, destinationPattern: ".", tenant: carrier, from: [pbx] }
`);
  const gw = await startTrunkgate(t, profilesDir, {
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  const udp = gw.lines.find((l) => l.transport === 'udp' && typeof l.port === 'number');
  assert.ok(udp, 'no UDP listener logged');

  const calls = 10;
  const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${udp.port as number}`, calls, rate: 10, timeoutSec: 30 });
  const diag = `sipp: ${r.errors.slice(0, 1500)}\nkamailio:\n${kam.logs().slice(-2500)}`;
  assert.equal(r.exitCode, 0, diag);
  assert.equal(r.stats.successful, calls, diag);
  assert.equal(r.stats.failed, 0, diag);

  const seen = await kam.waitForRequests((s) => s.filter((x) => x.method === 'BYE').length >= calls);
  const invites = seen.filter((x) => x.method === 'INVITE');
  assert.equal(invites.length, calls);
  for (const x of invites) {
    assert.equal(x.proto, 'tls', 'INVITEs reached kamailio over TLS');
    assert.equal(x.verified, '1', 'kamailio verified the gateway\'s client certificate against the gateway CA');
    assert.equal(x.peerCn, 'gw.trunkgate.test', 'the certificate the gateway presented is its trustpoint');
    assert.equal(x.sni, 'localhost', 'SNI names the carrier target');
  }
  assert.equal(seen.filter((x) => x.proto !== 'tls').length, 0, 'nothing reached kamailio outside TLS');
  const cdrs = gw.lines.filter((l) => l.msg === 'cdr');
  assert.ok(cdrs.length >= 1, 'the gateway wrote CDRs');
  assert.ok(!gw.lines.some((l) => l.event === 'TLS_HANDSHAKE_FAILED'), 'no TLS handshake failed');
});
