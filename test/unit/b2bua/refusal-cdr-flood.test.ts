// The whole pipeline, as start-b2bua builds it, under a flood the call-rate limiter sheds: the calls it refuses get
// their 503 and counters, but CDRs and `cdr` lines only within gateway.limits.refusalCdrsPerSecond. Calls that
// reached a B leg always have their CDR, however empty the bucket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPipeline, CallLimits, CallRates, PipelineStats, type B2buaPolicy, type CdrRecord } from '../../../src/b2bua/index.js';
import { RefusalCdrBucket } from '../../../src/b2bua/refusal-cdr-bucket.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { settle, sipError } from './fake-srf.js';
import { deps, FakeDialog, FakeRes, fakeInvite, policy, run, ScriptedSrf } from './pipeline-fakes.js';

/** pbx may call +44… (carrier first), at most `perSecond` new calls a second. */
function rated(perSecond: number): B2buaPolicy {
  return {
    ...policy,
    tenants: { ...policy.tenants, pbx: { ...policy.tenants.pbx!, defaultPermissions: { international: true }, maxCallsPerSecond: perSecond, callBurst: perSecond } },
  };
}

function gateway(p: B2buaPolicy, refusalCdrsPerSecond: number) {
  const d = deps(p);
  const limits = new CallLimits(p);
  const rates = new CallRates(d.clock, p);
  const stats = new PipelineStats(undefined, limits, rates);
  const srf = new ScriptedSrf();
  const refusalCdrs = new RefusalCdrBucket({ perSecond: refusalCdrsPerSecond, clock: d.clock, log: d.deps.log });
  const records: CdrRecord[] = [];
  const steps = buildPipeline({
    ...d.deps, stats, srf, limits, rates, refusalCdrs, refusals: new RateLimitedLog(d.deps.log, d.clock, { intervalMs: 10_000 }),
    onCdr: (r) => records.push(r),
  });
  let n = 0;
  const call = (number = '+442071234567') => {
    const req = fakeInvite({ uri: `sip:${number}@gw.example.com`, headers: { 'Call-ID': `call-${++n}` } });
    req.on = () => {};
    const res = new FakeRes();
    run(steps, req, res);
    return res;
  };
  const cdrLines = () => d.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
  return { ...d, stats, srf, refusalCdrs, records, call, cdrLines };
}

test('refusal CDRs: 1,000 INVITEs at a tenant allowing 1 a second: 999 refused 503, 100 of them with a CDR, one coded line', async () => {
  const g = gateway(rated(1), 50);
  const answers = Array.from({ length: 1_000 }, () => g.call());
  await settle();
  assert.equal(g.srf.attempts.length, 1, 'the one call within the rate has its B leg');
  const refused = answers.filter((r) => r.status === 503);
  assert.equal(refused.length, 999);
  for (const r of refused) assert.match(r.reasonHeader ?? '', /^SIP;cause=503;text="Tenant pbx over its call rate/);
  assert.equal(g.stats.refusedOverTenantRate, 999, 'every refusal counted');
  assert.equal(g.stats.calls.snapshot().failed[503], 999);
  assert.equal(g.records.length, 100, 'the burst: twice the rate');
  assert.equal(g.cdrLines().length, 100);
  assert.ok(g.cdrLines().every((c) => c.cause === 'call-rate'));
  assert.deepEqual(g.refusalCdrs.counts(), { written: 100, dropped: 899 });
  const coded = g.lines.filter((l) => l.code === 'ERR_B2BUA_REFUSAL_CDR_RATE');
  assert.equal(coded.length, 1);
  assert.equal(g.lines.filter((l) => (l.level as number) >= 30).length, 100 + 1 + 1,
    'above debug: the 100 cdr lines, the ERR_B2BUA_CALL_RATE line and the ERR_B2BUA_REFUSAL_CDR_RATE line');

  // The tokens come back with time: a second on, one call more passes the rate and 50 more refusals have their CDR.
  g.clock.advance(1_000);
  for (let i = 0; i < 200; i++) g.call();
  await settle();
  assert.equal(g.srf.attempts.length, 2);
  assert.deepEqual(g.refusalCdrs.counts(), { written: 150, dropped: 899 + 149 });
  assert.equal(g.cdrLines().length, 150);
});

test('refusal CDRs: calls that reached a B leg have their CDR with the bucket empty: failed after an attempt, and answered', async () => {
  const g = gateway(rated(1_000), 1);
  // Two refusals (no route) take the burst of 2; the third is dropped.
  for (let i = 0; i < 3; i++) assert.equal(g.call('9999').status, 404);
  assert.deepEqual(g.refusalCdrs.counts(), { written: 2, dropped: 1 });

  // Ten calls whose every B leg refuses them: each has its CDR with its attempts, none asks the bucket.
  for (let i = 0; i < 10; i++) {
    const res = g.call();
    (await g.srf.attempt(3 * i)).reject(sipError(503));
    (await g.srf.attempt(3 * i + 1)).reject(sipError(503));
    (await g.srf.attempt(3 * i + 2)).reject(sipError(486));
    await settle();
    assert.equal(res.status, 486);
  }
  // And one answered, then hung up.
  g.call();
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  (await g.srf.attempt(30)).resolve({ uas, uac });
  await settle();
  uac.connected = false;
  uac.emit('destroy');
  await settle();

  const withLegs = g.records.filter((r) => r.attempts > 0);
  assert.equal(withLegs.length, 11);
  assert.deepEqual(withLegs.map((r) => r.status), [...Array<number>(10).fill(486), 200]);
  assert.deepEqual(g.refusalCdrs.counts(), { written: 2, dropped: 1 }, 'calls with a B leg are not counted against the bucket');
  assert.equal(g.cdrLines().length, 2 + 11);
});
