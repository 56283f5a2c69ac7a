import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { flowKey, signFlowToken, verifyFlowToken } from '../../../src/b2bua/register-flow-token.js';
import { RegisterRelay, relayedFlowOf, type RelayProxyResult, type RelayRequest } from '../../../src/b2bua/register-relay.js';
import { relayedBinding } from '../../../src/b2bua/middleware/relayed-binding.js';
import type { Middleware, PipelineDeps } from '../../../src/b2bua/pipeline-types.js';
import type { B2buaPolicy, RegisterRelayPolicy } from '../../../src/b2bua/policy-types.js';
import { captureLog } from './fake-srf.js';

const key = flowKey('engine-secret');
const relayPolicy: RegisterRelayPolicy = {
  to: 'registrar', registrar: '192.0.2.10:5060', transport: 'tcp', scheme: 'sip', path: { host: '198.51.100.1', port: 5070 }, maxBindings: 2, maxExpires: 600,
};
const policy: B2buaPolicy = {
  tenants: { phones: { transport: 'tcp', registerRelay: relayPolicy }, registrar: { transport: 'tcp', sipServer: '192.0.2.10:5060' }, other: { transport: 'udp' } },
  categories: [], dialPeers: [],
};

interface Proxied { destination: string[]; headers?: Record<string, string>; remainInDialog?: boolean; done(r: RelayProxyResult): void; fail(e: Error): void }

function request(method: string, headers: Record<string, string>, o: { uri?: string; protocol?: string; address?: string; port?: number } = {}) {
  const proxied: Proxied[] = [];
  const req: RelayRequest = {
    method, uri: o.uri ?? 'sip:reg.test', protocol: o.protocol ?? 'tcp', source_address: o.address ?? '203.0.113.5', source_port: o.port ?? 40_001,
    get: (n) => Object.entries(headers).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1],
    proxy: (opts, cb) => proxied.push({ ...opts, done: (r) => cb(null, r), fail: (e) => cb(e) }),
  };
  const sent: Array<{ status: number; headers: Record<string, string> }> = [];
  const res = { send: (status: number, _reason?: string, opts?: { headers?: Record<string, string> }) => sent.push({ status, headers: opts?.headers ?? {} }) };
  return { req, res, proxied, sent };
}

function rig() {
  const clock = new ManualClock(1_700_000_000_000);
  const { log, lines } = captureLog();
  const relay = new RegisterRelay({ policy, key, log, refusals: new RateLimitedLog(log, clock), clock });
  return { clock, lines, relay };
}

/** A binding of phone1 over tcp 203.0.113.5:`port`, as a REGISTER and the registrar's 2xx make it. */
function bind(relay: RegisterRelay, port: number): void {
  const contact = `<sip:phone1@203.0.113.5:${port};transport=tcp>`;
  const r = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test', To: '<sip:phone1@reg.test>', Contact: contact }, { port });
  relay.onRegister(r.req, r.res);
  r.proxied[0]!.done(ok(`${contact};expires=600`));
}

const ok = (contact: string): RelayProxyResult => ({ finalStatus: 200, finalResponse: { msg: { get: (n) => (n === 'Contact' ? contact : undefined) } } });

test('flow tokens: what was signed verifies; a changed byte, a foreign key or a token run out does not', () => {
  const flow = { transport: 'tcp' as const, address: '203.0.113.5', port: 40_001, tenant: 'phones', until: 2_000 };
  const token = signFlowToken(key, flow);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/, 'a SIP user part');
  assert.deepEqual(verifyFlowToken(key, token, 1_000), { ok: true, flow });
  const other = signFlowToken(key, { ...flow, port: 40_002 });
  assert.deepEqual(verifyFlowToken(key, `${other.split('.')[0]}.${token.split('.')[1]}`, 1_000), { ok: false, why: 'forged' });
  assert.deepEqual(verifyFlowToken(flowKey('another-secret'), token, 1_000), { ok: false, why: 'forged' });
  assert.deepEqual(verifyFlowToken(key, token, 2_001), { ok: false, why: 'expired' });
  assert.deepEqual(verifyFlowToken(key, 'not-a-token', 1_000), { ok: false, why: 'malformed' });
  const sig = token.split('.')[1]!;
  const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(sig.at(-1)!);
  const respelled = `${token.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last ^ 1]}`;
  assert.deepEqual(verifyFlowToken(key, respelled, 1_000), { ok: false, why: 'malformed' }, 'the spare bits of the last character count');
});

test('REGISTER from a relay tenant: proxied to the registrar with our Path (flow token, ob) on top; the 2xx binds the flow', () => {
  const { relay } = rig();
  const r = request('REGISTER', {
    'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test', To: '<sip:phone1@reg.test>', Contact: '<sip:phone1@203.0.113.5:40001;transport=tcp>', Path: '<sip:edge.example;lr>',
  });
  relay.onRegister(r.req, r.res);
  assert.equal(r.sent.length, 0);
  assert.equal(r.proxied.length, 1);
  assert.deepEqual(r.proxied[0]!.destination, ['sip:192.0.2.10:5060;transport=tcp']);
  const path = /^<sip:([^@]+)@198\.51\.100\.1:5070;transport=tcp;lr;ob>, <sip:edge\.example;lr>$/.exec(r.proxied[0]!.headers?.Path ?? '');
  assert.ok(path, r.proxied[0]!.headers?.Path);
  const check = verifyFlowToken(key, path[1]!, 1_700_000_000);
  assert.ok(check.ok);
  assert.deepEqual([check.flow.transport, check.flow.address, check.flow.port, check.flow.tenant], ['tcp', '203.0.113.5', 40_001, 'phones']);
  assert.equal(r.proxied[0]!.headers?.Expires, undefined, 'an Expires within maxExpires is left alone');
  const long = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test', Expires: '86400' }, { port: 40_002 });
  relay.onRegister(long.req, long.res);
  assert.equal(long.proxied[0]!.headers?.Expires, '600', 'longer than the token lives: lowered to maxExpires');
  r.proxied[0]!.done(ok('<sip:phone1@203.0.113.5:5999;transport=tcp>;expires=300'));
  assert.deepEqual(relay.bindings().map((b) => [b.aor, b.port, b.expiresIn]), [['sip:phone1@reg.test', 40_001, 300]]);
  assert.equal(relay.snapshot().accepted, 1);
});

test('default deny: a REGISTER on a tenant without registerRelay gets 403 with a Reason, counted and logged', () => {
  const { relay, lines } = rig();
  const r = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=other;verified=0;transport=udp', To: '<sip:phone1@reg.test>' }, { protocol: 'udp' });
  relay.onRegister(r.req, r.res);
  assert.equal(r.proxied.length, 0);
  assert.equal(r.sent[0]!.status, 403);
  assert.match(r.sent[0]!.headers.Reason!, /^SIP;cause=403;text="REGISTER is not relayed for tenant other"$/);
  assert.equal(relay.snapshot().refusedNoRelay, 1);
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_REGISTER_REFUSED').length, 1);
  // A phone of a TCP tenant registering over UDP (a shared listener): its calls could not reach it.
  const udp = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=udp' }, { protocol: 'udp' });
  relay.onRegister(udp.req, udp.res);
  assert.equal(udp.sent[0]!.status, 403);
  assert.equal(udp.proxied.length, 0);
  // A peer header whose transport is not the request's is not believed.
  const lie = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tls' });
  relay.onRegister(lie.req, lie.res);
  assert.equal(lie.sent[0]!.status, 403);
});

test('bounded: past maxBindings a new flow gets 503 with Retry-After; a bound flow still refreshes; a 0 expiry unbinds', () => {
  const { clock, relay, lines } = rig();
  const reg = (port: number) => {
    const r = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test', To: '<sip:p@reg.test>', Contact: `<sip:p@203.0.113.5:${port}>` }, { port });
    relay.onRegister(r.req, r.res);
    return r;
  };
  reg(1).proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  reg(2).proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  const third = reg(3);
  assert.equal(third.proxied.length, 0);
  assert.equal(third.sent[0]!.status, 503);
  assert.equal(third.sent[0]!.headers['Retry-After'], '60');
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_REGISTER_RELAY_FULL').length, 1);
  assert.equal(reg(2).proxied.length, 1, 'a bound flow refreshes');
  reg(1).proxied[0]!.done(ok('<sip:p@x>;expires=0'));
  // A removal whose 2xx lists the address-of-record's other binding still unbinds this flow.
  reg(2).proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  const removal = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test', To: '<sip:p@reg.test>', Contact: '*', Expires: '0' }, { port: 2 });
  relay.onRegister(removal.req, removal.res);
  removal.proxied[0]!.done(ok('<sip:p@elsewhere>;expires=3000'));
  assert.equal(relay.bindings().some((b) => b.port === 2), false);
  reg(2).proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  assert.equal(relay.snapshot().bindings, 1);
  assert.equal(relay.snapshot().refusedFull, 1);
  // Full again; once a binding has run out its place goes to a new flow.
  reg(4).proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  assert.equal(reg(5).sent[0]!.status, 503);
  clock.advance(61_000);
  assert.equal(reg(5).proxied.length, 1, 'the expired bindings were swept');
});

test('an INVITE with a flow token: marked for the phone\'s flow when from the registrar tenant; forged or from elsewhere: 403', () => {
  const { clock, relay } = rig();
  bind(relay, 40_001);
  const token = signFlowToken(key, { transport: 'tcp', address: '203.0.113.5', port: 40_001, conn: 'tcp-1.test', tenant: 'phones', until: clock.now() / 1000 + 600 });
  const invite = request('INVITE', { 'X-Trunkgate-Peer': `tenant=registrar;verified=0;transport=tcp;flow=${token}` }, { uri: 'sip:phone1@192.168.1.20:5060;transport=tcp', address: '192.0.2.10' });
  assert.equal(relay.onRequest(invite.req, invite.res), false, 'the call policy places it');
  assert.equal(invite.sent.length, 0);
  assert.deepEqual(relayedFlowOf(invite.req), { transport: 'tcp', address: '203.0.113.5', port: 40_001, conn: 'tcp-1.test', tenant: 'phones', until: clock.now() / 1000 + 600 });
  // The pipeline step puts the phone's tenant and address in place of the dial peers; other calls go to the dial peers.
  const locals: Record<string, unknown> = {};
  let chosen = 0;
  const select: Middleware = (_req, _res, next) => { chosen++; next(); };
  const step = relayedBinding({ policy } as PipelineDeps, select);
  step(Object.assign(invite.req, { locals }) as never, invite.res as never, () => undefined);
  assert.deepEqual(locals.dialPeers, [{ dialPeer: { id: 'registered:phones', destinationPattern: '', tenant: 'phones', sipServer: '203.0.113.5:40001' }, prefixLength: 0 }]);
  assert.equal(chosen, 0);

  const forged = request('INVITE', { 'X-Trunkgate-Peer': `tenant=registrar;verified=0;transport=tcp;flow=${token.slice(0, -2)}AA` });
  assert.equal(relay.onRequest(forged.req, forged.res), true);
  assert.equal(forged.sent[0]!.status, 403);
  assert.equal(forged.proxied.length, 0);

  const elsewhere = request('INVITE', { 'X-Trunkgate-Peer': `tenant=other;verified=0;transport=udp;flow=${token}` });
  assert.equal(relay.onRequest(elsewhere.req, elsewhere.res), true);
  assert.equal(elsewhere.sent[0]!.status, 403);

  const other = request('INVITE', { 'X-Trunkgate-Peer': 'tenant=registrar;verified=0;transport=tcp;flow=trunk-a' });
  assert.equal(relay.onRequest(other.req, other.res), false, 'a Route user part that is no token of ours: the call policy takes it');
  assert.equal(other.sent.length, 0);
  const plain = request('INVITE', { 'X-Trunkgate-Peer': 'tenant=registrar;verified=0;transport=tcp' });
  assert.equal(relay.onRequest(plain.req, plain.res), false, 'no token: the call policy takes it');
  assert.equal(relayedFlowOf(plain.req), undefined);
  step(Object.assign(plain.req, { locals: {} }) as never, plain.res as never, () => undefined);
  assert.equal(chosen, 1, 'the dial peers choose');
  assert.deepEqual([relay.snapshot().routed, relay.snapshot().refusedToken, relay.snapshot().refusedSource], [1, 1, 1]);
});

test('MESSAGE and NOTIFY out of dialog: proxied to the phone\'s flow with a good token from the registrar tenant; without a token 404; forged 403', () => {
  const { clock, relay } = rig();
  bind(relay, 40_001);
  const token = signFlowToken(key, { transport: 'tcp', address: '203.0.113.5', port: 40_001, conn: 'tcp-1.test', tenant: 'phones', until: clock.now() / 1000 + 600 });
  const mwi = request('NOTIFY', { 'X-Trunkgate-Peer': `tenant=registrar;verified=0;transport=tcp;flow=${token}` }, { uri: 'sip:phone1@10.1.1.1:5061;transport=tcp' });
  relay.onOther(mwi.req, mwi.res);
  assert.deepEqual(mwi.proxied.map((p) => p.destination), [['sip:phone1@203.0.113.5:40001;transport=tcp']]);
  const stray = request('MESSAGE', { 'X-Trunkgate-Peer': 'tenant=registrar;verified=0;transport=tcp' });
  relay.onOther(stray.req, stray.res);
  assert.deepEqual([stray.sent[0]!.status, stray.proxied.length], [404, 0]);
  assert.match(stray.sent[0]!.headers.Reason!, /cause=404/);
  const forged = request('MESSAGE', { 'X-Trunkgate-Peer': `tenant=registrar;verified=0;transport=tcp;flow=x${token}` });
  relay.onOther(forged.req, forged.res);
  assert.deepEqual([forged.sent[0]!.status, forged.proxied.length], [403, 0]);
});

test('towards a TLS registrar the REGISTER names the registrar tenant\'s TLS profile and the registrar\'s name for the engine', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const { log } = captureLog();
  const tls: B2buaPolicy = {
    ...policy,
    tenants: { ...policy.tenants, phones: { transport: 'tcp', registerRelay: { ...relayPolicy, registrar: 'sbc.carrier.example:5061', transport: 'tls', tlsProfile: 'edge' } } },
  };
  const relay = new RegisterRelay({ policy: tls, key, log, refusals: new RateLimitedLog(log, clock), clock });
  const r = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test' });
  relay.onRegister(r.req, r.res);
  assert.deepEqual(r.proxied[0]!.destination, ['sip:sbc.carrier.example:5061;transport=tls']);
  assert.equal(r.proxied[0]!.headers?.['X-Trunkgate-Route'], 'tenant=registrar;profile=edge;domain=sbc.carrier.example');
  assert.match(r.proxied[0]!.headers?.Path ?? '', /;transport=tls;lr;ob>$/);
});

test('maxBindings is per tenant: one tenant at its limit leaves another\'s REGISTERs alone', () => {
  const { log } = captureLog();
  const clock = new ManualClock(1_700_000_000_000);
  const two: B2buaPolicy = { ...policy, tenants: { ...policy.tenants, desks: { transport: 'tcp', registerRelay: relayPolicy } } };
  const relay = new RegisterRelay({ policy: two, key, log, refusals: new RateLimitedLog(log, clock), clock });
  const reg = (tenant: string, port: number) => {
    const r = request('REGISTER', { 'X-Trunkgate-Peer': `tenant=${tenant};verified=0;transport=tcp;conn=tcp-1.test`, To: '<sip:p@reg.test>', Contact: `<sip:p@203.0.113.5:${port}>` }, { port });
    relay.onRegister(r.req, r.res);
    return r;
  };
  reg('phones', 1).proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  reg('phones', 2).proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  assert.equal(reg('phones', 3).sent[0]?.status, 503);
  const desk = reg('desks', 4);
  assert.deepEqual(desk.sent, []);
  desk.proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  reg('desks', 5).proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  assert.equal(reg('desks', 6).sent[0]?.status, 503);
  assert.equal(relay.snapshot().bindings, 4);
  assert.equal(reg('desks', 1).sent[0]?.status, 503, 'a flow bound to phones is new to desks, which is full');
});

test('REGISTERs sent on together past the limit: the bindings not kept are counted and logged once per source a window', () => {
  const { relay, lines } = rig();
  const sent = [1, 2, 3, 4, 5].map((port) => {
    const r = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test', To: '<sip:p@reg.test>', Contact: `<sip:p@203.0.113.5:${port}>` }, { port });
    relay.onRegister(r.req, r.res);
    return r;
  });
  assert.ok(sent.every((r) => r.proxied.length === 1), 'all passed the check while none was bound');
  for (const r of sent) r.proxied[0]!.done(ok('<sip:p@x>;expires=60'));
  assert.equal(relay.snapshot().bindings, 2);
  assert.equal(relay.snapshot().refusedFull, 3);
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_REGISTER_RELAY_FULL').length, 1);
});

test('a registrar that is not an address: 500, counted as not relayed', () => {
  const { log, lines } = captureLog();
  const clock = new ManualClock(0);
  const bad: B2buaPolicy = { ...policy, tenants: { ...policy.tenants, phones: { transport: 'tcp', registerRelay: { ...relayPolicy, registrar: 'no address' } } } };
  const relay = new RegisterRelay({ policy: bad, key, log, refusals: new RateLimitedLog(log, clock), clock });
  const r = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test' });
  relay.onRegister(r.req, r.res);
  assert.equal(r.sent[0]?.status, 500);
  assert.equal(relay.snapshot().refusedNoRelay, 1);
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_REGISTER_REFUSED').length, 1);
});

test('a REGISTER or a request to a binding the engine could not send on is counted as not sent, with one line', () => {
  const { clock, relay, lines } = rig();
  const reg = request('REGISTER', { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test', To: '<sip:phone1@reg.test>' });
  relay.onRegister(reg.req, reg.res);
  reg.proxied[0]!.fail(new Error('no route to the registrar'));
  assert.equal(relay.bindings().length, 0);
  bind(relay, 40_001);
  const token = signFlowToken(key, { transport: 'tcp', address: '203.0.113.5', port: 40_001, conn: 'tcp-1.test', tenant: 'phones', until: clock.now() / 1000 + 600 });
  const mwi = request('NOTIFY', { 'X-Trunkgate-Peer': `tenant=registrar;verified=0;transport=tcp;flow=${token}` }, { uri: 'sip:phone1@10.1.1.1:5060;transport=tcp' });
  relay.onOther(mwi.req, mwi.res);
  mwi.proxied[0]!.fail(new Error('connection refused'));
  assert.equal(relay.snapshot().notSent, 2);
  assert.ok(lines.some((l) => l.code === 'ERR_B2BUA_REGISTER_REFUSED'));
});
