// The transport is kept in the Contact the gateway sends over TLS, so the far end's in-dialog requests come back
// the same way: the callee hangs up behind kamailio, and kamailio must reach the gateway at that Contact.
//   sipp UAC → UDP → trunkgate (npm start's entry) → TLS → kamailio (record-routes) → UDP → sipp UAS, which sends
//   the BYE: UAS → kamailio → (the gateway's Contact, `sips:…;transport=tls`) → TLS → trunkgate → UDP → sipp UAC.
// A Contact without the transport would send that BYE over UDP to the TLS port: it would never arrive.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { freePort, runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa, writeTrustpointDir } from '../../support/test-certs.js';
import { startTrunkgate, type LogLine } from '../../support/trunkgate-process.js';

const cdrs = (lines: LogLine[]): Array<Record<string, unknown>> =>
  lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);

test(`the callee hangs up behind kamailio (${kamailioVersion()}): its BYE reaches the gateway over TLS at the Contact the gateway sent, and the caller gets it`, { timeout: 60_000 }, async (t) => {
  const gatewayCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  t.after(() => gatewayCa.cleanup());
  const carrierCa = await createTestCa({ cn: 'carrier CA' });
  t.after(() => carrierCa.cleanup());
  const gw = await gatewayCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });
  const kamCert = await carrierCa.issue({ cn: 'localhost', sans: ['DNS:localhost'] });

  const uas = await startSippUas({ scenario: { file: 'uas-call-hangup.xml' } });
  t.after(() => uas.stop());
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { certificate: kamCert.cert, privateKey: kamCert.key, caList: gatewayCa.cert, verifyCertificate: true },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: uas.port, transport: 'udp' } },
  });
  t.after(() => kam.stop());

  const root = mkdtempSync(join(tmpdir(), 'tg-contact-tls-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const profiles = join(root, 'profiles');
  mkdirSync(profiles);
  writeTrustpointDir(join(root, 'pki', 'gw'), gw, gatewayCa.cert);
  writeFileSync(join(root, 'pki', 'carrier-ca.pem'), carrierCa.cert);
  const [sipPort, securePort] = [await freePort(), await freePort()];
  writeFileSync(join(profiles, 'gateway.yaml'), `
gateway:
  domain: gw.trunkgate.test
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ../pki/gw }
trustStores:
  carriers: ../pki/carrier-ca.pem
tlsProfiles:
  edge: { trustpoint: gw, trustStore: carriers, minVersion: TLSv1.2 }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  carrier: { transport: tls, tlsProfile: edge, listenPortSecure: ${securePort}, sipServer: localhost:${kam.port('tls')} }
dialPeers:
  - { id: out, destinationPattern: ".", tenant: carrier, from: [pbx] }
`);
  const p = await startTrunkgate(t, profiles, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') });

  const calls = 3;
  const run = await runSipp({ scenario: { file: 'uac-call-callee-bye.xml' }, remote: `127.0.0.1:${sipPort}`, service: '5551234', calls, rate: 5, timeoutSec: 20 });
  assert.equal(run.stats.successful, calls, `the caller got every callee's BYE: ${run.errors.slice(0, 1500)}`);
  // Replies kamailio got over TLS are the gateway's own: here the 200 to each BYE, on a connection to its Contact.
  for (let i = 0; i < 200 && kam.tlsReplies().filter((r) => r.status === '200').length < calls; i++) await new Promise((ok) => setTimeout(ok, 25));
  const byeAnswers = kam.tlsReplies().filter((r) => r.status === '200');
  assert.equal(byeAnswers.length, calls, `200s to the BYEs received over TLS: ${JSON.stringify(kam.tlsReplies())}`);
  assert.ok(byeAnswers.every((r) => r.peerCn === 'gw.trunkgate.test'));
  await p.waitFor(() => cdrs(p.lines).length >= calls, 10_000);
  for (const c of cdrs(p.lines)) {
    assert.equal(c.status, 200);
    assert.equal(c.tenantOut, 'carrier');
    assert.equal(c.releasedBy, 'callee', JSON.stringify(c));
  }
});
