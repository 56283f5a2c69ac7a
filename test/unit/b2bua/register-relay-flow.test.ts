import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { CallStats } from '../../../src/b2bua/call-stats.js';
import type { CdrRecord } from '../../../src/b2bua/cdr.js';
import { inviteGate } from '../../../src/b2bua/invite-gate.js';
import { flowKey, verifyFlowToken } from '../../../src/b2bua/register-flow-token.js';
import { RegisterRelay, relayedFlowOf, type RelayProxyResult, type RelayRequest } from '../../../src/b2bua/register-relay.js';
import type { B2buaPolicy } from '../../../src/b2bua/policy-types.js';
import { until } from '../../support/until.js';
import { captureLog } from './fake-srf.js';

// A flow token routes only while the registrar holds a binding made over the flow it names (RFC 5626 §5.3): after
// the phone de-registers, once its binding ran out, or when it registered again over another flow, 430 Flow Failed.

const policy: B2buaPolicy = {
  tenants: {
    phones: { transport: 'tcp', registerRelay: { to: 'registrar', registrar: '192.0.2.10:5060', transport: 'tcp', scheme: 'sip', path: { host: '198.51.100.1', port: 5070 }, maxBindings: 8, maxExpires: 600 } },
    desks: { transport: 'tcp', registerRelay: { to: 'registrar', registrar: '192.0.2.10:5060', transport: 'tcp', scheme: 'sip', path: { host: '198.51.100.1', port: 5070 }, maxBindings: 8, maxExpires: 600 } },
    registrar: { transport: 'tcp', sipServer: '192.0.2.10:5060' },
  },
  categories: [], dialPeers: [],
};

let secrets = 0;

function rig(o: { key?: Buffer; clock?: ManualClock } = {}) {
  // A key of its own: apps sharing one key share their bindings, as the apps of one engine do.
  const key = o.key ?? flowKey(`flow-test-${process.pid}-${++secrets}`);
  const clock = o.clock ?? new ManualClock(1_700_000_000_000);
  const { log, lines } = captureLog();
  const refusals = new RateLimitedLog(log, clock);
  const relay = new RegisterRelay({ policy, key, log, refusals, clock });
  const ok = (contact: string): RelayProxyResult => ({ finalStatus: 200, finalResponse: { msg: { get: (n) => (n === 'Contact' ? contact : undefined) } } });
  /** A REGISTER from tcp 203.0.113.5:`port` of `aor` with `contact`, answered 200 granting `expires`: the token of its Path. */
  const register = (port: number, aor: string, contact: string, expires: number, tenant = 'phones'): string => {
    let path = '';
    const headers: Record<string, string> = { 'X-Trunkgate-Peer': `tenant=${tenant};verified=0;transport=tcp;conn=tcp-${port}.test`, To: `<${aor}>`, Contact: expires === 0 ? '*' : `<${contact}>`, Expires: String(expires) };
    relay.onRegister({
      method: 'REGISTER', uri: 'sip:reg.test', protocol: 'tcp', source_address: '203.0.113.5', source_port: port, get: (n) => headers[n],
      proxy: (opts, cb) => {
        path = /^<sip:([^@]+)@/.exec(opts.headers?.Path ?? '')![1]!;
        cb(null, ok(expires === 0 ? '' : `<${contact}>;expires=${expires}`));
      },
    }, { send: (status) => assert.fail(`REGISTER answered ${status} by the gateway`) });
    return path;
  };
  /** An INVITE (or `method`) from the registrar bringing `token` back: what the relay answered, if anything. */
  const call = (token: string, method = 'INVITE') => {
    const sent: Array<{ status: number; headers: Record<string, string> }> = [];
    const proxied: string[][] = [];
    const req: RelayRequest = {
      method, uri: 'sip:phone1@10.0.0.2:5060;transport=tcp', protocol: 'tcp', source_address: '192.0.2.10', source_port: 5060,
      get: (n) => (n === 'X-Trunkgate-Peer' ? `tenant=registrar;verified=0;transport=tcp;flow=${token}` : n === 'Call-ID' ? `c-${token.slice(0, 8)}` : undefined),
      proxy: (opts) => void proxied.push(opts.destination),
    };
    const res = { send: (status: number, _r?: string, opts?: { headers?: Record<string, string> }) => void sent.push({ status, headers: opts?.headers ?? {} }) };
    if (method === 'INVITE') relay.onRequest(req, res);
    else relay.onOther(req, res);
    return { status: sent[0]?.status, reason: sent[0]?.headers.Reason, routed: relayedFlowOf(req) !== undefined || proxied.length > 0 };
  };
  const coded = (code: string) => lines.filter((l) => l.code === code);
  return { key, clock, relay, register, call, coded };
}

test('after the phone de-registers, a request with its token gets 430 with a Reason, counted and logged; never routed', () => {
  const r = rig();
  const token = r.register(40_001, 'sip:phone1@reg.test', 'sip:phone1@10.0.0.2:5060;transport=tcp', 300);
  assert.deepEqual(r.call(token), { status: undefined, reason: undefined, routed: true });
  r.register(40_001, 'sip:phone1@reg.test', '', 0);
  assert.equal(verifyFlowToken(r.key, token, r.clock.now() / 1000).ok, true, 'the token itself still verifies');
  const late = r.call(token);
  assert.deepEqual([late.status, late.routed], [430, false]);
  assert.equal(late.reason, 'SIP;cause=430;text="no live binding of phones over tcp 203.0.113.5:40001"');
  const mwi = r.call(token, 'NOTIFY');
  assert.deepEqual([mwi.status, mwi.routed], [430, false], 'a NOTIFY is not proxied to the old address either');
  assert.equal(r.relay.snapshot().refusedFlowFailed, 2);
  assert.equal(r.relay.snapshot().routed, 1);
  assert.equal(r.coded('ERR_B2BUA_FLOW_FAILED').length, 1, 'one line per source a window');
});

test('a token whose binding ran out, or that no accepted REGISTER bound, gets 430 though it has not expired itself', () => {
  const r = rig();
  const token = r.register(40_001, 'sip:phone1@reg.test', 'sip:phone1@10.0.0.2:5060;transport=tcp', 60);
  r.clock.advance(61_000);
  assert.equal(verifyFlowToken(r.key, token, r.clock.now() / 1000).ok, true);
  assert.equal(r.call(token).status, 430);
  // A REGISTER the registrar refused: its Path carried a token, nothing was bound.
  let refusedPath = '';
  const headers: Record<string, string> = { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-40002.test', To: '<sip:phone2@reg.test>', Contact: '<sip:phone2@10.0.0.3>' };
  r.relay.onRegister({
    method: 'REGISTER', uri: 'sip:reg.test', protocol: 'tcp', source_address: '203.0.113.5', source_port: 40_002, get: (n) => headers[n],
    proxy: (opts, cb) => { refusedPath = /^<sip:([^@]+)@/.exec(opts.headers!.Path!)![1]!; cb(null, { finalStatus: 403 }); },
  }, { send: () => assert.fail('relayed') });
  assert.equal(r.call(refusedPath).status, 430);
});

test('a phone that registers again over a new flow takes its binding along: the old flow\'s token gets 430, the new one routes', () => {
  const r = rig();
  const contact = 'sip:phone1@10.0.0.2:5060;transport=tcp';
  const old = r.register(40_001, 'sip:phone1@reg.test', contact, 300);
  const moved = r.register(40_777, 'sip:phone1@reg.test', contact, 300);
  assert.equal(r.call(old).status, 430, 'a new connection from the old address and port must not get the calls');
  assert.equal(r.call(moved).routed, true);
  assert.equal(r.relay.snapshot().bindings, 1);
});

test('a phone with two lines over one flow: removing one leaves the flow routing for the other; a flow of another tenant is not it', () => {
  const r = rig();
  const line1 = r.register(40_001, 'sip:line1@reg.test', 'sip:line1@10.0.0.2:5060;transport=tcp', 300);
  r.register(40_001, 'sip:line2@reg.test', 'sip:line2@10.0.0.2:5060;transport=tcp', 300);
  r.register(40_001, 'sip:line2@reg.test', '', 0);
  assert.equal(r.call(line1).routed, true);
  r.register(40_001, 'sip:line1@reg.test', '', 0);
  assert.equal(r.call(line1).status, 430);
  // The same address and port bound for tenant desks: a token of phones for it does not route there.
  const phones = r.register(40_002, 'sip:a@reg.test', 'sip:a@10.0.0.4', 300);
  r.register(40_002, 'sip:b@reg.test', 'sip:b@10.0.0.4', 300, 'desks');
  assert.equal(r.call(phones).status, 430);
});

test('the apps of one engine share their bindings: a binding made or removed through one decides in another, and a new app learns them', async () => {
  const first = rig();
  const clock = first.clock;
  const second = rig({ key: first.key, clock });
  const stranger = rig({ clock });
  const token = first.register(40_001, 'sip:phone1@reg.test', 'sip:phone1@10.0.0.2:5060;transport=tcp', 300);
  await until(() => second.relay.bindings().length === 1, 'the other app to learn the binding');
  assert.equal(second.call(token).routed, true, 'the INVITE reaches the app that did not see the REGISTER');
  const third = rig({ key: first.key, clock });
  await until(() => third.relay.bindings().length === 1, 'a new app to be told the bindings');
  assert.equal(third.call(token).routed, true);
  assert.equal(stranger.relay.bindings().length, 0, 'an app of another engine (another key) hears nothing');
  assert.deepEqual([first, second, third].map((x) => x.relay.snapshot().bindings), [1, 0, 0], 'counted once, by the app that took the REGISTER');
  first.register(40_001, 'sip:phone1@reg.test', '', 0);
  await until(() => second.relay.bindings().length === 0 && third.relay.bindings().length === 0, 'the removal to reach the others');
  assert.equal(second.call(token).status, 430);
  for (const x of [first, second, third, stranger]) x.relay.close();
});

test('the INVITE gate records a 430 like the other refusals: attempted, failed 430, a CDR with cause flow-token:flow-failed', () => {
  const r = rig();
  const token = r.register(40_001, 'sip:phone1@reg.test', 'sip:phone1@10.0.0.2', 300);
  r.register(40_001, 'sip:phone1@reg.test', '', 0);
  const { log } = captureLog();
  const stats = new CallStats();
  const cdrs: CdrRecord[] = [];
  const gate = inviteGate({ stats, log, clock: r.clock, refusals: new RateLimitedLog(log, r.clock), relay: r.relay, onCdr: (c) => cdrs.push(c), draining: () => undefined });
  const sent: number[] = [];
  const headers: Record<string, string> = { 'X-Trunkgate-Peer': `tenant=registrar;verified=0;transport=tcp;flow=${token}`, 'Call-ID': 'gone-1', From: '<sip:2000@192.0.2.10>;tag=a' };
  const refused = gate({
    method: 'INVITE', uri: 'sip:phone1@10.0.0.2', protocol: 'tcp', source_address: '192.0.2.10', source_port: 5060, get: (n: string) => headers[n],
    proxy: () => assert.fail('not proxied'),
  } as never, { send: (s: number) => void sent.push(s) });
  assert.equal(refused, true);
  assert.deepEqual(sent, [430]);
  assert.deepEqual([cdrs[0]?.status, cdrs[0]?.cause, cdrs[0]?.releasedBy], [430, 'flow-token:flow-failed', 'gateway']);
  assert.deepEqual(stats.snapshot().failed, { 430: 1 });
});
