import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRfc3263Resolver, type DnsLookups } from '../../../src/b2bua/rfc3263.js';
import { ManualClock } from '../../../src/common/index.js';

/** Lets every pending promise callback run (setImmediate comes after the microtasks; no timer, no wait). */
const settle = () => new Promise<void>((ok) => setImmediate(ok));

const noData = () => Object.assign(new Error('no data'), { code: 'ENODATA' });

/** A DNS whose A answers wait for the test (`release()`), counting every query and those in flight. */
function heldDns(srvCount: number) {
  const asked: string[] = [];
  const held: Array<() => void> = [];
  let inFlight = 0;
  let most = 0;
  const dns: DnsLookups = {
    async resolveNaptr(n) { asked.push(`NAPTR ${n}`); throw noData(); },
    async resolveSrv(n) {
      asked.push(`SRV ${n}`);
      if (!n.startsWith('_sip._udp.')) return [];
      return Array.from({ length: srvCount }, (_, i) => ({ priority: 1, weight: 1, port: 5060, name: `h${i}.carrier.example` }));
    },
    resolve4(h) {
      asked.push(`A ${h}`);
      inFlight++;
      most = Math.max(most, inFlight);
      return new Promise((ok) => held.push(() => { inFlight--; ok(['192.0.2.1', '192.0.2.2', '192.0.2.3']); }));
    },
    async resolve6(h) { asked.push(`AAAA ${h}`); return ['2001:db8::1']; },
  };
  const releaseAll = async () => {
    await settle();
    while (held.length > 0) {
      held.splice(0).forEach((f) => f());
      await settle();
    }
  };
  return { dns, asked, releaseAll, most: () => most };
}

test('rfc3263: a name with 40 SRV records uses 8, 8 addresses each at most, says what it cut, and asks 4 at a time', async () => {
  const h = heldDns(40);
  const resolve = createRfc3263Resolver({ dns: h.dns, clock: new ManualClock(0), random: () => 0, maxAddressesPerName: 2 });
  const p = resolve('carrier.example', undefined, 'udp');
  await settle();
  assert.equal(h.most(), 4, 'SRV targets are looked up a few at a time, not one after another');
  await h.releaseAll();
  const r = await p;
  assert.ok(r.ok);
  assert.equal(h.asked.filter((q) => q.startsWith('A ')).length, 8, 'the A lookups of 8 records, not 40');
  assert.equal(r.targets.length, 16, '8 records, 2 addresses each');
  assert.deepEqual(r.capped, { records: 32, addresses: 16 });
});

test('rfc3263: the bounds of one resolution can be narrowed by the caller', async () => {
  const h = heldDns(5);
  const resolve = createRfc3263Resolver({ dns: h.dns, clock: new ManualClock(0), random: () => 0 });
  const p = resolve('carrier.example', undefined, 'udp', { maxSrvRecords: 2, maxAddressesPerName: 1 });
  await h.releaseAll();
  const r = await p;
  assert.ok(r.ok);
  assert.deepEqual(r.targets.map((t) => t.address), ['192.0.2.1', '192.0.2.1']);
  assert.deepEqual(r.capped, { records: 3, addresses: 6 });
});

test('rfc3263: the same name asked while it resolves shares the one resolution; a host in two records is asked once', async () => {
  const asked: string[] = [];
  const held: Array<() => void> = [];
  const dns: DnsLookups = {
    async resolveNaptr(n) { asked.push(`NAPTR ${n}`); throw noData(); },
    async resolveSrv(n) {
      asked.push(`SRV ${n}`);
      return [{ priority: 1, weight: 0, port: 5060, name: 'sbc.carrier.example' }, { priority: 2, weight: 0, port: 5070, name: 'sbc.carrier.example' }];
    },
    resolve4(h) { asked.push(`A ${h}`); return new Promise((ok) => held.push(() => ok(['192.0.2.7']))); },
    async resolve6() { return []; },
  };
  const resolve = createRfc3263Resolver({ dns, clock: new ManualClock(0), random: () => 0 });
  const first = resolve('carrier.example', undefined, 'udp');
  const second = resolve('CARRIER.example', undefined, 'udp');
  await settle();
  held.splice(0).forEach((f) => f());
  const [a, b] = await Promise.all([first, second]);
  assert.ok(a.ok && b.ok);
  assert.deepEqual(a.targets.map((t) => `${t.address}:${t.port}`), ['192.0.2.7:5060', '192.0.2.7:5070']);
  assert.deepEqual(asked, ['NAPTR carrier.example', 'SRV _sip._udp.carrier.example', 'A sbc.carrier.example']);
});

test('rfc3263: a failure is remembered for negativeCacheMs, then asked again', async () => {
  let queries = 0;
  const servfail = () => { queries++; return Promise.reject(Object.assign(new Error('servfail'), { code: 'ESERVFAIL' })); };
  const dns: DnsLookups = { resolveNaptr: servfail, resolveSrv: servfail, resolve4: servfail, resolve6: servfail };
  const clock = new ManualClock(0);
  const resolve = createRfc3263Resolver({ dns, clock, negativeCacheMs: 30_000 });
  const first = await resolve('broken.example', undefined, 'udp');
  assert.equal(first.ok, false);
  const asked = queries;
  clock.advance(29_999);
  const again = await resolve('broken.example', undefined, 'udp');
  assert.deepEqual(again, first);
  assert.equal(queries, asked, 'no query while the failure is remembered');
  clock.advance(1);
  await resolve('broken.example', undefined, 'udp');
  assert.ok(queries > asked, 'asked again once it is 30 s old');
});

test('rfc3263: one deadline on the whole resolution: past it, the addresses found so far, or ERR_B2BUA_DNS_DEADLINE', async () => {
  const clock = new ManualClock(0);
  const dns: DnsLookups = {
    async resolveNaptr() { throw noData(); },
    async resolveSrv(n) {
      if (n === '_sip._udp.half.example') return [{ priority: 1, weight: 0, port: 5060, name: 'fast.example' }, { priority: 2, weight: 0, port: 5060, name: 'mute.example' }];
      if (n === '_sip._udp.mute.example') return new Promise(() => undefined);
      return [];
    },
    resolve4: (h) => (h === 'fast.example' ? Promise.resolve(['192.0.2.5']) : new Promise(() => undefined)),
    async resolve6() { return []; },
  };
  const resolve = createRfc3263Resolver({ dns, clock, random: () => 0, deadlineMs: 4_000 });
  const half = resolve('half.example', undefined, 'udp');
  const mute = resolve('mute.example', undefined, 'udp');
  await settle();
  clock.advance(4_000);
  const h = await half;
  assert.ok(h.ok);
  assert.deepEqual(h.targets.map((t) => t.address), ['192.0.2.5']);
  assert.deepEqual(h.capped, { deadline: true });
  const m = await mute;
  assert.equal(m.ok, false);
  assert.equal(!m.ok && m.code, 'ERR_B2BUA_DNS_DEADLINE');
});

test('rfc3263: the caller names how long a failure is remembered (gateway.outbound.negativeCacheMs); 0 remembers none', async () => {
  let queries = 0;
  const servfail = () => { queries++; return Promise.reject(Object.assign(new Error('servfail'), { code: 'ESERVFAIL' })); };
  const resolve = createRfc3263Resolver({ dns: { resolveNaptr: servfail, resolveSrv: servfail, resolve4: servfail, resolve6: servfail }, clock: new ManualClock(0) });
  await resolve('broken.example', 5060, 'udp', { negativeCacheMs: 0 });
  const asked = queries;
  await resolve('broken.example', 5060, 'udp', { negativeCacheMs: 0 });
  assert.equal(queries, 2 * asked);
});
