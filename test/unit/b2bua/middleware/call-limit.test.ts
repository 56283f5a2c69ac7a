import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPipeline, CallLimits, PipelineStats, type B2buaPolicy } from '../../../../src/b2bua/index.js';
import { settle, sipError } from '../fake-srf.js';
import { deps, FakeDialog, FakeRes, fakeInvite, policy, run, ScriptedSrf } from '../pipeline-fakes.js';

/** pbx calls carrier (intl, two targets) first, backup (intl-backup) second, for numbers starting with +. */
function limited(o: { pbx?: number; intl?: number; backup?: number; carrier?: number } = {}): B2buaPolicy {
  const max = (n: number | undefined) => (n !== undefined ? { maxCalls: n } : {});
  return {
    ...policy,
    retryAfterSeconds: 9,
    tenants: {
      ...policy.tenants,
      pbx: { ...policy.tenants.pbx!, defaultPermissions: { international: true }, ...max(o.pbx) },
      carrier: { ...policy.tenants.carrier!, ...max(o.carrier) },
    },
    dialPeers: policy.dialPeers.map((d) => (d.id === 'intl' ? { ...d, ...max(o.intl) } : d.id === 'intl-backup' ? { ...d, ...max(o.backup) } : d)),
  };
}

/** The whole pipeline with call limits, as start-b2bua builds it; `call()` sends one INVITE from pbx through it. */
function gateway(p: B2buaPolicy) {
  const d = deps(p);
  const limits = new CallLimits(p);
  const stats = new PipelineStats(undefined, limits);
  const srf = new ScriptedSrf();
  const steps = buildPipeline({ ...d.deps, stats, srf, limits });
  let n = 0;
  const call = (number = '+442071234567') => {
    const cancels: Array<() => void> = [];
    const req = fakeInvite({ uri: `sip:${number}@gw.example.com`, headers: { 'Call-ID': `call-${++n}` } });
    req.on = (_e, fn) => cancels.push(() => fn());
    const res = new FakeRes();
    run(steps, req, res);
    return { req, res, cancel: () => cancels.forEach((f) => f()) };
  };
  const cdrs = () => d.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
  return { ...d, stats, limits, srf, call, cdrs };
}

test('call limit: a tenant at its maxCalls gets 503 with Retry-After, a Reason, a CDR and a coded line; the calls it holds stay held', async () => {
  const g = gateway(limited({ pbx: 1 }));
  g.call();
  await g.srf.attempt(0);
  const second = g.call();
  assert.equal(second.res.status, 503);
  assert.equal(second.res.reasonHeader, 'SIP;cause=503;text="Tenant pbx at its call limit (1 call)"');
  assert.equal(second.res.sent.at(-1)?.opts?.headers?.['Retry-After'], '9');
  assert.equal(g.srf.attempts.length, 1, 'no B leg for the refused call');
  const cdr = g.cdrs().at(-1)!;
  assert.equal(cdr.cause, 'call-limit');
  assert.equal(cdr.status, 503);
  assert.equal(cdr.callId, 'call-2');
  assert.equal(cdr.reason, second.res.reasonHeader);
  assert.ok(g.lines.some((l) => l.code === 'ERR_B2BUA_CALL_LIMIT' && l.tenant === 'pbx' && l.maxCalls === 1));
  assert.equal(g.stats.refusedAtTenantLimit, 1);
  assert.deepEqual(g.stats.calls.snapshot().failed, { 503: 1 });
  assert.equal(g.limits.held('tenant', 'pbx'), 1, 'the refusal gave back nothing it had not taken');
  assert.deepEqual(g.stats.snapshot().callLimits, { tenants: { pbx: { calls: 1, max: 1 } }, dialPeers: {} });
});

test('call limit: a call refused later in the pipeline (no route) gives its tenant slot back', () => {
  const g = gateway(limited({ pbx: 1 }));
  const noRoute = g.call('12');
  assert.equal(noRoute.res.status, 404);
  assert.equal(g.limits.held('tenant', 'pbx'), 0);
  g.call();
  assert.equal(g.limits.held('tenant', 'pbx'), 1, 'the next call is admitted');
});

test('call limit: a dial peer at its maxCalls is passed over for the next dial peer, counted per target', async () => {
  const g = gateway(limited({ intl: 1 }));
  g.call();
  assert.equal((await g.srf.attempt(0)).uri, 'sips:+442071234567@sbc1.carrier.example:5061;transport=tls');
  g.call();
  const second = await g.srf.attempt(1);
  assert.equal(second.uri, 'sip:+442071234567@192.0.2.10:5060', 'both targets of intl passed over: backup is tried');
  assert.equal(g.stats.skippedAtLimit, 2);
  assert.equal(g.limits.held('dialPeer', 'intl'), 1);
  assert.equal(g.limits.held('dialPeer', 'intl-backup'), 1);
  assert.ok(g.lines.some((l) => l.code === 'ERR_B2BUA_CALL_LIMIT' && l.dialPeer === 'intl'));
});

test('call limit: a target tenant at its maxCalls is passed over like its dial peer', async () => {
  const g = gateway(limited({ carrier: 1 }));
  g.call();
  await g.srf.attempt(0);
  g.call();
  assert.equal((await g.srf.attempt(1)).uri, 'sip:+442071234567@192.0.2.10:5060');
  assert.equal(g.limits.held('tenant', 'carrier'), 1);
  assert.equal(g.limits.held('dialPeer', 'intl'), 1, 'the dial peer slot of the passed-over leg went back');
});

test('call limit: every dial peer at its limit → 503 with Retry-After and a Reason naming the first, CDR cause call-limit', async () => {
  const g = gateway(limited({ intl: 1, backup: 1 }));
  g.call();
  await g.srf.attempt(0);
  g.call();
  assert.equal((await g.srf.attempt(1)).uri, 'sip:+442071234567@192.0.2.10:5060');
  const refused = g.call();
  await settle();
  assert.equal(g.srf.attempts.length, 2, 'no B leg for the third call');
  assert.equal(refused.res.status, 503);
  assert.equal(refused.res.reasonHeader, 'SIP;cause=503;text="Dial peer intl at its call limit (1 call)"');
  assert.equal(refused.res.sent.at(-1)?.opts?.headers?.['Retry-After'], '9');
  const cdr = g.cdrs().at(-1)!;
  assert.equal(cdr.callId, 'call-3');
  assert.equal(cdr.cause, 'call-limit');
  assert.equal(cdr.reason, refused.res.reasonHeader);
  assert.equal(cdr.attempts, 0);
  assert.deepEqual(cdr.targets, [], 'a target passed over is no attempt, as a trunk found down');
  assert.equal(g.stats.refusedAtTargetLimit, 1);
  assert.equal(g.stats.skippedAtLimit, 5, 'two targets for the second call, three for the third');
  assert.ok(g.lines.some((l) => l.code === 'ERR_B2BUA_CALL_LIMIT' && String(l.msg).includes('every target')));
  assert.equal(g.limits.held('tenant', 'pbx'), 2, 'the refused call gave its tenant slot back');
  assert.deepEqual(g.stats.snapshot().callLimits?.dialPeers, { intl: { calls: 1, max: 1 }, 'intl-backup': { calls: 1, max: 1 } });
});

test('call limit: a failed attempt gives its slots back before the next target of the same dial peer is tried', async () => {
  const g = gateway(limited({ intl: 1, carrier: 1 }));
  g.call();
  const first = await g.srf.attempt(0);
  assert.equal(g.limits.held('dialPeer', 'intl'), 1);
  first.reject(sipError(503));
  const second = await g.srf.attempt(1);
  assert.equal(second.uri, 'sips:+442071234567@sbc2.carrier.example:5061;transport=tls', 'intl\'s second target, not passed over');
  assert.equal(g.limits.held('dialPeer', 'intl'), 1);
  assert.equal(g.limits.held('tenant', 'carrier'), 1);
  assert.equal(g.stats.skippedAtLimit, 0);
  second.reject(Object.assign(sipError(486), { reason: 'Busy Here' }));
  await settle();
  assert.deepEqual([g.limits.held('tenant', 'pbx'), g.limits.held('dialPeer', 'intl'), g.limits.held('tenant', 'carrier')], [0, 0, 0]);
});

test('call limit: a CANCEL from the caller gives every slot back', async () => {
  const g = gateway(limited({ pbx: 1, intl: 1 }));
  const c = g.call();
  const a = await g.srf.attempt(0);
  c.cancel();
  a.reject(sipError(487));
  await settle();
  assert.equal(g.cdrs().at(-1)?.cause, 'cancelled');
  assert.equal(g.stats.refusedAtTargetLimit, 0);
  assert.deepEqual([g.limits.held('tenant', 'pbx'), g.limits.held('dialPeer', 'intl'), g.limits.held('tenant', 'carrier')], [0, 0, 0]);
  g.call();
  await g.srf.attempt(1);
});

test('call limit: an answered call keeps its slots until it ends, then gives them back once', async () => {
  const g = gateway(limited({ pbx: 1, intl: 1 }));
  g.call();
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  (await g.srf.attempt(0)).resolve({ uas, uac });
  await settle();
  assert.equal(g.stats.calls.connected, 1);
  assert.deepEqual([g.limits.held('tenant', 'pbx'), g.limits.held('dialPeer', 'intl'), g.limits.held('tenant', 'carrier')], [1, 1, 1]);
  assert.equal(g.call().res.status, 503, 'pbx is at its limit while the call is up');
  uac.connected = false;
  uac.emit('destroy');
  await settle();
  assert.equal(g.cdrs().at(-1)?.cause, 'normal');
  assert.deepEqual([g.limits.held('tenant', 'pbx'), g.limits.held('dialPeer', 'intl'), g.limits.held('tenant', 'carrier')], [0, 0, 0]);
  g.call();
  assert.equal((await g.srf.attempt(1)).uri, 'sips:+442071234567@sbc1.carrier.example:5061;transport=tls', 'a new call takes intl again');
});
