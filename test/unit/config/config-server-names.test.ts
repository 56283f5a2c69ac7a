// An SNI picks the one profile that lists it on a shared TLS listener, and the connection is counted under that
// profile's tenant: the same server name (as an SNI compares it: case, trailing dot) in two profiles one listener
// serves is refused, so a client verified by one profile's trust store is never taken for the other's tenant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';

function load(tenants: string, names: [string[], string[]]) {
  return parseConfig([{
    file: 'gw.yaml',
    text: [
      'gateway:',
      '  listen: [{ transport: tls, host: 127.0.0.1, port: 5061, tlsProfile: a }]',
      '  admin: { enabled: false }',
      'trustpoints: { gw: { dir: pki/trustpoints/gw } }',
      'trustStores: { ca: ca.pem }',
      'tlsProfiles:',
      `  a: { trustpoint: gw, trustStore: ca, requireClientCert: true, serverNames: ${JSON.stringify(names[0])} }`,
      `  b: { trustpoint: gw, trustStore: ca, requireClientCert: true, serverNames: ${JSON.stringify(names[1])} }`,
      'tenants:',
      tenants,
    ].join('\n'),
  }]);
}

const SHARED = '  acme: { transport: tls, tlsProfile: a, sipServer: 192.0.2.1:5061 }\n  beta: { transport: tls, tlsProfile: b, sipServer: 192.0.2.2:5061 }';

test('the same server name in two profiles a shared listener serves is refused, compared as an SNI is', () => {
  const r = load(SHARED, [['sbc.example.com', 'a.example.com'], ['x.example.com', 'SBC.Example.COM.']]);
  assert.equal(r.ok, false);
  const problems = r.ok ? [] : r.problems.map((p) => [p.code, p.path]);
  assert.deepEqual(problems, [['ERR_CONFIG_TLS_PROFILE', 'tlsProfiles.b.serverNames[1]']]);
  assert.match(r.ok ? '' : r.problems[0]!.message, /also listed by TLS profile a/);
});

test('distinct names, or a profile served only on its tenant\'s own listener, are taken', () => {
  const distinct = load(SHARED, [['a.example.com'], ['b.example.com']]);
  assert.ok(distinct.ok, distinct.ok ? '' : distinct.reason);
  // Beta has a TLS listener of its own: profile b is not served on the shared one, so no SNI there can pick it.
  const own = SHARED.replace('tlsProfile: b,', 'tlsProfile: b, listenPortSecure: 5071,');
  const r = load(own, [['sbc.example.com'], ['sbc.example.com']]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  // A name listed twice by one profile picks that profile either way.
  const twice = load(SHARED, [['sbc.example.com', 'SBC.example.com'], ['b.example.com']]);
  assert.ok(twice.ok, twice.ok ? '' : twice.reason);
});
