import assert from 'node:assert/strict';
import { promises as dnsPromises } from 'node:dns';
import { test } from 'node:test';
import { createRfc3263Resolver, orderSrv, type ResolvedTarget } from '../../src/b2bua/index.js';
import { ManualClock } from '../../src/common/index.js';
import { startDnsServer } from '../support/dns-server.js';

const zone = {
  // NAPTR with one service per transport; TLS via SIPS+D2T
  'naptr.example': [
    { type: 'NAPTR', order: 10, preference: 10, flags: 's', service: 'SIPS+D2T', regexp: '', replacement: '_sips._tcp.naptr.example' },
    { type: 'NAPTR', order: 20, preference: 10, flags: 's', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.naptr.example' },
    { type: 'NAPTR', order: 5, preference: 10, flags: 'u', service: 'E2U+sip', regexp: '!^.*$!sip:x@y!', replacement: '' },
  ],
  '_sips._tcp.naptr.example': [
    { type: 'SRV', priority: 20, weight: 0, port: 5071, target: 'b.naptr.example' },
    { type: 'SRV', priority: 10, weight: 0, port: 5061, target: 'a.naptr.example' },
  ],
  '_sip._udp.naptr.example': [{ type: 'SRV', priority: 10, weight: 0, port: 5070, target: 'a.naptr.example' }],
  'a.naptr.example': [{ type: 'A', address: '127.0.0.11' }, { type: 'AAAA', address: '::1' }],
  'b.naptr.example': [{ type: 'A', address: '127.0.0.12' }],
  // no NAPTR: SRV _sips._tcp
  'srv.example': [{ type: 'A', address: '127.0.0.99' }],
  '_sips._tcp.srv.example': [{ type: 'SRV', priority: 0, weight: 0, port: 5081, target: 'host.srv.example' }],
  '_sip._tcp.srv.example': [{ type: 'SRV', priority: 0, weight: 0, port: 5082, target: 'host.srv.example' }],
  'host.srv.example': [{ type: 'A', address: '127.0.0.21' }],
  // no NAPTR, no _sips._tcp: the _sips._tls fallback
  'tlsonly.example': [],
  '_sips._tls.tlsonly.example': [{ type: 'SRV', priority: 0, weight: 0, port: 5091, target: 'host.tlsonly.example' }],
  'host.tlsonly.example': [{ type: 'A', address: '127.0.0.31' }],
  // nothing but A
  'plain.example': [{ type: 'A', address: '127.0.0.41' }],
} as const;

const brief = (ts: ResolvedTarget[]) => ts.map((t) => `${t.transport}:${t.address}:${t.port}`);

test('RFC 3263 over a DNS server of our own on loopback', async (t) => {
  const server = await startDnsServer(zone as never);
  t.after(() => server.close());
  const dns = new dnsPromises.Resolver({ timeout: 500, tries: 1 });
  dns.setServers([`127.0.0.1:${server.port}`]);
  const clock = new ManualClock(0);
  const resolve = createRfc3263Resolver({ dns, clock, random: () => 0 });

  await t.test('NAPTR → SRV (by priority) → A and AAAA, for TLS; the domain kept for the identity check', async () => {
    const r = await resolve('naptr.example', undefined, 'tls');
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.deepEqual(brief(r.targets), ['tls:127.0.0.11:5061', 'tls:::1:5061', 'tls:127.0.0.12:5071']);
    assert.ok(r.targets.every((x) => x.domain === 'naptr.example'));
  });

  await t.test('NAPTR picks the record for the transport: UDP gets SIP+D2U', async () => {
    const r = await resolve('naptr.example', undefined, 'udp');
    assert.ok(r.ok);
    assert.deepEqual(brief(r.targets), ['udp:127.0.0.11:5070', 'udp:::1:5070']);
  });

  await t.test('without NAPTR: _sips._tcp for TLS, _sip._tcp for TCP', async () => {
    const tls = await resolve('srv.example', undefined, 'tls');
    assert.ok(tls.ok);
    assert.deepEqual(brief(tls.targets), ['tls:127.0.0.21:5081']);
    const tcp = await resolve('srv.example', undefined, 'tcp');
    assert.ok(tcp.ok);
    assert.deepEqual(brief(tcp.targets), ['tcp:127.0.0.21:5082']);
  });

  await t.test('without _sips._tcp: the _sips._tls fallback, asked only after _sips._tcp', async () => {
    const r = await resolve('tlsonly.example', undefined, 'tls');
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.deepEqual(brief(r.targets), ['tls:127.0.0.31:5091']);
    const order = server.asked.filter((q) => q.endsWith('tlsonly.example SRV'));
    assert.deepEqual(order, ['_sips._tcp.tlsonly.example SRV', '_sips._tls.tlsonly.example SRV']);
  });

  await t.test('no SRV at all: A/AAAA on the default port (5061 for TLS, 5060 otherwise)', async () => {
    const tls = await resolve('plain.example', undefined, 'tls');
    assert.ok(tls.ok);
    assert.deepEqual(brief(tls.targets), ['tls:127.0.0.41:5061']);
    const udp = await resolve('plain.example', undefined, 'udp');
    assert.ok(udp.ok);
    assert.deepEqual(brief(udp.targets), ['udp:127.0.0.41:5060']);
  });

  await t.test('a port given skips NAPTR and SRV (§4.2)', async () => {
    const before = server.asked.length;
    const r = await resolve('srv.example', 7000, 'tls');
    assert.ok(r.ok);
    assert.deepEqual(brief(r.targets), ['tls:127.0.0.99:7000']);
    assert.deepEqual(server.asked.slice(before).map((q) => q.split(' ')[1]).sort(), ['A', 'AAAA']);
  });

  await t.test('an unknown name is a value with a code, never a throw', async () => {
    const r = await resolve('nowhere.example', undefined, 'udp');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'ERR_B2BUA_DNS');
  });

  await t.test('answers are cached until cacheMs has passed', async () => {
    const before = server.asked.length;
    await resolve('naptr.example', undefined, 'tls');
    assert.equal(server.asked.length, before, 'served from the cache');
    clock.advance(30_000);
    await resolve('naptr.example', undefined, 'tls');
    assert.ok(server.asked.length > before, 'asked again after 30 s');
  });
});

test('a DNS server that does not answer is ERR_B2BUA_DNS, not a hang or a throw', async (t) => {
  const { createSocket } = await import('node:dgram');
  const mute = createSocket('udp4');
  await new Promise<void>((ok) => mute.bind(0, '127.0.0.1', () => ok()));
  t.after(() => mute.close());
  const dns = new dnsPromises.Resolver({ timeout: 200, tries: 1 });
  dns.setServers([`127.0.0.1:${mute.address().port}`]);
  const r = await createRfc3263Resolver({ dns })('slow.example', undefined, 'udp');
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /ETIMEOUT|ECONNREFUSED/);
});

test('orderSrv: priority first, then weighted (RFC 2782)', () => {
  const recs = [
    { priority: 2, weight: 0, id: 'p2' },
    { priority: 1, weight: 10, id: 'a' },
    { priority: 1, weight: 90, id: 'b' },
    { priority: 1, weight: 0, id: 'z' },
  ];
  // random 0 takes the first record of the running sum: the zero-weight one is placed first in the draw
  assert.deepEqual(orderSrv(recs, () => 0.5).map((r) => r.id).at(-1), 'p2');
  // with random just under 1 the heaviest tail wins each draw
  assert.deepEqual(orderSrv(recs, () => 0.99).map((r) => r.id), ['b', 'a', 'z', 'p2']);
  // weights decide often: over many draws b (90) comes first far more than a (10)
  let seed = 1;
  const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  let bFirst = 0;
  for (let i = 0; i < 1000; i++) if (orderSrv(recs, rnd)[0]!.id === 'b') bFirst++;
  assert.ok(bFirst > 700 && bFirst < 980, `b first ${bFirst} of 1000`);
});
