// trunkgate tls probe against kamailio as the carrier SBC a trunk is turned up to: its own CA, TLS 1.2 only with two
// suites, and mutual TLS (verify_certificate and require_certificate), trusting the gateway's CA from its ca_list.
// The probe names what kamailio accepts, the chain it sends, the CA it asks client certificates from (kamailio sends
// its ca_list in the TLS 1.2 CertificateRequest), and which gateway profile gets in.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { tlsProbeCommand } from '../../../src/cli/tls-probe.js';
import { createLocalCa, issueGatewayCertificate } from '../../../src/pki/index.js';
import { buildTlsProfile, probeTls } from '../../../src/tls/index.js';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { createTestCa } from '../../support/test-certs.js';

const SUITES = ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256'];
const subjectOf = (pem: string): string => new X509Certificate(pem).subject.replace(/\n/g, ', ');

test(`kamailio (${kamailioVersion()}) with mutual TLS 1.2: versions, its two suites, its chain and identities, the gateway CA it asks for, and which profile gets in`, async (t) => {
  const carrierCa = await createTestCa({ cn: 'kamailio SBC CA' });
  t.after(() => carrierCa.cleanup());
  const sbc = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test', 'URI:sip:sbc.carrier.test'] });
  // The gateway's CA, which kamailio trusts for client certificates, and a stranger's.
  const gatewayCa = createLocalCa({ commonName: 'trunkgate gateway CA' });
  const strangerCa = createLocalCa({ commonName: 'stranger CA' });

  const kam = await startKamailio({
    listen: [{ proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: sbc.cert + carrierCa.cert, privateKey: sbc.key, caList: gatewayCa.certPem,
      method: 'TLSv1.2', cipherList: SUITES.join(':'), verifyCertificate: true, requireCertificate: true,
    },
    route: { kind: 'reply', status: 403 },
  });
  t.after(() => kam.stop());
  const port = kam.port('tls');

  const trunk = buildTlsProfile({ name: 'carrier', cnSanValidate: 'server' },
    { trustpoint: issueGatewayCertificate(gatewayCa, { domain: 'gw.trunkgate.test' }), trustedCaPems: [carrierCa.cert] });
  const r = await probeTls({ host: '127.0.0.1', port, sni: 'sbc.carrier.test', profile: trunk });
  const seen = `${JSON.stringify(r, null, 1)}\nkamailio:\n${kam.logs().slice(-2000)}`;

  assert.deepEqual(r.versions, { 'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': false }, seen);
  assert.deepEqual([...r.ciphers.tls12].sort(), [...SUITES].sort(), seen);
  assert.deepEqual(r.ciphers.tls13, []);
  assert.deepEqual(r.chain.map((c) => [c.subject, c.issuer, c.sha256]), [
    ['CN=sbc.carrier.test', 'CN=kamailio SBC CA', new X509Certificate(sbc.cert).fingerprint256],
    ['CN=kamailio SBC CA', 'CN=kamailio SBC CA', new X509Certificate(carrierCa.cert).fingerprint256],
  ], seen);
  assert.deepEqual(r.identities, ['dns:sbc.carrier.test', 'sip:sbc.carrier.test']);
  assert.equal(r.clientCertificate, 'required', seen);
  assert.deepEqual(r.clientCaNames, [subjectOf(gatewayCa.certPem)], 'the CA of its ca_list, as its certificate names it');
  assert.equal(r.certificateRequest.state === 'sent' && r.certificateRequest.version, 'TLSv1.2');
  assert.deepEqual(r.ocsp, { stapled: false });
  assert.deepEqual({ ok: r.profile?.ok, version: r.profile?.version }, { ok: true, version: 'TLSv1.2' }, seen);
  assert.ok(SUITES.includes(r.profile?.cipher ?? ''), r.profile?.cipher);

  // A profile whose client certificate comes from a CA kamailio does not trust: kamailio refuses it, and says so.
  const stranger = buildTlsProfile({ name: 'stranger', cnSanValidate: 'server' },
    { trustpoint: issueGatewayCertificate(strangerCa, { domain: 'gw.trunkgate.test' }), trustedCaPems: [carrierCa.cert] });
  const refused = await probeTls({ host: '127.0.0.1', port, sni: 'sbc.carrier.test', profile: stranger });
  assert.equal(refused.profile?.ok, false);
  assert.equal(refused.profile?.failure?.reason, 'unknown-ca', JSON.stringify(refused.profile));
  assert.equal(refused.profile?.failure?.peerReported, true, 'kamailio sent the alert');

  const lines: string[] = [];
  const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s), env: {} };
  assert.equal(await tlsProbeCommand(['probe', `127.0.0.1:${port}`, '--sni', 'sbc.carrier.test'], io), 0, lines.join('\n'));
  const text = lines.join('\n');
  assert.match(text, /^client certificate: required$/m);
  assert.ok(text.includes(`client CA names (CertificateRequest over TLSv1.2):\n  ${subjectOf(gatewayCa.certPem)}\n  certificate types: `), text);
  assert.match(text, /^OCSP: not stapled$/m);
});
