import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { CallStats } from '../../../src/b2bua/call-stats.js';
import type { CdrRecord } from '../../../src/b2bua/cdr.js';
import { inviteGate } from '../../../src/b2bua/invite-gate.js';
import { flowKey, signFlowToken } from '../../../src/b2bua/register-flow-token.js';
import { RegisterRelay, relayedFlowOf, type RelayRequest } from '../../../src/b2bua/register-relay.js';
import type { B2buaPolicy } from '../../../src/b2bua/policy-types.js';
import { captureLog } from './fake-srf.js';

const key = flowKey('engine-secret');
const policy: B2buaPolicy = {
  tenants: {
    phones: {
      transport: 'tcp',
      registerRelay: { to: 'registrar', registrar: '127.0.0.1:5070', transport: 'tcp', scheme: 'sip', path: { host: '127.0.0.1', port: 5080 }, maxBindings: 4, maxExpires: 600 },
    },
    registrar: { transport: 'tcp', sipServer: '127.0.0.1:5070' },
    other: { transport: 'udp' },
  },
  categories: [], dialPeers: [],
};

function invite(peer: string, callId: string) {
  const headers: Record<string, string> = { 'X-Trunkgate-Peer': peer, 'Call-ID': callId, From: '<sip:2000@127.0.0.1>;tag=a' };
  const req: RelayRequest & { receivedOn?: string } = {
    method: 'INVITE', uri: 'sip:phone1@127.0.0.1:5080;transport=tcp', protocol: 'tcp', source_address: '127.0.0.1', source_port: 5070,
    get: (n) => Object.entries(headers).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1],
    proxy: () => assert.fail('an INVITE is not proxied'),
  };
  const sent: Array<{ status: number; headers: Record<string, string> }> = [];
  const res = { send: (status: number, _r?: string, o?: { headers?: Record<string, string> }) => void sent.push({ status, headers: o?.headers ?? {} }) };
  return { req, res, sent };
}

function rig() {
  const clock = new ManualClock(1_700_000_000_000);
  const { log, lines } = captureLog();
  const refusals = new RateLimitedLog(log, clock);
  const relay = new RegisterRelay({ policy, key, log, refusals, clock });
  const stats = new CallStats();
  const cdrs: CdrRecord[] = [];
  let draining: { retryAfter: number } | undefined;
  const gate = inviteGate({ stats, log, clock, refusals, relay, onCdr: (r) => cdrs.push(r), draining: () => draining });
  return { clock, lines, relay, stats, cdrs, gate, drain: (retryAfter: number) => { draining = { retryAfter }; } };
}

test('an INVITE whose flow token is forged or run out: 403 with a Reason, counted as attempted and failed, and a CDR', () => {
  const { clock, relay, stats, cdrs, gate, lines } = rig();
  const until = clock.now() / 1000 + 600;
  const token = signFlowToken(key, { transport: 'tcp', address: '127.0.0.1', port: 40_001, tenant: 'phones', until });

  const forged = invite(`tenant=registrar;verified=0;transport=tcp;flow=${token.slice(0, -2)}AA`, 'forged-1');
  assert.equal(gate(forged.req, forged.res), true);
  assert.equal(forged.sent.length, 1);
  assert.equal(forged.sent[0]!.status, 403);
  assert.equal(forged.sent[0]!.headers.Reason, 'SIP;cause=403;text="flow token forged"');
  assert.equal(cdrs.length, 1);
  const cdr = cdrs[0]!;
  assert.deepEqual([cdr.callId, cdr.status, cdr.cause, cdr.reason, cdr.releasedBy], ['forged-1', 403, 'flow-token:forged', 'SIP;cause=403;text="flow token forged"', 'gateway']);
  assert.deepEqual([cdr.sourceAddress, cdr.sourcePort, cdr.transportIn, cdr.callingNumber], ['127.0.0.1', 5070, 'tcp', '2000']);
  assert.equal(stats.snapshot().attempted, 1);
  assert.deepEqual(stats.snapshot().failed, { 403: 1 });
  assert.equal(relay.snapshot().refusedToken, 1);
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_FLOW_TOKEN_INVALID').length, 1);

  const expired = signFlowToken(key, { transport: 'tcp', address: '127.0.0.1', port: 40_001, tenant: 'phones', until: clock.now() / 1000 - 1 });
  const late = invite(`tenant=registrar;verified=0;transport=tcp;flow=${expired}`, 'expired-1');
  assert.equal(gate(late.req, late.res), true);
  assert.equal(cdrs[1]?.cause, 'flow-token:expired');

  const elsewhere = invite(`tenant=other;verified=0;transport=udp;flow=${token}`, 'source-1');
  assert.equal(gate(elsewhere.req, elsewhere.res), true);
  assert.equal(elsewhere.sent[0]!.status, 403);
  assert.equal(cdrs[2]?.cause, 'flow-token:source');
  assert.equal(cdrs[2]?.reason, elsewhere.sent[0]!.headers.Reason);
  assert.equal(stats.snapshot().attempted, 3);
  assert.deepEqual(stats.snapshot().failed, { 403: 3 });
  assert.equal(stats.snapshot().failedTotal, 3);
  assert.deepEqual([relay.snapshot().refusedToken, relay.snapshot().refusedSource], [2, 1]);
});

test('an INVITE with a good token, a token not of ours, or none goes on to the pipeline: nothing sent, counted or recorded here', () => {
  const { clock, relay, stats, cdrs, gate } = rig();
  // The phone's binding over tcp 127.0.0.1:40001, as its REGISTER and the registrar's 2xx make it.
  const contact = '<sip:phone1@127.0.0.1:40001;transport=tcp>';
  const headers: Record<string, string> = { 'X-Trunkgate-Peer': 'tenant=phones;verified=0;transport=tcp;conn=tcp-1.test', To: '<sip:phone1@reg.test>', Contact: contact };
  relay.onRegister({
    method: 'REGISTER', uri: 'sip:reg.test', protocol: 'tcp', source_address: '127.0.0.1', source_port: 40_001, get: (n) => headers[n],
    proxy: (_o, cb) => cb(null, { finalStatus: 200, finalResponse: { msg: { get: (n) => (n === 'Contact' ? `${contact};expires=600` : undefined) } } }),
  }, { send: () => assert.fail('the REGISTER is relayed') });
  const token = signFlowToken(key, { transport: 'tcp', address: '127.0.0.1', port: 40_001, conn: 'tcp-1.test', tenant: 'phones', until: clock.now() / 1000 + 600 });
  const good = invite(`tenant=registrar;verified=0;transport=tcp;flow=${token}`, 'good-1');
  assert.equal(gate(good.req, good.res), false);
  assert.equal(relayedFlowOf(good.req)?.tenant, 'phones');
  const notOurs = invite('tenant=registrar;verified=0;transport=tcp;flow=trunk-a', 'other-1');
  assert.equal(gate(notOurs.req, notOurs.res), false);
  const plain = invite('tenant=other;verified=0;transport=udp', 'plain-1');
  assert.equal(gate(plain.req, plain.res), false);
  assert.deepEqual([good.sent.length, notOurs.sent.length, plain.sent.length, cdrs.length], [0, 0, 0, 0]);
  assert.equal(stats.snapshot().attempted, 0, 'the pipeline counts these');
  assert.equal(relay.snapshot().routed, 1);
});

test('while draining every new INVITE, a flow token or not, gets 503 with Retry-After and a CDR cause shutdown', () => {
  const { clock, relay, stats, cdrs, gate, drain } = rig();
  drain(30);
  // A well-formed token signed with another key: the relay would refuse it as forged, were it asked.
  const forged = signFlowToken(flowKey('other'), { transport: 'tcp', address: '127.0.0.1', port: 40_001, tenant: 'phones', until: clock.now() / 1000 + 600 });
  const r = invite(`tenant=registrar;verified=0;transport=tcp;flow=${forged}`, 'drain-1');
  assert.equal(gate(r.req, r.res), true);
  assert.equal(r.sent[0]!.status, 503);
  assert.equal(r.sent[0]!.headers['Retry-After'], '30');
  assert.match(r.sent[0]!.headers.Reason!, /^SIP;cause=503;/);
  assert.deepEqual([cdrs[0]?.cause, cdrs[0]?.status, cdrs[0]?.callId], ['shutdown', 503, 'drain-1']);
  assert.deepEqual([stats.snapshot().attempted, stats.snapshot().refusedDraining, stats.snapshot().failed], [1, 1, { 503: 1 }]);
  assert.equal(relay.snapshot().refusedToken, 0, 'the relay never saw it');
  // The same token at a gateway that is not draining: the relay refuses it, so the 0 above means it was not asked.
  const open = rig();
  const seen = invite(`tenant=registrar;verified=0;transport=tcp;flow=${forged}`, 'open-1');
  assert.equal(open.gate(seen.req, seen.res), true);
  assert.equal(seen.sent[0]!.status, 403);
  assert.equal(open.relay.snapshot().refusedToken, 1);
});

test('an out-of-dialog MESSAGE or NOTIFY with no flow token: 404, counted', () => {
  const { relay } = rig();
  for (const method of ['MESSAGE', 'NOTIFY']) {
    const r = invite('tenant=other;verified=0;transport=udp', `${method}-1`);
    relay.onOther({ ...r.req, method }, r.res);
    assert.equal(r.sent[0]!.status, 404);
  }
  assert.equal(relay.snapshot().refusedNoBinding, 2);
});
