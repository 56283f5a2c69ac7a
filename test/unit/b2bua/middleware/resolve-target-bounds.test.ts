import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectDialPeer, type B2buaPolicy, type ResolveResult, type SipServerResolver } from '../../../../src/b2bua/index.js';
import { sipError } from '../fake-srf.js';
import { deps, FakeRes, fakeInvite, policy } from '../pipeline-fakes.js';
import { offer, start } from './place-call-rig.js';

const flush = () => new Promise<void>((ok) => setImmediate(ok));

/** pbx calls +44… over the dial peers `names` in order, each on a tenant of its own with sipServer `dns:<name>`. */
function viaNames(names: string[], extra: Partial<B2buaPolicy> = {}): B2buaPolicy {
  const tenants = { ...policy.tenants };
  for (const n of names) tenants[n] = { transport: 'udp', sipServer: `dns:${n}` };
  return { ...policy, tenants, dialPeers: names.map((n) => ({ id: n, destinationPattern: '^\\+', tenant: n })), ...extra };
}

const many = (n: number): ResolveResult => ({
  ok: true, targets: Array.from({ length: n }, (_, i) => ({ address: `10.0.${i >> 8}.${i & 255}`, port: 5060, transport: 'udp' as const, domain: 'x' })),
});

test('outbound: one call tries at most maxTargetsPerCall targets however many addresses DNS gives; the rest counted once', async () => {
  const s = start('+442071234567', 'pbx', offer, { resolve: async () => many(200) }, viaNames(['carrier.example']));
  for (let i = 0; i < 16; i++) (await s.srf.attempt(i)).reject(sipError(503));
  await flush();
  assert.equal(s.srf.attempts.length, 16, 'one inbound call made 200 INVITE attempts before');
  assert.equal(s.res.status, 503);
  assert.equal(s.stats.outbound.targetsCapped, 184);
  assert.equal(s.lines.filter((l) => l.code === 'ERR_B2BUA_TARGETS_CAPPED').length, 1);
});

test('outbound: a later dns: dial peer keeps a slot of its own, so a name with many addresses cannot crowd out the failover', async () => {
  const resolve: SipServerResolver = async (name) => (name === 'big.example' ? many(50) : {
    ok: true, targets: [{ address: '192.0.2.77', port: 5060, transport: 'udp', domain: name }],
  });
  const s = start('+442071234567', 'pbx', offer, { resolve }, viaNames(['big.example', 'backup.example'], { outbound: { maxTargetsPerCall: 4 } }));
  for (let i = 0; i < 3; i++) (await s.srf.attempt(i)).reject(sipError(503));
  assert.equal((await s.srf.attempt(3)).uri, 'sip:+442071234567@192.0.2.77:5060');
  assert.equal(s.stats.outbound.targetsCapped, 47);
});

test('outbound: one deadline on all the dns: lookups of a call: a name that never answers is passed over when it runs out', async () => {
  const resolve: SipServerResolver = () => new Promise(() => undefined);
  const p = viaNames(['mute.example'], { dialPeers: [{ id: 'mute', destinationPattern: '^\\+', tenant: 'mute.example' }, { id: 'backup', destinationPattern: '^\\+', tenant: 'backup' }] });
  const s = start('+442071234567', 'pbx', offer, { resolve }, p);
  await flush();
  assert.equal(s.srf.attempts.length, 0);
  s.clock.advance(3_999);
  await flush();
  assert.equal(s.srf.attempts.length, 0, 'still within the call\'s 4 s');
  s.clock.advance(1);
  assert.equal((await s.srf.attempt(0)).uri, 'sip:+442071234567@192.0.2.10:5060');
  assert.equal(s.stats.outbound.resolveDeadline, 1);
  assert.ok(s.lines.some((l) => l.code === 'ERR_B2BUA_DNS_DEADLINE'));
});

test('outbound: the deadline is the call\'s, not each name\'s: a second name gets what the first left, and is told so', async () => {
  const asked: Array<{ name: string; deadlineMs: number | undefined; answer: (r: ResolveResult) => void }> = [];
  const resolve: SipServerResolver = (name, _port, _t, limits) => new Promise((answer) => asked.push({ name, deadlineMs: limits?.deadlineMs, answer }));
  const s = start('+442071234567', 'pbx', offer, { resolve }, viaNames(['slow.example', 'mute.example']));
  await flush();
  s.clock.advance(3_000);
  asked[0]!.answer({ ok: false, code: 'ERR_B2BUA_DNS', reason: 'slow.example: SERVFAIL' });
  await flush();
  assert.deepEqual(asked.map((a) => [a.name, a.deadlineMs]), [['slow.example', 4_000], ['mute.example', 1_000]]);
  s.clock.advance(1_000);
  await flush();
  assert.equal(s.res.status, 503, 'the call ends at 4 s, not 8');
  assert.equal(s.stats.outbound.resolveDeadline, 1);
});

test('select-dial-peer: the dial peers kept hold at most maxTargetsPerCall configured targets; the first is always kept', () => {
  const d = deps();
  const dialPeers = Array.from({ length: 20 }, (_, i) => ({ id: `dp${i}`, destinationPattern: '^\\+', tenant: 'backup' }));
  const run = (p: B2buaPolicy) => {
    const req = fakeInvite();
    req.locals = { callId: 'c', startedAt: 0, log: d.deps.log, identities: [], tenantIn: 'pbx', calledNumber: '+442071234567' };
    selectDialPeer({ ...d.deps, policy: p })(req, new FakeRes(), () => undefined);
    return req.locals.dialPeers?.map((c) => c.dialPeer.id) ?? [];
  };
  assert.equal(run({ ...policy, dialPeers }).length, 16);
  assert.equal(d.stats.outbound.targetsCapped, 4);
  assert.ok(d.lines.some((l) => l.code === 'ERR_B2BUA_TARGETS_CAPPED'));
  // carrier lists two servers: with a bound of 1 its dial peer is still kept, the next is not.
  assert.deepEqual(run({ ...policy, outbound: { maxTargetsPerCall: 1 } }), ['intl']);
});
