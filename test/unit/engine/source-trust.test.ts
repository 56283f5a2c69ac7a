import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { silentLogger } from '../../../src/log/index.js';
import { parseMessage } from '../../../src/sip/message/index.js';
import type { SipMessage } from '../../../src/sip/message/types.js';
import type { Flow } from '../../../src/sip/transport/types.js';
import { SourceTrust, type SourceTrustOptions } from '../../../src/engine/source-trust.js';

function msg(first: string, toTag = '', method = 'INVITE'): SipMessage {
  const text = `${first}\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@x>;tag=f\r\nTo: <sip:b@y>${toTag}\r\n`
    + `Call-ID: c1\r\nCSeq: 1 ${method}\r\n`
    + 'Max-Forwards: 70\r\nContact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n';
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok);
  return r.message;
}
const INVITE = msg('INVITE sip:1000@gw SIP/2.0');

function flow(remoteAddress: string, o: Partial<Flow> = {}): Flow {
  return { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress, remotePort: 40000, listenerId: 'udp-shared', ...o };
}

const OPTIONS: SourceTrustOptions = {
  defaultTenant: 'pbx',
  tenants: [
    { name: 'itsp', transport: 'udp', sources: ['203.0.113.10'], hosts: ['sbc.itsp.test'], restrictTls: false },
    { name: 'pbx', transport: 'udp', sources: ['10.1.0.0/16', '2001:db8::/32'], hosts: [], restrictTls: false },
    { name: 'carrier', transport: 'tls', sources: ['198.51.100.7'], hosts: [], restrictTls: true },
    { name: 'partner', transport: 'tls', sources: [], hosts: [], restrictTls: false },
  ],
};

async function trust(o: Partial<SourceTrustOptions> = {}, lookup = async (_h: string) => ['203.0.113.20']) {
  const clock = new ManualClock(0);
  const t = new SourceTrust({ ...OPTIONS, ...o }, { log: silentLogger(), clock, lookup });
  await t.start();
  return { t, clock };
}

test('a shared listener attributes a new request to the tenant that trusts its source, the default tenant first', async () => {
  const { t } = await trust();
  assert.deepEqual(t.judge(INVITE, flow('10.1.2.3'), undefined), { admit: true, tenant: 'pbx' });
  assert.deepEqual(t.judge(INVITE, flow('203.0.113.10'), undefined), { admit: true, tenant: 'itsp' });
  assert.deepEqual(t.judge(INVITE, flow('203.0.113.20'), undefined), { admit: true, tenant: 'itsp' }, 'a resolved target name');
  assert.deepEqual(t.judge(INVITE, flow('2001:db8::5'), undefined), { admit: true, tenant: 'pbx' }, 'an IPv6 CIDR');
  assert.deepEqual(t.judge(INVITE, flow('::ffff:10.1.9.9'), undefined), { admit: true, tenant: 'pbx' }, 'an IPv4-mapped source');
  assert.deepEqual(t.judge(INVITE, flow('198.51.100.7'), undefined), { admit: true, tenant: 'carrier' }, 'a tenant may call over any shared listener');
  assert.deepEqual(t.judge(INVITE, flow('10.1.2.3', { protocol: 'tcp' }), undefined), { admit: true, tenant: 'pbx' }, 'a UDP tenant calling over TCP');
});

test('a source no tenant trusts is rejected, then dropped past the per-source rate, and counted per listener and cause', async () => {
  const { t, clock } = await trust({ rejectsPerSecondPerSource: 2 });
  const v = [1, 2, 3].map(() => t.judge(INVITE, flow('192.0.2.99'), undefined));
  assert.deepEqual(v.map((x) => (x.admit ? 'admit' : x.action)), ['reject', 'reject', 'drop']);
  clock.advance(1000);
  assert.deepEqual(t.judge(INVITE, flow('192.0.2.99'), undefined), { admit: false, action: 'reject', cause: 'untrusted-source' });
  const s = t.stats();
  assert.equal(s.rejected, 3);
  assert.equal(s.dropped, 1);
  assert.equal(s.byListener['udp-shared untrusted-source'], 4);
});

test('the per-source cap on 403s counts an IPv6 /64 as one source', async () => {
  const { t } = await trust({ rejectsPerSecondPerSource: 2 });
  const v = [1, 2, 3, 4].map((i) => t.judge(INVITE, flow(`2001:db9:7:7::${i}`), undefined));
  assert.deepEqual(v.map((x) => (x.admit ? 'admit' : x.action)), ['reject', 'reject', 'drop', 'drop']);
});

test('drop mode sends nothing to an untrusted source', async () => {
  const { t } = await trust({ untrusted: 'drop' });
  assert.deepEqual(t.judge(INVITE, flow('192.0.2.99'), undefined), { admit: false, action: 'drop', cause: 'untrusted-source' });
});

test('a tenant listener takes new requests only from that tenant\'s sources', async () => {
  const { t } = await trust();
  assert.deepEqual(t.judge(INVITE, flow('203.0.113.10'), 'itsp'), { admit: true, tenant: 'itsp' });
  assert.equal(t.judge(INVITE, flow('10.1.2.3'), 'itsp').admit, false, 'trusted by pbx, not by this listener\'s tenant');
  assert.equal((t.judge(INVITE, flow('10.1.2.4'), 'itsp') as { tenant?: string }).tenant, 'itsp', 'the refusal names the listener\'s tenant');
});

test('TLS peers are identified by certificate; a tenant with trustedSources also holds them to those addresses', async () => {
  const { t } = await trust();
  const tls = (address: string, tenant: string) => flow(address, { protocol: 'tls', tls: { version: 'TLSv1.3', cipher: 'x', authorized: true, identities: [], tenant } });
  assert.deepEqual(t.judge(INVITE, tls('192.0.2.50', 'partner'), undefined), { admit: true, tenant: 'partner' });
  assert.deepEqual(t.judge(INVITE, tls('198.51.100.7', 'carrier'), undefined), { admit: true, tenant: 'carrier' });
  assert.deepEqual(t.judge(INVITE, tls('192.0.2.50', 'carrier'), undefined), { admit: false, action: 'reject', cause: 'tls-address', tenant: 'carrier' },
    'the refusal names the tenant the certificate claimed, for its CDR');
});

test('a TLS connection with no verified client certificate gets no tenant from its listener or SNI: its address decides', async () => {
  const { t } = await trust();
  const anon = (address: string, tenant: string) => flow(address, { protocol: 'tls', tls: { version: 'TLSv1.3', cipher: 'x', authorized: false, identities: [], tenant } });
  assert.equal(t.judge(INVITE, anon('192.0.2.50', 'partner'), undefined).admit, false, 'no certificate, an address no tenant trusts');
  assert.equal(t.judge(INVITE, anon('192.0.2.50', 'partner'), 'partner').admit, false, 'on the tenant\'s own listener too');
  assert.deepEqual(t.judge(INVITE, anon('198.51.100.7', 'carrier'), 'carrier'), { admit: true, tenant: 'carrier' }, 'an address the tenant trusts');
  assert.deepEqual(t.judge(INVITE, anon('10.1.2.3', 'partner'), undefined), { admit: true, tenant: 'pbx' }, 'on a shared listener, the tenant its address belongs to');
});

test('responses, ACKs and in-dialog requests are not judged here (they match our transactions and dialogs or get 481)', async () => {
  const { t } = await trust();
  assert.deepEqual(t.judge(msg('SIP/2.0 200 OK'), flow('192.0.2.99'), undefined), { admit: true });
  assert.deepEqual(t.judge(msg('ACK sip:1000@gw SIP/2.0', '', 'ACK'), flow('192.0.2.99'), undefined), { admit: true });
  assert.deepEqual(t.judge(msg('BYE sip:1000@gw SIP/2.0', ';tag=t', 'BYE'), flow('192.0.2.99'), undefined), { admit: true });
  assert.equal(t.judge(msg('OPTIONS sip:gw SIP/2.0', '', 'OPTIONS'), flow('192.0.2.99'), undefined).admit, false, 'an out-of-dialog OPTIONS is judged');
});

test('a target name that stops resolving keeps the addresses it had', async () => {
  let fail = false;
  const { t, clock } = await trust({ refreshSeconds: 1 }, async () => {
    if (fail) throw new Error('SERVFAIL');
    return ['203.0.113.20'];
  });
  fail = true;
  clock.advance(1000);
  await new Promise((r) => setImmediate(r));
  assert.equal(t.stats().resolveFailures, 1);
  assert.deepEqual(t.judge(INVITE, flow('203.0.113.20'), undefined), { admit: true, tenant: 'itsp' });
  t.close();
});

test('a source two tenants trust goes to the default tenant, wherever it stands in the list; the others keep their order', async () => {
  const tenants: SourceTrustOptions['tenants'] = [
    { name: 'a', transport: 'udp', sources: ['10.9.0.1'], hosts: [], restrictTls: false },
    { name: 'b', transport: 'udp', sources: ['10.9.0.1', '10.9.0.2'], hosts: [], restrictTls: false },
    { name: 'c', transport: 'udp', sources: ['10.9.0.1', '10.9.0.2'], hosts: [], restrictTls: false },
  ];
  const { t } = await trust({ defaultTenant: 'c', tenants });
  assert.deepEqual(t.judge(INVITE, flow('10.9.0.1'), undefined), { admit: true, tenant: 'c' });
  const { t: u } = await trust({ defaultTenant: 'none', tenants });
  assert.deepEqual(u.judge(INVITE, flow('10.9.0.1'), undefined), { admit: true, tenant: 'a' });
  assert.deepEqual(u.judge(INVITE, flow('10.9.0.2'), undefined), { admit: true, tenant: 'b' });
  assert.deepEqual({ ...u.stats(), plan: undefined }, { plan: undefined,  admitted: 2, rejected: 0, dropped: 0, byListener: {}, resolveFailures: 0, rejectTableResets: 0 });
});

test('IPv4-mapped entries and sources match either way; a configured CIDR of either family holds its range only', async () => {
  const tenants: SourceTrustOptions['tenants'] = [
    { name: 'm', transport: 'udp', sources: ['::ffff:192.0.2.0/120', 'not-an-address', '2001:db8:5::/48'], hosts: [], restrictTls: false },
  ];
  const { t } = await trust({ defaultTenant: 'm', tenants });
  assert.equal(t.judge(INVITE, flow('192.0.2.77'), undefined).admit, true);
  assert.equal(t.judge(INVITE, flow('::ffff:192.0.2.78'), undefined).admit, true);
  assert.equal(t.judge(INVITE, flow('192.0.3.1'), undefined).admit, false);
  assert.equal(t.judge(INVITE, flow('2001:db8:5:ffff::1'), undefined).admit, true);
  assert.equal(t.judge(INVITE, flow('2001:db8:6::1'), undefined).admit, false);
});

test('target names are resolved again every refresh interval, and never after close', async () => {
  let lookups = 0;
  const { t, clock } = await trust({ refreshSeconds: 30 }, async () => {
    lookups++;
    return lookups === 1 ? ['203.0.113.20'] : ['203.0.113.21'];
  });
  assert.equal(lookups, 1, 'resolved once at start');
  clock.advance(29_999);
  await new Promise((r) => setImmediate(r));
  assert.equal(lookups, 1);
  clock.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.equal(lookups, 2);
  assert.equal(t.judge(INVITE, flow('203.0.113.21'), undefined).admit, true, 'the new address is trusted');
  assert.equal(t.judge(INVITE, flow('203.0.113.20'), undefined).admit, false, 'the old one no longer is');
  clock.advance(30_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(lookups, 3, 'and again');
  t.close();
  clock.advance(120_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(lookups, 3, 'nothing after close');
});

test('with no target names nothing is looked up, ever; the default refresh is a minute', async () => {
  let lookups = 0;
  const noHosts = OPTIONS.tenants.map((x) => ({ ...x, hosts: [] }));
  const { clock } = await trust({ tenants: noHosts }, async () => (lookups++, []));
  clock.advance(600_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(lookups, 0);
  const { t, clock: c2 } = await trust({}, async () => (lookups++, ['203.0.113.20']));
  assert.equal(lookups, 1);
  c2.advance(59_999);
  await new Promise((r) => setImmediate(r));
  assert.equal(lookups, 1);
  c2.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.equal(lookups, 2);
  t.close();
});

test('the 403 budget is per source and per second; the table of sources is bounded and starts over when full', async () => {
  const { t, clock } = await trust({ rejectsPerSecondPerSource: 1 });
  assert.deepEqual(t.judge(INVITE, flow('192.0.2.1'), undefined), { admit: false, action: 'reject', cause: 'untrusted-source' });
  assert.deepEqual(t.judge(INVITE, flow('192.0.2.1'), undefined), { admit: false, action: 'drop', cause: 'reject-rate' });
  assert.deepEqual(t.judge(INVITE, flow('192.0.2.2'), undefined), { admit: false, action: 'reject', cause: 'untrusted-source' }, 'another source has its own');
  clock.advance(999);
  assert.equal((t.judge(INVITE, flow('192.0.2.1'), undefined) as { action: string }).action, 'drop', 'still the same second');
  // 10,000 other sources fill the table; the next new one clears it, so 192.0.2.1 starts with a fresh budget.
  for (let i = 0; i < 10_000; i++) t.judge(INVITE, flow(`10.200.${i >> 8}.${i & 255}`), undefined);
  t.judge(INVITE, flow('192.0.2.3'), undefined);
  assert.equal((t.judge(INVITE, flow('192.0.2.1'), undefined) as { action: string }).action, 'reject');
  const s = t.stats();
  assert.equal(s.rejected + s.dropped, 10_006);
  assert.equal(s.rejectTableResets, 1, 'the reset is counted');
  assert.equal(s.byListener['udp-shared untrusted-source'], 10_006);
});

test('the default action is reject; drop refuses without counting a rejection', async () => {
  const { t } = await trust({ untrusted: 'drop' });
  t.judge(INVITE, flow('192.0.2.9'), undefined);
  assert.deepEqual([t.stats().rejected, t.stats().dropped], [0, 1]);
  const { t: r } = await trust({ untrusted: undefined });
  assert.equal((r.judge(INVITE, flow('192.0.2.9'), undefined) as { action: string }).action, 'reject');
});
