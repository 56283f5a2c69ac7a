// The identity path of the cluster end to end (issue 13, item 2): a carrier's kamailio calls over mutual TLS into
// the load balancer's kamailio (dispatcher), which removes any X-Carrier-Identity the caller sent, adds the verified
// certificate's name, and relays over UDP to the gateway, started as `npm start` starts it. The gateway believes the
// header only from the balancer: the TLS peer's permissions apply and the CDR says identityOrigin proxy. A carrier
// with another certificate that writes the trusted name into the header itself is an unknown peer: 403.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { freePort, runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa, type TestCa, type TestCert } from '../../support/test-certs.js';
import { profilesDir, startTrunkgate } from '../../support/trunkgate-process.js';

/** A carrier SBC: sipp's UDP calls relayed over TLS to the balancer with `cert` as its client certificate. */
async function carrier(t: TestContext, cert: TestCert, lbCa: TestCa, lbTlsPort: number, appendHeaders?: string[]): Promise<number> {
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { certificate: cert.cert, privateKey: cert.key, caList: lbCa.cert, destinations: [{ host: '127.0.0.1', port: lbTlsPort, serverName: 'lb.trunkgate.test' }] },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: lbTlsPort, transport: 'tls' }, ...(appendHeaders ? { appendHeaders } : {}) },
  });
  t.after(() => kam.stop());
  return kam.port('udp');
}

test(`carrier → mutual TLS → kamailio ${kamailioVersion()} dispatcher → X-Carrier-Identity → gateway: the TLS peer's permissions, identityOrigin proxy; a forged header from another certificate is refused`, { timeout: 90_000 }, async (t) => {
  const [carrierCa, lbCa] = [await createTestCa({ cn: 'Carrier CA' }), await createTestCa({ cn: 'Balancer CA' })];
  const sbc = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test'] });
  const intruder = await carrierCa.issue({ cn: 'other.carrier.test', sans: ['DNS:other.carrier.test'] });
  const lbCert = await lbCa.issue({ cn: 'lb.trunkgate.test', sans: ['DNS:lb.trunkgate.test', 'IP:127.0.0.1'] });

  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const sipPort = await freePort();
  const dir = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: carrier
  admin: { enabled: false }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
  carrier:
    transport: udp
    trustedSources: [127.0.0.1/32]
    unknownPeer: reject
    proxyIdentity: { header: X-Carrier-Identity, trustedFrom: [127.0.0.1/32] }
tlsPeers:
  sbc.carrier.test: { permissions: { local: true }, tenants: [carrier] }
dialPeers:
  - { id: to-pbx, destinationPattern: "^2\\\\d{3}$", tenant: pbx, from: [carrier] }
`);
  const gw = await startTrunkgate(t, dir, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });

  const lb = await startKamailio({
    // TLS towards the carriers, UDP towards the gateway.
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { certificate: lbCert.cert, privateKey: lbCert.key, caList: carrierCa.cert, requireCertificate: true },
    route: { kind: 'dispatcher', pingIntervalSeconds: 1, identityHeader: 'X-Carrier-Identity', destinations: [{ host: '127.0.0.1', port: sipPort, transport: 'udp' }] },
  });
  t.after(() => lb.stop());

  const good = await carrier(t, sbc, lbCa, lb.port('tls'));
  const ok = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${good}`, service: '2001', calls: 3, rate: 10, timeoutSec: 30 });
  assert.equal(ok.stats.successful, 3, ok.errors.slice(0, 800));

  const forged = await carrier(t, intruder, lbCa, lb.port('tls'), ['X-Carrier-Identity: sbc.carrier.test']);
  const refused = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${forged}`, service: '2002', calls: 1, timeoutSec: 15 });
  assert.equal(refused.stats.successful, 0);
  assert.match(refused.errors, /SIP\/2\.0 403 /, 'the forged identity gets 403 from the gateway, relayed by both kamailios');

  await gw.waitFor(() => gw.lines.filter((l) => l.msg === 'cdr').length >= 4, 10_000);
  const cdrs = gw.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
  const answered = cdrs.filter((c) => c.status === 200);
  assert.equal(answered.length, 3);
  for (const c of answered) assert.deepEqual([c.tlsPeer, c.identityOrigin, c.identities], ['sbc.carrier.test', 'proxy', ['dns:sbc.carrier.test']]);
  const denied = cdrs.find((c) => c.status === 403);
  assert.ok(denied, 'the forged call has its CDR');
  assert.deepEqual([denied.tlsPeer, denied.identities], [null, ['dns:other.carrier.test']], 'the balancer replaced the forged name with the certificate\'s');
});
