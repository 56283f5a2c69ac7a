import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPipeline, CallLimits, CallRates, PipelineStats, type B2buaPolicy } from '../../../../src/b2bua/index.js';
import { settle, sipError } from '../fake-srf.js';
import { deps, FakeRes, fakeInvite, policy, run, ScriptedSrf } from '../pipeline-fakes.js';

type Rate = { maxCallsPerSecond: number; callBurst?: number };
type Max = { maxCalls: number };

/** pbx calls carrier (intl, two targets) first, backup (intl-backup) second, for numbers starting with +. */
function rated(o: { pbx?: Rate & Partial<Max>; intl?: Partial<Rate & Max>; backup?: Partial<Rate & Max> } = {}): B2buaPolicy {
  return {
    ...policy,
    retryAfterSeconds: 9,
    tenants: { ...policy.tenants, pbx: { ...policy.tenants.pbx!, defaultPermissions: { international: true }, ...o.pbx } },
    dialPeers: policy.dialPeers.map((d) => (d.id === 'intl' ? { ...d, ...o.intl } : d.id === 'intl-backup' ? { ...d, ...o.backup } : d)),
  };
}

/** The whole pipeline with call limits and rates, as start-b2bua builds it; `call()` sends one INVITE from pbx through it. */
function gateway(p: B2buaPolicy) {
  const d = deps(p);
  const limits = new CallLimits(p);
  const rates = new CallRates(d.clock, p);
  const stats = new PipelineStats(undefined, limits);
  const srf = new ScriptedSrf();
  const steps = buildPipeline({ ...d.deps, stats, srf, limits, rates });
  let n = 0;
  const call = (number = '+442071234567') => {
    const req = fakeInvite({ uri: `sip:${number}@gw.example.com`, headers: { 'Call-ID': `call-${++n}` } });
    req.on = () => {};
    const res = new FakeRes();
    run(steps, req, res);
    return { req, res };
  };
  const cdrs = () => d.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
  return { ...d, stats, limits, rates, srf, call, cdrs };
}

const SBC1 = 'sips:+442071234567@sbc1.carrier.example:5061;transport=tls';
const SBC2 = 'sips:+442071234567@sbc2.carrier.example:5061;transport=tls';
const BACKUP = 'sip:+442071234567@192.0.2.10:5060';

/** A first call placed on intl, a second on backup, and a third that finds neither free: the third, once settled. */
async function refuseThird(g: ReturnType<typeof gateway>): Promise<ReturnType<ReturnType<typeof gateway>['call']>> {
  g.call();
  await g.srf.attempt(0);
  g.call();
  assert.equal((await g.srf.attempt(1)).uri, BACKUP);
  const refused = g.call();
  await settle();
  return refused;
}

test('call rate: a tenant over its rate gets 503 with Retry-After, a Reason, CDR cause call-rate, a counter and a coded line; it holds no slot', async () => {
  const g = gateway(rated({ pbx: { maxCallsPerSecond: 2, callBurst: 2, maxCalls: 10 } }));
  g.call();
  g.call();
  const third = g.call();
  assert.equal(third.res.status, 503);
  assert.equal(third.res.reasonHeader, 'SIP;cause=503;text="Tenant pbx over its call rate (2 calls a second)"');
  assert.equal(third.res.sent.at(-1)?.opts?.headers?.['Retry-After'], '9');
  await settle();
  assert.equal(g.srf.attempts.length, 2, 'no B leg for the refused call');
  const cdr = g.cdrs().at(-1)!;
  assert.equal(cdr.callId, 'call-3');
  assert.equal(cdr.cause, 'call-rate');
  assert.equal(cdr.status, 503);
  assert.equal(cdr.reason, third.res.reasonHeader);
  assert.equal(g.stats.refusedOverTenantRate, 1);
  assert.equal(g.stats.snapshot().refusedOverTenantRate, 1);
  assert.equal(g.stats.refusedAtTenantLimit, 0);
  assert.ok(g.lines.some((l) => l.code === 'ERR_B2BUA_CALL_RATE' && l.tenant === 'pbx' && l.maxCallsPerSecond === 2));
  assert.equal(g.limits.held('tenant', 'pbx'), 2, 'the refused call took no slot and gave none back');
});

test('call rate: a tenant at its maxCalls and over its rate is refused for its rate, and its slots stay as they were', async () => {
  const g = gateway(rated({ pbx: { maxCallsPerSecond: 1, maxCalls: 1 } }));
  g.call();
  await g.srf.attempt(0);
  const second = g.call();
  assert.equal(second.res.reasonHeader, 'SIP;cause=503;text="Tenant pbx over its call rate (1 call a second)"');
  assert.equal(g.stats.refusedAtTenantLimit, 0);
  assert.equal(g.limits.held('tenant', 'pbx'), 1);
});

test('call rate: the tenant bucket refills with time (fake clock), at a fractional rate', () => {
  const g = gateway(rated({ pbx: { maxCallsPerSecond: 0.5 } }));
  assert.notEqual(g.call().res.status, 503);
  assert.equal(g.call().res.status, 503);
  g.clock.advance(1_999);
  assert.equal(g.call().res.status, 503);
  g.clock.advance(1);
  assert.notEqual(g.call().res.status, 503, 'two seconds later one more call passes');
  assert.equal(g.call().res.status, 503);
  assert.equal(g.stats.refusedOverTenantRate, 3);
});

test('call rate: a dial peer over its rate is passed over for the next dial peer, and refills with time', async () => {
  const g = gateway(rated({ intl: { maxCallsPerSecond: 1 } }));
  g.call();
  assert.equal((await g.srf.attempt(0)).uri, SBC1);
  g.call();
  assert.equal((await g.srf.attempt(1)).uri, BACKUP, 'both targets of intl passed over: backup is tried');
  assert.equal(g.stats.skippedOverRate, 2);
  assert.equal(g.stats.skippedAtLimit, 0);
  assert.ok(g.lines.some((l) => l.code === 'ERR_B2BUA_CALL_RATE' && l.dialPeer === 'intl'));
  g.clock.advance(1_000);
  g.call();
  assert.equal((await g.srf.attempt(2)).uri, SBC1, 'a second later intl has a token again');
});

test('call rate: every dial peer passed over, the first for its rate → 503 naming it, CDR cause call-rate, counters', async () => {
  const g = gateway(rated({ intl: { maxCallsPerSecond: 1 }, backup: { maxCalls: 1 } }));
  const refused = await refuseThird(g);
  assert.equal(g.srf.attempts.length, 2, 'no B leg for the third call');
  assert.equal(refused.res.status, 503);
  assert.equal(refused.res.reasonHeader, 'SIP;cause=503;text="Dial peer intl over its call rate (1 call a second)"');
  assert.equal(refused.res.sent.at(-1)?.opts?.headers?.['Retry-After'], '9');
  const cdr = g.cdrs().at(-1)!;
  assert.equal(cdr.callId, 'call-3');
  assert.equal(cdr.cause, 'call-rate');
  assert.equal(cdr.reason, refused.res.reasonHeader);
  assert.equal(cdr.attempts, 0);
  assert.equal(g.stats.refusedOverTargetRate, 1);
  assert.equal(g.stats.refusedAtTargetLimit, 0);
  assert.equal(g.stats.skippedOverRate, 4);
  assert.equal(g.stats.skippedAtLimit, 1);
  assert.equal(g.limits.held('tenant', 'pbx'), 2, 'the refused call gave its tenant slot back');
  assert.equal(g.limits.held('dialPeer', 'intl'), 1, 'a target passed over for its rate took no slot');
});

test('call rate: the first passed over for its limit names the refusal as call-limit', async () => {
  const g = gateway(rated({ intl: { maxCalls: 1 }, backup: { maxCallsPerSecond: 1 } }));
  const refused = await refuseThird(g);
  assert.equal(refused.res.reasonHeader, 'SIP;cause=503;text="Dial peer intl at its call limit (1 call)"');
  assert.equal(g.cdrs().at(-1)?.cause, 'call-limit');
  assert.equal(g.stats.refusedAtTargetLimit, 1);
  assert.equal(g.stats.refusedOverTargetRate, 0);
});

test('call rate: a token goes with each INVITE sent, none with a target passed over for its limit', async () => {
  const g = gateway(rated({ intl: { maxCallsPerSecond: 1, callBurst: 2, maxCalls: 1 } }));
  g.call();
  const first = await g.srf.attempt(0);
  assert.equal(g.rates.tokens('dialPeer', 'intl'), 1);
  g.call();
  assert.equal((await g.srf.attempt(1)).uri, BACKUP, 'intl at its limit');
  assert.equal(g.rates.tokens('dialPeer', 'intl'), 1, 'passed over at its limit: no token taken');
  first.reject(sipError(503));
  assert.equal((await g.srf.attempt(2)).uri, SBC2, 'the failover to intl\'s second target is an attempt of its own');
  assert.equal(g.rates.tokens('dialPeer', 'intl'), 0);
});
