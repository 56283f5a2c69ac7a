// The engine's TLS listeners built from TLS profiles, over real sockets: the SNI picks the profile among those
// sharing the listener, an unknown SNI is refused when the listener says so, and a profile that demands a client
// certificate refuses a client without one, or with a wrong name or CA, naming the reason and counting it per
// tenant on the server side.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, type Engine, type EngineListenerOptions } from '../../src/engine/index.js';
import type { ProfileInput } from '../../src/tls/index.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { profile, tryTls, until } from './engine-tls-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'engine tls test CA' });
const rogue = await createTestCa({ cn: 'rogue CA' });
process.on('exit', () => {
  void ca.cleanup();
  void rogue.cleanup();
});
const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
const acme = await ca.issue({ cn: 'acme.test', sans: ['DNS:acme.test'] });
const pbx = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test', 'URI:sip:pbx.test'] });
const other = await ca.issue({ cn: 'other.test', sans: ['DNS:other.test'] });
const stranger = await rogue.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test'] });

async function engine(t: TestContext, listen: EngineListenerOptions[], profiles: ProfileInput[], sni: Record<string, string> = {}): Promise<Engine> {
  const e = await startEngine({ listen, control: { host: '127.0.0.1', port: 0, secret: 's' }, tls: { profiles, tenantsByServerName: sni } });
  t.after(() => e.close());
  return e;
}

const tlsPort = (e: Engine): number => e.addresses()!.sip.find((l) => l.protocol === 'tls')!.port;

test('a shared listener: the SNI picks the profile of the tenant it names, no SNI gets the default, an unknown SNI is refused and counted', async (t) => {
  const e = await engine(t, [{ transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'def', sniProfiles: ['def', 'acme'], refuseUnknownSni: true }], [
    profile({ name: 'def' }, ca, gw),
    profile({ name: 'acme', serverNames: ['acme.test'] }, ca, acme),
  ], { 'acme.test': 'acme' });
  const port = tlsPort(e);

  const byName = await tryTls({ port, servername: 'acme.test', ca: ca.cert });
  byName.socket?.destroy();
  assert.equal(byName.connected, true, byName.error);
  assert.equal(byName.peerSan, 'DNS:acme.test', 'the acme profile answered');

  const none = await tryTls({ port, ca: ca.cert, checkServerIdentity: () => undefined });
  none.socket?.destroy();
  assert.equal(none.connected, true, none.error);
  assert.equal(none.peerSan, 'DNS:gw.test', 'no SNI: the listener\'s default profile');

  const unknown = await tryTls({ port, servername: 'nope.test', ca: ca.cert, checkServerIdentity: () => undefined });
  assert.equal(unknown.connected, false, 'an unknown name gets no handshake');
  const stats = e.transport.tlsStats();
  await until(() => stats.failures(undefined, 'server', 'unknown-sni') === 1);
  assert.equal(stats.failures(undefined, 'server', 'unknown-sni'), 1);
  assert.equal(e.transport.stats().drops['ERR_TLS_UNKNOWN_SNI'], 1);
});

test('without refuseUnknownSni an unknown SNI gets the default profile', async (t) => {
  const e = await engine(t, [{ transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'def' }], [
    profile({ name: 'def' }, ca, gw),
    profile({ name: 'acme', serverNames: ['acme.test'] }, ca, acme),
  ]);
  const r = await tryTls({ port: tlsPort(e), servername: 'nope.test', ca: ca.cert, checkServerIdentity: () => undefined });
  r.socket?.destroy();
  assert.equal(r.connected, true, r.error);
  assert.equal(r.peerSan, 'DNS:gw.test');
});

test('a tenant listener whose profile demands a client certificate: none, a wrong name or an unknown CA are refused after the handshake, each with its reason, counted for the tenant', async (t) => {
  const e = await engine(t, [{ transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'mtls', tenant: 'pbx' }], [
    profile({ name: 'mtls', requireClientCertificate: true, cnSanValidate: 'client', cnSan: ['pbx.test'] }, ca, gw),
  ]);
  const port = tlsPort(e);
  const stats = e.transport.tlsStats();
  const base = { port, servername: 'gw.test', ca: ca.cert };

  const good = await tryTls({ ...base, key: pbx.key, cert: pbx.cert });
  assert.equal(good.connected && !good.closed, true, `the right client certificate is kept: ${good.error}`);
  await until(() => e.transport.connections().length === 1);
  const row = e.transport.connections()[0]!;
  assert.equal(row.tlsProfile, 'mtls');
  assert.equal(row.tenant, 'pbx');
  assert.equal(row.tls?.authorized, true);
  assert.deepEqual(row.tls?.identities, ['dns:pbx.test', 'sip:pbx.test']);
  assert.match(row.tls?.version ?? '', /^TLSv1\.[23]$/);
  assert.ok(row.tls?.cipher && row.tls.cipher !== 'unknown');
  good.socket?.destroy();

  const none = await tryTls(base);
  assert.equal(none.closed, true, 'no client certificate: closed');
  await until(() => stats.failures('pbx', 'server', 'no-client-certificate') === 1);
  assert.equal(stats.failures('pbx', 'server', 'no-client-certificate'), 1);

  const wrongName = await tryTls({ ...base, key: other.key, cert: other.cert });
  assert.equal(wrongName.closed, true, 'a certificate for another name: closed');
  await until(() => stats.failures('pbx', 'server', 'name-mismatch') === 1);
  assert.equal(stats.failures('pbx', 'server', 'name-mismatch'), 1);

  const unknownCa = await tryTls({ ...base, key: stranger.key, cert: stranger.cert });
  assert.equal(unknownCa.closed, true, 'a certificate from an unknown CA: closed');
  await until(() => stats.failures('pbx', 'server', 'unknown-ca') === 1);
  assert.equal(stats.failures('pbx', 'server', 'unknown-ca'), 1);
  assert.equal(e.transport.stats().messagesIn, 0);
});

test('a profile that does not build stops the engine from starting, naming the profile', async () => {
  await assert.rejects(
    startEngine({
      listen: [{ transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'bad' }],
      control: { host: '127.0.0.1', port: 0, secret: 's' },
      tls: { profiles: [profile({ name: 'bad', ciphers: ['NOT_A_CIPHER'] }, ca, gw)] },
    }),
    (err: Error & { code?: string }) => err.code === 'ERR_TLS_PROFILE_INVALID' && /bad/.test(err.message),
  );
});
