// EngineTls reload is all or nothing: each listener gets its new default context and client-certificate request, and
// when one listener refuses its new context the running profile set comes back, on the listeners already switched too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SecureContextOptions } from 'node:tls';
import { EngineTls } from '../../src/engine/engine-tls.js';
import { silentLogger } from '../../src/log/index.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { profile } from './engine-tls-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'engine tls reload CA' });
process.on('exit', () => void ca.cleanup());
const one = await ca.issue({ cn: 'one.test', sans: ['DNS:one.test'] });
const two = await ca.issue({ cn: 'two.test', sans: ['DNS:two.test'] });

type Applied = { id: string; cert: string; requestCert: boolean };

test('a reload gives every listener its context and client-certificate request; a listener that refuses puts the old set back everywhere', () => {
  const tls = new EngineTls({ profiles: [profile({ name: 'a' }, ca, one), profile({ name: 'b', serverNames: ['b.test'] }, ca, one)] }, silentLogger());
  const a = tls.listener({ id: 'tls-a', tlsProfile: 'a', sniProfiles: ['a'] });
  const shared = tls.listener({ id: 'tls-shared', tlsProfile: 'a', sniProfiles: ['a', 'b'] });
  assert.equal(a.tls.requestCert, false);
  assert.equal(shared.tls.requestCert, false);

  // b (an SNI profile on the shared listener only) starts demanding client certificates.
  const applied: Applied[] = [];
  const record = (id: string, context: SecureContextOptions, requestCert: boolean): void => void applied.push({ id, cert: String(context.cert), requestCert });
  const r = tls.reload([profile({ name: 'a' }, ca, one), profile({ name: 'b', serverNames: ['b.test'], requireClientCertificate: true }, ca, one)], record);
  assert.equal(r.ok, true);
  assert.deepEqual(applied.map((x) => [x.id, x.requestCert]), [['tls-a', false], ['tls-shared', true]]);
  assert.equal(tls.requestsCert('tls-shared'), true);
  assert.equal(tls.store.version, 2);

  // The next reload: a new certificate for a; the shared listener refuses its new context.
  const calls: Applied[] = [];
  const refusing = (id: string, context: SecureContextOptions, requestCert: boolean): void => {
    calls.push({ id, cert: String(context.cert), requestCert });
    if (id === 'tls-shared' && String(context.cert).startsWith(two.cert)) throw Object.assign(new Error('listener refused'), { code: 'ERR_SIP_TRANSPORT_TLS_CONFIG' });
  };
  const refused = tls.reload([profile({ name: 'a' }, ca, two), profile({ name: 'b', serverNames: ['b.test'] }, ca, one)], refusing);
  assert.equal(refused.ok, false);
  assert.ok(!refused.ok && refused.problems[0]!.code === 'ERR_SIP_TRANSPORT_TLS_CONFIG' && /tls-shared/.test(refused.problems[0]!.reason), JSON.stringify(refused));
  assert.equal(tls.store.version, 2, 'the running set is back');
  assert.ok(String(tls.store.get('a')!.serverContextOptions.cert).startsWith(one.cert));
  assert.equal(tls.store.get('b')!.requestCert, true);
  // tls-a was switched first, then given its running context and request back.
  assert.deepEqual(calls.map((c) => [c.id, c.cert.startsWith(two.cert) ? 'new' : 'old', c.requestCert]),
    [['tls-a', 'new', false], ['tls-shared', 'new', false], ['tls-a', 'old', false]]);
  assert.equal(tls.requestsCert('tls-shared'), true, 'the shared listener still asks for certificates');
});

test('SNI server names attribute tenants from the reloaded profiles', () => {
  const tls = new EngineTls({ profiles: [profile({ name: 'a', tenant: 'acme', serverNames: ['acme.test'] }, ca, one)] }, silentLogger());
  tls.listener({ id: 'tls', tlsProfile: 'a' });
  assert.equal(tls.tenantForServername('ACME.test.'), 'acme');
  const r = tls.reload([profile({ name: 'a', tenant: 'acme', serverNames: ['sip.acme.test'] }, ca, one)], () => undefined);
  assert.equal(r.ok, true);
  assert.equal(tls.tenantForServername('acme.test'), undefined);
  assert.equal(tls.tenantForServername('sip.acme.test'), 'acme');
});
