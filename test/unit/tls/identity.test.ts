import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { checkClientIdentity, createCheckServerIdentity, hostMatches, matchIdentity, peerIdentities } from '../../../src/tls/index.js';

function cert(cn: string | undefined, san?: string): PeerCertificate {
  return { subject: cn ? { CN: cn } : {}, subjectaltname: san } as unknown as PeerCertificate;
}

test('RFC 5922 §7.1 identities', () => {
  const cases: [PeerCertificate, string[]][] = [
    [cert('ignored.example', 'URI:sip:A.example.com, DNS:b.example.com'), ['sip:a.example.com', 'dns:b.example.com']],
    [cert('cn.example'), ['cn:cn.example']],
    [cert('cn.example', 'URI:sips:x.example, URI:sip:alice@x.example, URI:http://x'), []],
    [cert('cn.example', 'URI:sip:x.example;transport=tls, URI:sip:y.example:5061'), ['sip:x.example', 'sip:y.example']],
    [cert('cn.example', 'IP Address:10.1.2.3'), ['ip:10.1.2.3']],
    [cert(undefined), []],
  ];
  for (const [c, want] of cases) assert.deepEqual(peerIdentities(c), want, JSON.stringify(c));
});

test('wildcards: only when allowed, one left-most label', () => {
  const w = { allowWildcard: true };
  const table: [string, string, boolean, boolean][] = [
    // presented, expected, allowed-off result, allowed-on result
    ['gw.example.com', 'GW.example.com.', true, true],
    ['*.example.com', 'a.example.com', false, true],
    ['*.example.com', 'a.b.example.com', false, false],
    ['*.example.com', 'example.com', false, false],
    ['*.com', 'example.com', false, false],
    ['f*.example.com', 'foo.example.com', false, false],
    ['a.*.example.com', 'a.b.example.com', false, false],
    ['*.example.com', '10.0.0.1', false, false],
  ];
  for (const [p, e, off, on] of table) {
    assert.equal(hostMatches(p, e), off, `${p} vs ${e} (off)`);
    assert.equal(hostMatches(p, e, w), on, `${p} vs ${e} (on)`);
  }
});

test('matchIdentity: IPs only against ip: identities, names never against ip:', () => {
  assert.equal(matchIdentity(['dns:10.0.0.1', 'ip:10.0.0.1'], '10.0.0.1'), 'ip:10.0.0.1');
  assert.equal(matchIdentity(['dns:10.0.0.1'], '10.0.0.1'), undefined);
  assert.equal(matchIdentity(['ip:gw.example'], 'gw.example'), undefined);
  assert.equal(matchIdentity(['cn:gw.example'], 'gw.example'), 'cn:gw.example');
});

test('checkServerIdentity fails closed with expected and presented', () => {
  const check = createCheckServerIdentity({ domain: 'carrier.example', cnSan: ['sbc.carrier.example'] });
  assert.equal(check('x', cert(undefined, 'DNS:carrier.example')), undefined);
  assert.equal(check('x', cert(undefined, 'URI:sip:sbc.carrier.example')), undefined);
  const e = check('x', cert(undefined, 'DNS:other.example')) as Error & { code: string; details: { expected: string[]; presented: string[] } };
  assert.equal(e.code, 'ERR_TLS_NAME_MISMATCH');
  assert.deepEqual(e.details.expected, ['carrier.example', 'sbc.carrier.example']);
  assert.deepEqual(e.details.presented, ['dns:other.example']);
  const none = createCheckServerIdentity({})('carrier.example', cert(undefined, 'DNS:carrier.example'));
  assert.equal((none as { code?: string } | undefined)?.code, 'ERR_TLS_NAME_MISMATCH', 'no expected name: fail closed');
  const empty = check('x', cert(undefined)) as unknown as { code: string };
  assert.equal(empty.code, 'ERR_TLS_NAME_MISMATCH', 'no identities: fail closed');
  const cnOnlyWithSan = check('x', cert('carrier.example', 'DNS:other.example')) as unknown as { code: string };
  assert.equal(cnOnlyWithSan.code, 'ERR_TLS_NAME_MISMATCH', 'CN ignored when SAN present');
  assert.equal(check('x', cert('carrier.example')), undefined, 'CN used when no SAN');
});

test('checkClientIdentity against the cnSan list', () => {
  assert.equal(checkClientIdentity(cert('pbx.example', 'DNS:pbx.example'), ['pbx.example']).ok, true);
  const r = checkClientIdentity(cert(undefined, 'DNS:evil.example'), ['pbx.example']);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.code === 'ERR_TLS_NAME_MISMATCH' && r.reason === 'No matching TLS Peer found for dns:evil.example');
  assert.equal(checkClientIdentity(cert(undefined, 'DNS:a.pbx.example'), ['*.pbx.example'], { allowWildcard: true }).ok, true);
  assert.equal(checkClientIdentity(cert(undefined, 'DNS:a.pbx.example'), ['*.pbx.example']).ok, false, 'wildcard in list needs allowWildcard');
  const none = checkClientIdentity({} as PeerCertificate, ['pbx.example']);
  assert.equal(!none.ok && none.code, 'ERR_TLS_NO_CLIENT_CERT');
  assert.equal(checkClientIdentity(cert('any.example', 'DNS:any.example'), []).ok, true, 'empty list: any verified client');
});

test('names and addresses: the TLS checks and the TLS-peer lookup give the same answer for every row', async () => {
  const { matchTlsPeer } = await import('../../../src/policy/match-tls-peer.js');
  // presented identity, configured name (cnSan entry or TLS peer name), matches
  const table: [string, string, boolean][] = [
    ['dns:pbx.example.com', 'pbx.example.com', true],
    ['dns:pbx.example.com', 'PBX.Example.COM.', true],
    ['sip:pbx.example.com', 'pbx.example.com', true],
    ['dns:pbx.example.com', 'other.example.com', false],
    ['dns:a.example.com', '*.example.com', true],
    ['dns:A.Example.com', '*.EXAMPLE.com.', true],
    ['dns:a.b.example.com', '*.example.com', false],
    ['dns:example.com', '*.example.com', false],
    ['dns:example.com', '*.com', false],
    ['dns:fa.example.com', 'f*.example.com', false],
    ['dns:a.x.example.com', 'a.*.example.com', false],
    // A wildcard in the certificate never matches a configured pattern (no string equality).
    ['dns:*.example.com', '*.example.com', false],
    // Addresses compare as addresses.
    ['ip:::1', '::1', true],
    ['ip:0:0:0:0:0:0:0:1', '::1', true],
    ['ip:::1', '0:0:0:0:0:0:0:1', true],
    ['ip:2001:DB8::1', '2001:db8:0:0::1', true],
    ['ip:2001:db8::1', '2001:db8::2', false],
    ['ip:::ffff:127.0.0.1', '127.0.0.1', true],
    ['ip:10.1.2.3', '10.1.2.3', true],
    ['ip:10.1.2.3', '10.1.2.4', false],
    ['dns:10.1.2.3', '10.1.2.3', false],
  ];
  for (const [presented, name, want] of table) {
    const ip = name.includes(':') || /^\d+(\.\d+){3}$/.test(name);
    const tls = matchIdentity([presented], name, { allowWildcard: true }) !== undefined;
    const peerName = ip ? `ip:${name}` : name;
    const policy = matchTlsPeer([presented], { [peerName]: { permissions: {} } }) !== undefined;
    assert.equal(tls, want, `tls: ${presented} vs ${name}`);
    assert.equal(policy, want, `policy: ${presented} vs ${peerName}`);
  }
});

test('IP SANs are reported in one form per address, whatever form the certificate used', () => {
  assert.deepEqual(peerIdentities(cert(undefined, 'IP Address:0:0:0:0:0:0:0:1, IP Address:::1, IP Address:2001:DB8:0:0:0:0:0:1')), ['ip:::1', 'ip:2001:db8::1']);
  const check = createCheckServerIdentity({ domain: '0:0:0:0:0:0:0:1' });
  assert.equal(check('::1', cert(undefined, 'IP Address:::1')), undefined);
  assert.equal((check('::1', cert(undefined, 'IP Address:::2')) as { code?: string } | undefined)?.code, 'ERR_TLS_NAME_MISMATCH');
});

test('a presented wildcard never stands in for itself: string equality is no match', async () => {
  // A wildcard certificate may authenticate a name we want when the profile allows wildcards (RFC 6125 §6.4.3), but
  // it names no TLS peer: permissions need a concrete identity.
  const { matchTlsPeer } = await import('../../../src/policy/match-tls-peer.js');
  assert.equal(matchIdentity(['dns:*.example.com'], 'a.example.com', { allowWildcard: true }), 'dns:*.example.com');
  assert.equal(matchIdentity(['dns:*.example.com'], 'a.example.com'), undefined);
  assert.equal(matchTlsPeer(['dns:*.example.com'], { 'a.example.com': { permissions: {} } }), undefined);
  // Off: a wildcard certificate matches no name, not even the same pattern text.
  assert.equal(hostMatches('*.example.com', '*.example.com'), false);
  assert.equal(hostMatches('*.example.com', '*.example.com', { allowWildcard: true }), false);
  const r = checkClientIdentity(cert(undefined, 'DNS:*.carrier.test'), ['*.carrier.test'], { allowWildcard: true });
  assert.equal(r.ok, false);
  assert.equal(checkClientIdentity(cert(undefined, 'DNS:sip.carrier.test'), ['*.carrier.test'], { allowWildcard: true }).ok, true);
  assert.equal(checkClientIdentity(cert(undefined, 'DNS:sip.carrier.test'), ['*.carrier.test'], { allowWildcard: false }).ok, false);
});
