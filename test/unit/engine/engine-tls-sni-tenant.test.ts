// The tenant of an accepted TLS connection is the tenant of the profile that checked it: an SNI that the profile
// choice did not follow (a trailing dot read one way there and another in the tenant map, or a profile the listener
// does not serve) names no tenant.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls, { type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { EngineTls, type EngineTlsListener } from '../../../src/engine/engine-tls.js';
import type { InboundTlsVerdict } from '../../../src/sip/transport/index.js';
import { createLocalCa, issueGatewayCertificate } from '../../../src/pki/index.js';
import { silentLogger } from '../../../src/log/index.js';
import type { ProfileInput, TlsProfileSpec } from '../../../src/tls/index.js';

const ca = createLocalCa();
const sharedCert = issueGatewayCertificate(ca, { domain: 'gw.example' });
const bCert = issueGatewayCertificate(ca, { domain: 'b.example' });
const profile = (spec: TlsProfileSpec, trustpoint = sharedCert): ProfileInput => ({ spec, material: { trustpoint, trustedCaPems: [ca.certPem] } });

// Tenant B's profile demands a client certificate; the shared default asks for none and names no tenant.
const profiles = [
  profile({ name: 'shared' }),
  profile({ name: 'pb', tenant: 'B', requireClientCertificate: true, serverNames: ['b.example'] }, bCert),
];

/** The engine's verdict on one client that shows no certificate and sends `servername`. */
async function verdictFor(
  t: TestContext, listener: EngineTlsListener, servername: string, tenantsByServerName?: Record<string, string>, served = profiles,
): Promise<InboundTlsVerdict> {
  const engineTls = new EngineTls({ profiles: served, ...(tenantsByServerName ? { tenantsByServerName } : {}) }, silentLogger());
  const { tls: options, checkInbound } = engineTls.listener(listener);
  const verdicts: InboundTlsVerdict[] = [];
  const server = tls.createServer(options, (socket: TLSSocket) => {
    verdicts.push(checkInbound(socket));
    socket.destroy();
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername, rejectUnauthorized: false });
  client.on('error', () => undefined);
  await once(client, 'close');
  assert.equal(verdicts.length, 1, 'the server checked the connection');
  return verdicts[0]!;
}

test('an SNI with a trailing dot or in capitals picks the profile that lists the name, whose checks then run', async (t) => {
  for (const sn of ['b.example.', 'B.Example.']) {
    const v = await verdictFor(t, { id: 'tls', tlsProfile: 'shared' }, sn);
    assert.equal(v.ok, false, `${sn}: B's profile refuses a client without a certificate`);
    assert.equal(!v.ok && v.details?.['profile'], 'pb');
    assert.equal(!v.ok && v.details?.['tenant'], 'B');
  }
});

test('a shared listener that does not serve a tenant\'s profile gives an SNI naming it the default profile\'s tenant, not that tenant', async (t) => {
  // startup-tls leaves the profile of a tenant with a TLS listener of its own out of the shared listener's sniProfiles.
  for (const sniProfiles of [['shared'], ['shared', 'other']]) {
    for (const sn of ['b.example', 'b.example.']) {
      const v = await verdictFor(t, { id: 'tls', tlsProfile: 'shared', sniProfiles }, sn);
      assert.equal(v.ok, true, `${sniProfiles.join(',')} ${sn}: the shared profile asks for no certificate`);
      assert.equal(v.ok && v.profile, 'shared');
      assert.equal(v.ok && v.authorized, false);
      assert.equal(v.ok ? v.tenant : 'refused', undefined, `${sniProfiles.join(',')} ${sn}: no tenant from a profile that never ran`);
    }
  }
  // The configured map of names (config tenantsByServerName) names no tenant either for a profile that did not check.
  const v = await verdictFor(t, { id: 'tls', tlsProfile: 'shared', sniProfiles: ['shared'] }, 'b.example', { 'b.example': 'B' });
  assert.equal(v.ok ? v.tenant : 'refused', undefined);
});

test('the profile an SNI picked gives its tenant, or the one the map gives a name it lists; a listener\'s own tenant comes first', async (t) => {
  const open = [...profiles, profile({ name: 'open', serverNames: ['open.example'] })];
  const map = { 'Open.Example': 'O', 'b.example': 'other' };
  const byMap = await verdictFor(t, { id: 'tls', tlsProfile: 'shared' }, 'OPEN.example.', map, open);
  assert.equal(byMap.ok && byMap.profile, 'open');
  assert.equal(byMap.ok ? byMap.tenant : 'refused', 'O', 'a profile without a tenant: the map\'s for a name the profile lists');
  const own = await verdictFor(t, { id: 'tls', tlsProfile: 'shared' }, 'b.example', map, open);
  assert.equal(!own.ok && own.details?.['tenant'], 'B', 'a profile\'s own tenant before the map');
  const listenerTenant = await verdictFor(t, { id: 'tls', tlsProfile: 'shared', tenant: 'L' }, 'b.example.');
  assert.equal(!listenerTenant.ok && listenerTenant.details?.['tenant'], 'L');
});
