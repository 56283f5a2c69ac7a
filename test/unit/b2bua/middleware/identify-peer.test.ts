import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyNumber, identifyPeer, parseReceivedOn } from '../../../../src/b2bua/index.js';
import { deps, FakeRes, fakeInvite } from '../pipeline-fakes.js';

const engineHeader = (v: string) => ({ 'X-Trunkgate-Peer': v });

const cases: Array<{
  name: string; protocol: string; receivedOn?: string; headers?: Record<string, string>;
  tenant?: string; source?: 'header' | 'listener'; identities?: string[]; ignored?: number; status?: number;
}> = [
  { name: 'no header: the listener names the tenant', protocol: 'udp', tenant: 'pbx', source: 'listener', identities: [] },
  {
    name: 'the engine header on TLS: tenant and verified identities', protocol: 'tls', receivedOn: '127.0.0.1:5061',
    headers: engineHeader('tenant=carrier;verified=1;transport=tls;identities="sip:sbc.carrier.example,dns:sbc.carrier.example"'),
    tenant: 'carrier', source: 'header', identities: ['sip:sbc.carrier.example', 'dns:sbc.carrier.example'],
  },
  {
    name: 'unverified identities count for nothing', protocol: 'tls', receivedOn: '127.0.0.1:5061',
    headers: engineHeader('tenant=carrier;verified=0;transport=tls;identities="sip:sbc.carrier.example"'),
    tenant: 'carrier', source: 'header', identities: [],
  },
  {
    name: 'a spoofed TLS claim on a UDP request is ignored: the listener decides', protocol: 'udp',
    headers: engineHeader('tenant=carrier;verified=1;transport=tls;identities="sip:sbc.carrier.example"'),
    tenant: 'pbx', source: 'listener', identities: [], ignored: 1,
  },
  {
    name: 'a header without transport is not the engine\'s', protocol: 'udp',
    headers: engineHeader('tenant=carrier;verified=1'), tenant: 'pbx', source: 'listener', identities: [], ignored: 1,
  },
  {
    name: 'a garbled header is ignored', protocol: 'udp', headers: engineHeader('tenant=carrier;identities="sip:a'),
    tenant: 'pbx', source: 'listener', identities: [], ignored: 1,
  },
  { name: 'another listener, another tenant', protocol: 'udp', receivedOn: '127.0.0.1:5080', tenant: 'strict', source: 'listener' },
  { name: 'a listener of no tenant and no default: 403', protocol: 'udp', receivedOn: '127.0.0.1:5999', status: 403 },
  {
    name: 'a header naming a tenant the policy does not know: 403', protocol: 'udp',
    headers: engineHeader('tenant=nobody;verified=0;transport=udp'), status: 403,
  },
];

for (const c of cases) {
  test(`identify-peer: ${c.name}`, () => {
    const d = deps();
    const req = fakeInvite({ protocol: c.protocol, ...(c.receivedOn ? { receivedOn: c.receivedOn } : {}), ...(c.headers ? { headers: c.headers } : {}) });
    const res = new FakeRes();
    let nexts = 0;
    identifyPeer(d.deps)(req, res, () => nexts++);
    assert.equal(req.has('X-Trunkgate-Peer'), false, 'the header is removed whatever it said');
    assert.equal(d.stats.peerHeaderIgnored, c.ignored ?? 0);
    if (c.status) {
      assert.equal(nexts, 0);
      assert.equal(res.status, c.status);
      assert.match(res.reasonHeader ?? '', /cause=403/);
      assert.equal(d.stats.noTenant, 1);
      assert.equal(d.lines.filter((l) => l.msg === 'cdr').length, 1, 'a refused call has its CDR');
      return;
    }
    assert.equal(nexts, 1);
    assert.equal(res.sent.length, 0);
    assert.equal(req.locals?.tenantIn, c.tenant);
    assert.equal(req.locals?.tenantSource, c.source);
    if (c.identities) assert.deepEqual(req.locals?.identities, c.identities);
  });
}

test('identify-peer: a header sent twice in different case is removed entirely', () => {
  const d = deps();
  const req = fakeInvite({ headers: { 'X-Trunkgate-Peer': 'tenant=carrier;verified=0;transport=udp', 'x-trunkgate-peer': 'tenant=pbx' } });
  identifyPeer(d.deps)(req, new FakeRes(), () => undefined);
  assert.deepEqual(Object.keys(req.msg.headers).filter((k) => /trunkgate/i.test(k)), []);
});

test('identify-peer: a shared TLS listener naming no tenant, and no engine header: the default tenant', () => {
  // SNI reaches the app only through the engine's header (its tenant); the listener table alone cannot use it.
  const withDefault = deps({ ...deps().deps.policy, defaultTenant: 'backup' });
  const req = fakeInvite({ protocol: 'tls', receivedOn: '10.1.1.1:5061' });
  const res = new FakeRes();
  let nexts = 0;
  identifyPeer(withDefault.deps)(req, res, () => nexts++);
  assert.equal(nexts, 1);
  assert.equal(req.locals?.tenantIn, 'backup');
});

test('parseReceivedOn reads IPv4, bracketed and bare IPv6', () => {
  assert.deepEqual(parseReceivedOn('127.0.0.1:5060', 'udp'), { transport: 'udp', address: '127.0.0.1', port: 5060 });
  assert.deepEqual(parseReceivedOn('[::1]:5061', 'tls'), { transport: 'tls', address: '::1', port: 5061 });
  assert.deepEqual(parseReceivedOn('::1:5061', 'tls'), { transport: 'tls', address: '::1', port: 5061 });
  assert.equal(parseReceivedOn('127.0.0.1', 'udp'), undefined);
  assert.equal(parseReceivedOn('127.0.0.1:0', 'udp'), undefined);
  assert.equal(parseReceivedOn(undefined, 'udp'), undefined);
});

test('identify-peer: a peer of another tenant calling a name-registered trunk\'s contact keeps its own tenant and its Request-URI number', () => {
  const reg = { registrar: 'dns:sip.carrier.example', username: 'u', password: 'p', expires: 60, contactUser: 'trunk2', retrySeconds: { min: 1, max: 2 } };
  const base = deps().deps.policy;
  const p = { ...base, tenants: { ...base.tenants, named: { transport: 'udp' as const, register: reg, defaultPermissions: { international: true } } } };
  const call = (peer: string) => {
    const d = deps(p);
    const req = fakeInvite({ uri: 'sip:trunk2@gw.example.com', headers: { 'X-Trunkgate-Peer': peer, To: '<sip:+442071234567@x>' } });
    let nexts = 0;
    const res = new FakeRes();
    identifyPeer(d.deps)(req, res, () => nexts++);
    classifyNumber(d.deps)(req, res, () => nexts++);
    return [req.locals?.tenantIn, req.locals?.tenantSource, req.locals?.calledNumber, req.locals?.category, nexts, res.status];
  };
  // A PBX the engine trusts for tenant pbx only: the trunk's tenant, its permissions and the To number stay out of reach;
  // its Request-URI user is a name in no category, routed as the dial peers say.
  assert.deepEqual(call('tenant=pbx;verified=0;transport=udp'), ['pbx', 'header', 'trunk2', undefined, 2, undefined]);
  // The engine named the trunk's own tenant (its connection, its listener): the call is the trunk's, with the To number.
  assert.deepEqual(call('tenant=named;verified=0;transport=udp'), ['named', 'registration', '+442071234567', 'international', 2, undefined]);
});
