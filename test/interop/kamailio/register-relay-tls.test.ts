// Registrations through the gateway over TLS on both sides: the phone registers over a TLS connection it opened to
// the phones tenant's listener (the gateway's certificate from a CA made here); the gateway relays the REGISTER to
// kamailio over mutual TLS with the registrar tenant's client certificate; kamailio keeps the binding with the
// gateway's Path (transport=tls), and a call to the address-of-record comes back over TLS and reaches the phone over
// its TLS connection; after the phone reconnects and registers again, over the new one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { callReachesPhone } from '../../support/kamailio/relay-caller.js';
import { registerPhone, statusOf, TcpPhone } from '../../support/kamailio/tcp-phone.js';
import { ua } from '../../support/mini-ua.js';
import { freePort } from '../../support/sipp.js';
import { createTestCa, writeTrustpointDir } from '../../support/test-certs.js';
import { profilesDir, startTrunkgate } from '../../support/trunkgate-process.js';

test(`REGISTER relay over TLS through the gateway to kamailio ${kamailioVersion()}: calls come back over the phone's TLS connection`, { timeout: 60_000 }, async (t) => {
  const ca = await createTestCa({ cn: 'trunkgate gateway CA' });
  const carrierCa = await createTestCa({ cn: 'carrier CA' });
  t.after(async () => { await ca.cleanup(); await carrierCa.cleanup(); });
  const gwCert = await ca.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });
  // The phones' listener shows another certificate: the REGISTER to kamailio must carry the registrar tenant's.
  const phonesCert = await ca.issue({ cn: 'phones.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });
  const kamCert = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test', 'DNS:localhost'] });
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { certificate: kamCert.cert, privateKey: kamCert.key, caList: ca.cert, verifyCertificate: true, requireCertificate: true },
    route: { kind: 'registrar', realm: 'reg.test', users: { phone1: 'ph0ne-pw' }, callsTo: 'sip:phone1@reg.test', usePath: true },
  });
  t.after(() => kam.stop());
  const [udpPort, phonesPort, registrarPort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const profiles = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${udpPort} }]
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ../pki/gw }
  phonesgw: { dir: ../pki/phones }
trustStores:
  carriers: ../pki/carrier-ca.pem
tlsProfiles:
  phones: { trustpoint: phonesgw, minVersion: TLSv1.2 }
  edge: { trustpoint: gw, trustStore: carriers, minVersion: TLSv1.2, requireClientCert: true }
tenants:
  phones:
    transport: tls
    tlsProfile: phones
    listen: { host: 127.0.0.1, port: ${phonesPort} }
    trustedSources: [127.0.0.1/32]
    registerRelay: { to: registrar }
  registrar:
    transport: tls
    tlsProfile: edge
    listen: { host: 127.0.0.1, port: ${registrarPort} }
    sipServer: localhost:${kam.port('tls')}
dialPeers: []
`);
  const root = join(profiles, '..');
  writeTrustpointDir(join(root, 'pki', 'gw'), gwCert, ca.cert);
  writeFileSync(join(root, 'pki', 'carrier-ca.pem'), carrierCa.cert);
  writeTrustpointDir(join(root, 'pki', 'phones'), phonesCert, ca.cert);
  const gw = await startTrunkgate(t, profiles, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  const caller = await ua(t);
  const contact = 'sip:phone1@127.0.0.1:5999;transport=tls';
  const callId = randomUUID();

  const phone = await TcpPhone.openTls(phonesPort, ca.cert);
  t.after(() => phone.close());
  const first = await registerPhone(phone, { user: 'phone1', domain: 'reg.test', password: 'ph0ne-pw', contact, callId, cseq: 1, expires: 60 });
  assert.equal(statusOf(first.answer), 200, first.answer);
  // kamailio's log comes through a pipe and may trail its answer.
  await kam.waitForLog(/tg-registered aor=sip:phone1@reg\.test contact=<sip:phone1@127\.0\.0\.1:5999;transport=tls> expires=60 path=<sip:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+@127\.0\.0\.1:\d+;transport=tls;lr;ob>/);
  const reg = kam.requests().filter((r) => r.method === 'REGISTER').at(-1)!;
  assert.deepEqual([reg.proto, reg.verified, reg.peerCn], ['tls', '1', 'gw.trunkgate.test'], 'relayed over TLS with the registrar tenant\'s client certificate');

  const invite = await callReachesPhone(caller, kam, phone, contact);
  assert.match(invite.split('\r\n')[0]!, new RegExp(`^INVITE sip:phone1@127\\.0\\.0\\.1:${phone.localPort};transport=tls SIP/2\\.0`));

  phone.close();
  const again = await TcpPhone.openTls(phonesPort, ca.cert);
  t.after(() => again.close());
  const moved = await registerPhone(again, { user: 'phone1', domain: 'reg.test', password: 'ph0ne-pw', contact, callId, cseq: first.cseq + 1, expires: 60 });
  assert.equal(statusOf(moved.answer), 200, moved.answer);
  await callReachesPhone(caller, kam, again, contact);

  await gw.waitFor(() => gw.lines.filter((l) => l.msg === 'cdr').length >= 2, 5_000);
  for (const c of gw.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>)) {
    assert.deepEqual([c.tenantIn, c.tenantOut, c.dialPeer, c.status], ['registrar', 'phones', 'registered:phones', 200], JSON.stringify(c));
  }
  const opened = await (await fetch(`http://127.0.0.1:${adminPort}/connections`)).json() as { connections?: Array<{ direction: string; protocol: string; remotePort: number }> };
  const outboundTls = (opened.connections ?? []).filter((c) => c.protocol === 'tls' && c.direction === 'outbound' && c.remotePort !== kam.port('tls'));
  assert.ok((opened.connections ?? []).some((c) => c.protocol === 'tls' && c.direction === 'inbound'), JSON.stringify(opened));
  assert.equal(outboundTls.length, 0, 'the gateway never opened a TLS connection to the phone: it used the phone\'s');
});
