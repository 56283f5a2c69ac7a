import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { connOf, flowKey, signFlowToken, verifyFlowToken, type RegisterFlow } from '../../../src/b2bua/register-flow-token.js';
import { flowRoute, RegisterRelay, relayedFlowClosed, relayedFlowOf, type RelayProxyResult, type RelayRequest } from '../../../src/b2bua/register-relay.js';
import type { B2buaPolicy } from '../../../src/b2bua/policy-types.js';
import { captureLog } from './fake-srf.js';

// Over TCP and TLS a flow is a connection (RFC 5626 §5.3): the flow token names the connection the REGISTER came
// on (X-Trunkgate-Peer `conn=`), a request to the phone names it to the engine (X-Trunkgate-Route `conn=`), and a
// token without one, or of another connection, does not route.

const key = flowKey('conn-test-secret');
const relay = { to: 'registrar', registrar: '192.0.2.10:5060', transport: 'tcp' as const, scheme: 'sip' as const, path: { host: '198.51.100.1', port: 5070 }, maxBindings: 8, maxExpires: 600 };
const policy: B2buaPolicy = {
  tenants: { phones: { transport: 'tcp', registerRelay: relay }, registrar: { transport: 'tcp', sipServer: '192.0.2.10:5060' } },
  categories: [], dialPeers: [],
};
const flow: RegisterFlow = { transport: 'tcp', address: '203.0.113.5', port: 40_001, conn: 'tcp-17.Xy3_kP0a', tenant: 'phones', until: 2_000 };

test('a token names its connection: what was signed comes back, and a conn changed under a kept signature is forged', () => {
  const token = signFlowToken(key, flow);
  assert.deepEqual(verifyFlowToken(key, token, 1_000), { ok: true, flow });
  // The payload of another connection's token under this token's signature: the signature covers the connection.
  const other = signFlowToken(key, { ...flow, conn: 'tcp-18.Xy3_kP0a' });
  assert.deepEqual(verifyFlowToken(key, `${other.split('.')[0]}.${token.split('.')[1]}`, 1_000), { ok: false, why: 'forged' });
  // Nor can the connection be dropped to make an old-style token of the same flow.
  const bare = signFlowToken(key, { ...flow, conn: undefined });
  assert.deepEqual(verifyFlowToken(key, `${bare.split('.')[0]}.${token.split('.')[1]}`, 1_000), { ok: false, why: 'forged' });
  // UDP names no connection, even if asked to.
  const udp = verifyFlowToken(key, signFlowToken(key, { ...flow, transport: 'udp' }), 1_000);
  assert.deepEqual(udp.ok && [udp.flow.transport, udp.flow.conn], ['udp', undefined]);
  // The longest flow still makes a token the engine hands on (a Route user part of at most 256 characters).
  const longest = signFlowToken(key, { transport: 'tls', address: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', port: 65_535, conn: 'c'.repeat(40), tenant: 't'.repeat(64), until: 99_999_999_999 });
  assert.ok(longest.length <= 256, `${longest.length}`);
  assert.equal(verifyFlowToken(key, longest, 1_000).ok, true);
});

test('the engine\'s conn= is read from X-Trunkgate-Peer; anything that could not stand in a token is not', () => {
  assert.equal(connOf('tenant=phones;verified=0;transport=tcp;conn=tcp-3.AbC_d-9z'), 'tcp-3.AbC_d-9z');
  assert.equal(connOf('tenant=phones;verified=0;transport=tcp;conn=tcp-3.x;flow=abc'), 'tcp-3.x');
  assert.equal(connOf('tenant=phones;verified=0;transport=tcp'), undefined);
  assert.equal(connOf('tenant=phones;conn=a|b'), undefined);
  assert.equal(connOf(`tenant=phones;conn=${'x'.repeat(41)}`), undefined);
  assert.equal(connOf(undefined), undefined);
  assert.equal(flowRoute(flow), 'conn=tcp-17.Xy3_kP0a');
  assert.equal(flowRoute(flow, 'tenant=phones;profile=p'), 'tenant=phones;profile=p;conn=tcp-17.Xy3_kP0a');
  assert.equal(flowRoute({ ...flow, transport: 'udp', conn: undefined }, undefined), undefined);
});

function rig() {
  const clock = new ManualClock(1_700_000_000_000);
  const { log, lines } = captureLog();
  const r = new RegisterRelay({ policy, key, log, refusals: new RateLimitedLog(log, clock), clock });
  const register = (port: number, peer: string, contact = `sip:phone1@10.0.0.2:${port};transport=tcp`) => {
    let path: string | undefined;
    const sent: number[] = [];
    const headers: Record<string, string> = { 'X-Trunkgate-Peer': peer, To: '<sip:phone1@reg.test>', Contact: `<${contact}>`, Expires: '300' };
    r.onRegister({
      method: 'REGISTER', uri: 'sip:reg.test', protocol: 'tcp', source_address: '203.0.113.5', source_port: port, get: (n) => headers[n],
      proxy: (opts, cb) => {
        path = /^<sip:([^@]+)@/.exec(opts.headers?.Path ?? '')![1]!;
        cb(null, { finalStatus: 200, finalResponse: { msg: { get: (n) => (n === 'Contact' ? `<${contact}>;expires=300` : undefined) } } });
      },
    }, { send: (status) => void sent.push(status) });
    return { token: path, sent };
  };
  const request = (method: string, token: string) => {
    const sent: Array<{ status: number; reason?: string }> = [];
    const proxied: Array<{ destination: string[]; headers?: Record<string, string>; cb: (e: unknown, r?: RelayProxyResult) => void }> = [];
    const req: RelayRequest = {
      method, uri: 'sip:phone1@10.0.0.2:5060;transport=tcp', protocol: 'tcp', source_address: '192.0.2.10', source_port: 5060,
      get: (n) => (n === 'X-Trunkgate-Peer' ? `tenant=registrar;verified=0;transport=tcp;conn=tcp-2.Xy3_kP0a;flow=${token}` : undefined),
      proxy: (opts, cb) => void proxied.push({ ...opts, cb }),
    };
    const res = { send: (status: number, _r?: string, o?: { headers?: Record<string, string> }) => void sent.push({ status, reason: o?.headers?.Reason }) };
    if (method === 'INVITE') r.onRequest(req, res);
    else r.onOther(req, res);
    return { req, sent, proxied };
  };
  return { clock, relay: r, lines, register, request };
}

test('a REGISTER over TCP signs the engine\'s connection into its token; one the engine named no connection for is not relayed', () => {
  const h = rig();
  const { token } = h.register(40_001, 'tenant=phones;verified=0;transport=tcp;conn=tcp-5.Xy3_kP0a');
  const check = verifyFlowToken(key, token!, 1_700_000_000);
  assert.equal(check.ok && check.flow.conn, 'tcp-5.Xy3_kP0a');
  assert.equal(h.relay.bindings()[0]?.conn, 'tcp-5.Xy3_kP0a');
  const unnamed = h.register(40_002, 'tenant=phones;verified=0;transport=tcp');
  assert.deepEqual([unnamed.token, unnamed.sent], [undefined, [500]]);
  assert.equal(h.relay.snapshot().refusedNoRelay, 1);
  assert.ok(h.lines.some((l) => l.code === 'ERR_B2BUA_REGISTER_REFUSED'));
});

test('an INVITE to a flow carries its connection to the pipeline; a TCP token without one (signed before tokens named it) gets 430', () => {
  const h = rig();
  const { token } = h.register(40_001, 'tenant=phones;verified=0;transport=tcp;conn=tcp-5.Xy3_kP0a');
  const call = h.request('INVITE', token!);
  assert.deepEqual(call.sent, []);
  assert.equal(relayedFlowOf(call.req)?.conn, 'tcp-5.Xy3_kP0a');
  const old = signFlowToken(key, { transport: 'tcp', address: '203.0.113.5', port: 40_001, tenant: 'phones', until: h.clock.now() / 1000 + 600 });
  const refused = h.request('INVITE', old);
  assert.deepEqual(refused.sent, [{ status: 430, reason: 'SIP;cause=430;text="the token names no connection of phones over tcp 203.0.113.5:40001"' }]);
  assert.equal(relayedFlowOf(refused.req), undefined);
  assert.equal(h.request('MESSAGE', old).proxied.length, 0, 'nor is a MESSAGE proxied with it');
  assert.equal(h.relay.snapshot().refusedFlowFailed, 2);
  assert.ok(h.lines.some((l) => l.code === 'ERR_B2BUA_FLOW_FAILED'));
});

test('a new connection from the same address and port is another flow: the old connection\'s token gets 430 once the phone registered over the new one', () => {
  const h = rig();
  const first = h.register(40_001, 'tenant=phones;verified=0;transport=tcp;conn=tcp-5.Xy3_kP0a').token!;
  const again = h.register(40_001, 'tenant=phones;verified=0;transport=tcp;conn=tcp-9.Xy3_kP0a').token!;
  assert.equal(h.request('INVITE', first).sent[0]?.status, 430);
  assert.equal(relayedFlowOf(h.request('INVITE', again).req)?.conn, 'tcp-9.Xy3_kP0a');
  assert.deepEqual(h.relay.bindings().map((b) => b.conn), ['tcp-9.Xy3_kP0a']);
});

test('a MESSAGE or NOTIFY is proxied pinned to the phone\'s connection; the engine\'s own 430 (connection closed) is counted and logged', () => {
  const h = rig();
  const { token } = h.register(40_001, 'tenant=phones;verified=0;transport=tcp;conn=tcp-5.Xy3_kP0a');
  const msg = h.request('MESSAGE', token!);
  assert.deepEqual(msg.proxied.map((p) => [p.destination, p.headers]), [[['sip:phone1@203.0.113.5:40001;transport=tcp'], { 'X-Trunkgate-Route': 'conn=tcp-5.Xy3_kP0a' }]]);
  const said = (status: number, peer?: string): RelayProxyResult => ({ finalStatus: status, finalResponse: { msg: { get: (n) => (n === 'X-Trunkgate-Peer' ? peer : undefined) } } });
  msg.proxied[0]!.cb(null, said(430, 'verified=0;transport=tcp;origin=engine'));
  assert.equal(h.relay.snapshot().refusedFlowFailed, 1);
  assert.ok(h.lines.some((l) => l.code === 'ERR_B2BUA_FLOW_FAILED'));
  // The phone's own 430, or any other answer, is the phone's business.
  const mwi = h.request('NOTIFY', token!);
  mwi.proxied[0]!.cb(null, said(430));
  mwi.proxied[0]!.cb(null, said(200));
  assert.equal(h.relay.snapshot().refusedFlowFailed, 1);
});

test('the engine\'s 430 to an INVITE the relay routed (the phone\'s connection closed) is counted and logged by that relay; other requests are not its', () => {
  const h = rig();
  const { token } = h.register(40_001, 'tenant=phones;verified=0;transport=tcp;conn=tcp-5.Xy3_kP0a');
  const call = h.request('INVITE', token!);
  relayedFlowClosed(call.req);
  assert.equal(h.relay.snapshot().refusedFlowFailed, 1);
  assert.deepEqual(h.lines.filter((l) => l.code === 'ERR_B2BUA_FLOW_FAILED').map((l) => [l.conn, l.method]), [['tcp-5.Xy3_kP0a', 'INVITE']]);
  relayedFlowClosed({});
  assert.equal(h.relay.snapshot().refusedFlowFailed, 1);
});
