// A caller's CANCEL that comes before createB2BUA has sent its INVITE: the engine answered the caller 487 at once, and
// createB2BUA listens for a CANCEL only once its INVITE is out. The call must stop there: no B leg rings for it.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { buildPipeline, CallLimits, PipelineStats, type B2buaPolicy, type ResolveResult } from '../../../../src/b2bua/index.js';
import { settle, sipError } from '../fake-srf.js';
import { deps, FakeRes, fakeInvite, policy, ScriptedSrf } from '../pipeline-fakes.js';

const CANCEL_REASON = 'SIP;cause=487;text="Caller hung up"';

/** pbx (at most 5 calls) calls +44… on itsp (a dns: name) first, on backup second. */
const p: B2buaPolicy = {
  ...policy,
  tenants: {
    ...policy.tenants,
    pbx: { ...policy.tenants.pbx!, defaultPermissions: { international: true }, maxCalls: 5 },
    itsp: { transport: 'udp', sipServer: 'dns:itsp.example' },
  },
  dialPeers: [
    { id: 'itsp', destinationPattern: '^\\+', tenant: 'itsp', preference: 1, maxCalls: 5 },
    { id: 'backup', destinationPattern: '^\\+', tenant: 'backup', preference: 2 },
  ],
};

/** The whole pipeline, its dns: lookups held until the test answers them; `cancel()` is the caller's CANCEL. */
function gateway() {
  const d = deps(p);
  const limits = new CallLimits(p);
  const stats = new PipelineStats(undefined, limits);
  const srf = new ScriptedSrf();
  const lookups: Array<(r: ResolveResult) => void> = [];
  const resolve = () => new Promise<ResolveResult>((ok) => lookups.push(ok));
  const steps = buildPipeline({ ...d.deps, stats, srf, limits, resolve });
  const events = new EventEmitter();
  const req = Object.assign(fakeInvite({ uri: 'sip:+442071234567@gw.example.com', headers: { From: '<sip:1001@pbx>;tag=1' } }), {
    on: (e: 'cancel', fn: (c?: { get?(n: string): string | undefined }) => void) => events.on(e, fn),
  });
  const res = new FakeRes();
  let i = 0;
  const next = (err?: unknown): void => {
    if (err) throw err;
    steps[i++]?.(req, res, next);
  };
  next();
  const cancel = () => events.emit('cancel', { get: (n: string) => (n === 'Reason' ? CANCEL_REASON : undefined) });
  const cdrs = () => d.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
  const held = () => limits.snapshot();
  return { ...d, stats, srf, lookups, res, cancel, cdrs, held };
}

const resolved: ResolveResult = { ok: true, targets: [{ address: '192.0.2.1', port: 5060, transport: 'udp', domain: 'itsp.example' }] };

test('place-call: a CANCEL while a dns: target resolves places no B leg, tries no other target, and is recorded as the caller\'s', async () => {
  const g = gateway();
  await settle();
  assert.equal(g.lookups.length, 1, 'the name is being resolved');
  assert.deepEqual(g.held().tenants.pbx, { calls: 1, max: 5 });
  g.cancel();
  g.lookups[0]!(resolved);
  await settle();
  assert.equal(g.srf.attempts.length, 0, 'no INVITE for a call the caller cancelled');
  const cdrs = g.cdrs();
  assert.equal(cdrs.length, 1);
  assert.deepEqual([cdrs[0]!.status, cdrs[0]!.cause, cdrs[0]!.releasedBy, cdrs[0]!.reasonIn, cdrs[0]!.attempts], [487, 'cancelled', 'caller', CANCEL_REASON, 0]);
  assert.deepEqual(g.stats.calls.snapshot().failed, { 487: 1 });
  assert.deepEqual([g.held().tenants.pbx, g.held().dialPeers.itsp], [{ calls: 0, max: 5 }, { calls: 0, max: 5 }], 'its call slots went back');
});

test('place-call: a CANCEL before the B leg\'s INVITE is reported sent cancels that INVITE once it is out; no failover', async () => {
  const g = gateway();
  await settle();
  g.lookups[0]!(resolved);
  const a = await g.srf.attempt(0);
  g.cancel();
  let cancels = 0;
  a.cbRequest(null, { cancel: () => void cancels++ });
  assert.equal(cancels, 1, 'the INVITE was cancelled as soon as it was sent');
  a.reject(sipError(487));
  await settle();
  assert.equal(g.srf.attempts.length, 1, 'backup was not tried');
  const cdr = g.cdrs()[0]!;
  assert.deepEqual([cdr.status, cdr.cause, cdr.releasedBy, cdr.reasonIn, cdr.attempts], [487, 'cancelled', 'caller', CANCEL_REASON, 1]);
  assert.deepEqual((cdr.targets as Array<{ outcome: string }>).map((t) => t.outcome), ['cancelled']);
});

test('place-call: a CANCEL after the B leg\'s INVITE is out is left to createB2BUA, which passes it on with its Reason', async () => {
  const g = gateway();
  await settle();
  g.lookups[0]!(resolved);
  const a = await g.srf.attempt(0);
  let cancels = 0;
  a.cbRequest(null, { cancel: () => void cancels++ });
  g.cancel();
  assert.equal(cancels, 0, 'not cancelled a second time by the gateway');
  a.reject(sipError(503));
  await settle();
  assert.equal(g.srf.attempts.length, 1, 'a failover status after the CANCEL tries no other target');
  assert.deepEqual([g.cdrs()[0]!.status, g.cdrs()[0]!.cause], [487, 'cancelled']);
});
