// A TLS peer named by an IP address is matched by an IP address SAN only, as the TLS layer's own name check does:
// a certificate whose CN, DNS name or SIP URI reads `10.0.0.1` vouches for no address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { matchTlsPeer, type TlsPeer } from '../../../src/policy/index.js';
import { matchIdentity, peerIdentities } from '../../../src/tls/index.js';
import { createLocalCa, generateKeyPair, issueCertificate, type SanEntry } from '../../../src/pki/index.js';

const ca = createLocalCa();

/** The identities the engine reports for a certificate with this CN and these SANs. */
function identitiesOf(commonName: string, san: SanEntry[] = []): string[] {
  const keys = generateKeyPair();
  const pem = issueCertificate({
    subject: { commonName }, subjectKeyPem: keys.publicKeyPem, issuerKeyPem: ca.keyPem, issuerCertPem: ca.certPem, san,
  });
  return peerIdentities(new X509Certificate(pem));
}

const peer: TlsPeer = { permissions: {} };

test('a CN, DNS SAN or SIP URI that reads like an address does not match a TLS peer named by that address', () => {
  const cases: [string[], string][] = [
    [identitiesOf('10.0.0.1'), '10.0.0.1'],
    [identitiesOf('peer.example', [{ type: 'dns', value: '10.0.0.1' }]), '10.0.0.1'],
    [identitiesOf('peer.example', [{ type: 'uri', value: 'sip:10.0.0.1' }]), '10.0.0.1'],
    [['cn:0:0:0:0:0:0:0:1', 'dns:::1', 'sip:[::1]'], '::1'],
  ];
  for (const [ids, name] of cases) {
    assert.ok(ids.length > 0, 'the certificate has an identity');
    assert.equal(matchTlsPeer(ids, { [name]: peer }), undefined, `${ids.join(',')} vs TLS peer ${name}`);
    assert.equal(matchIdentity(ids, name), undefined, `the TLS layer gives the same answer for ${ids.join(',')}`);
  }
  // Typed peer names that are addresses match nothing but an IP address SAN.
  for (const name of ['cn:10.0.0.1', 'dns:10.0.0.1', 'sip:10.0.0.1']) {
    assert.equal(matchTlsPeer(identitiesOf('10.0.0.1', [{ type: 'dns', value: '10.0.0.1' }, { type: 'uri', value: 'sip:10.0.0.1' }]), { [name]: peer }), undefined, name);
    assert.equal(matchTlsPeer(['cn:10.0.0.1'], { [name]: peer }), undefined, name);
  }
});

test('an IP address SAN matches the TLS peer named by that address, untyped or typed ip:, in any form of the address', () => {
  const ids = identitiesOf('peer.example', [{ type: 'ip', value: '10.0.0.1' }]);
  assert.deepEqual(ids, ['ip:10.0.0.1']);
  assert.equal(matchTlsPeer(ids, { '10.0.0.1': peer })?.name, '10.0.0.1');
  assert.equal(matchTlsPeer(ids, { 'ip:10.0.0.1': peer })?.name, 'ip:10.0.0.1');
  assert.equal(matchTlsPeer(['ip:::1'], { '0:0:0:0:0:0:0:1': peer })?.name, '0:0:0:0:0:0:0:1');
  // A name peer is still matched by a CN (SAN-less certificate) or a DNS SAN.
  assert.equal(matchTlsPeer(identitiesOf('pbx.example'), { 'pbx.example': peer })?.identity, 'cn:pbx.example');
});
