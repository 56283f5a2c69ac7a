// A registration trunk over mutual TLS whose connection to the registrar drops, then whose registrar restarts:
// kamailio (usrloc in memory) loses the binding and closes the gateway's TLS connection; each time the trunk's next
// OPTIONS probe comes back over a new connection (another rport in its Via), so the trunk registers again at once
// rather than at its next refresh, and the new kamailio has the contact again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kamailioVersion, startKamailio, type KamailioOptions } from '../../support/kamailio.js';
import { freePort } from '../../support/sipp.js';
import { createTestCa, writeTrustpointDir } from '../../support/test-certs.js';
import { profilesDir, startTrunkgate } from '../../support/trunkgate-process.js';

test(`registration trunk over TLS re-registers promptly when kamailio ${kamailioVersion()} restarts`, { timeout: 60_000 }, async (t) => {
  const gatewayCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  const carrierCa = await createTestCa({ cn: 'carrier CA' });
  t.after(async () => { await gatewayCa.cleanup(); await carrierCa.cleanup(); });
  const gwCert = await gatewayCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });
  const kamCert = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test', 'DNS:localhost'] });
  const kamPort = await freePort();
  const ctlDir = mkdtempSync(join(tmpdir(), 'tg-kamctl-'));
  t.after(() => rmSync(ctlDir, { recursive: true, force: true }));
  const ctl = join(ctlDir, 'ctl.sock');
  const location = () => execFileSync('kamcmd', ['-s', `unix:${ctl}`, 'ul.dump'], { encoding: 'utf8', timeout: 5_000 });
  const kamOptions: KamailioOptions = {
    listen: [{ proto: 'tls', host: '127.0.0.1', port: kamPort }],
    tls: { certificate: kamCert.cert, privateKey: kamCert.key, caList: gatewayCa.cert, verifyCertificate: true, requireCertificate: true },
    route: { kind: 'registrar', realm: 'carrier.test', users: { trunk1: 'tls-pw' }, ctlSocket: ctl },
  };
  let kam = await startKamailio(kamOptions);
  t.after(() => kam.stop());

  const [sipPort, securePort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const profiles = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ../pki/gw }
trustStores:
  carriers: ../pki/carrier-ca.pem
tlsProfiles:
  edge: { trustpoint: gw, trustStore: carriers, minVersion: TLSv1.2, requireClientCert: true }
tenants:
  carrier:
    transport: tls
    tlsProfile: edge
    listenPortSecure: ${securePort}
    sipServer: localhost:${kamPort}
    register: { username: trunk1, domain: carrier.test, realm: carrier.test, passwordEnv: TG_TRUNK_PW, expires: 600, probeSeconds: 1 }
dialPeers: []
`);
  const root = join(profiles, '..');
  writeTrustpointDir(join(root, 'pki', 'gw'), gwCert, gatewayCa.cert);
  writeFileSync(join(root, 'pki', 'carrier-ca.pem'), carrierCa.cert);
  const gw = await startTrunkgate(t, profiles, { env: { TG_TRUNK_PW: 'tls-pw' }, ready: (l) => l.code === 'EVT_GATEWAY_READY' });

  await gw.waitFor((l) => l.code === 'EVT_REGISTRATION_UP', 15_000);
  const bound = /tg-registered aor=sip:trunk1@carrier\.test contact=<sip:trunk1@127\.0\.0\.1:\d+;transport=tls>/;
  assert.match(kam.logs(), bound);
  // A probe or two on the same connection: nothing to do.
  await new Promise((ok) => setTimeout(ok, 1_500));
  assert.equal(gw.lines.filter((l) => l.code === 'EVT_REGISTRATION_RENEW').length, 0, 'no re-register while the connection holds');

  // The TLS connection drops (closed by the administrator): the next probe comes over a new one, the trunk registers again.
  const table = await (await fetch(`http://127.0.0.1:${adminPort}/connections`)).json() as { connections: Array<{ id: string; protocol: string; direction: string; remotePort: number }> };
  const conn = table.connections.find((c) => c.protocol === 'tls' && c.direction === 'outbound' && c.remotePort === kamPort);
  assert.ok(conn, JSON.stringify(table));
  const cleared = await fetch(`http://127.0.0.1:${adminPort}/connections/${conn.id}`, { method: 'DELETE' });
  assert.equal(cleared.status, 200, await cleared.text());
  const dropped = await gw.waitFor((l) => l.code === 'EVT_REGISTRATION_RENEW', 5_000);
  assert.match(String(dropped.line.why), /another connection/);
  await kam.waitForRequests((seen) => seen.filter((r) => r.method === 'REGISTER').length >= 4, 5_000);

  await kam.stop();
  const stoppedAt = Date.now();
  kam = await startKamailio(kamOptions);
  // The new kamailio starts with an empty location table (usrloc in memory): the binding below is a new REGISTER's.
  const { line } = await gw.waitFor((l) => l.code === 'EVT_REGISTRATION_RENEW', 10_000, dropped.index + 1);
  await kam.waitForRequests((seen) => seen.filter((r) => r.method === 'REGISTER').length >= 2, 10_000);
  for (let i = 0; i < 50 && !bound.test(kam.logs()); i++) await new Promise((ok) => setTimeout(ok, 100));
  assert.match(kam.logs(), bound, `registered again at the restarted kamailio (${String(line.why)})`);
  assert.match(location(), /AoR: trunk1[\s\S]*Address: sip:trunk1@127\.0\.0\.1:\d+;transport=tls/, 'the binding is in its location table');
  const took = Date.now() - stoppedAt;
  assert.ok(took < 8_000, `re-registered ${took} ms after the restart, long before the 600 s binding's refresh`);
});
