// Calls the b2bua refuses before any B leg get a CDR and a `cdr` line only within gateway.limits.refusalCdrsPerSecond
// (burst twice that, each app a share): the rest are answered and counted as before, counted as dropped, and one
// ERR_B2BUA_REFUSAL_CDR_RATE line a minute says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { refuseCall, type CdrRecord } from '../../../src/b2bua/cdr.js';
import { plainCallLocals } from '../../../src/b2bua/call-locals.js';
import { CallStats } from '../../../src/b2bua/call-stats.js';
import { RefusalCdrBucket } from '../../../src/b2bua/refusal-cdr-bucket.js';
import { sipReason } from '../../../src/b2bua/reason.js';
import { captureLog } from './fake-srf.js';
import { FakeRes, fakeInvite } from './pipeline-fakes.js';

const CODE = 'ERR_B2BUA_REFUSAL_CDR_RATE';

function rig(o: { perSecond?: number; apps?: number } = {}) {
  const { log, lines } = captureLog();
  const clock = new ManualClock(1_700_000_000_000);
  const bucket = new RefusalCdrBucket({ ...o, clock, log });
  const calls = new CallStats();
  const records: CdrRecord[] = [];
  let n = 0;
  /** One new INVITE refused with `status` by a pipeline step, as refuseCall does it. */
  const refuse = (status: number) => {
    const req = fakeInvite({ headers: { 'Call-ID': `flood-${++n}` } });
    req.locals = plainCallLocals(req, { log, startedAt: clock.now(), onCdr: (r) => records.push(r), refusalCdrs: bucket });
    const res = new FakeRes();
    refuseCall(clock, calls, req, res, status, sipReason(status, status === 503 ? 'Tenant pbx over its call rate' : 'No route'), status === 503 ? 'call-rate' : 'no-route');
    return res;
  };
  const cdrLines = () => lines.filter((l) => l.msg === 'cdr').length;
  const rateLines = () => lines.filter((l) => l.code === CODE && l.level === 40);
  return { clock, bucket, calls, records, refuse, cdrLines, rateLines, lines };
}

test('refusal CDRs: 300 refusals in one instant at 50 a second: 100 CDRs (the burst), 200 dropped, one coded line; every caller has its answer', () => {
  const r = rig({ perSecond: 50 });
  const answers = Array.from({ length: 300 }, (_, i) => r.refuse(i % 2 === 0 ? 503 : 404));
  for (const [i, res] of answers.entries()) {
    assert.equal(res.status, i % 2 === 0 ? 503 : 404, `caller ${i} got its status`);
    assert.match(res.reasonHeader ?? '', /^SIP;cause=(503|404);text="/, `caller ${i} got its Reason`);
  }
  assert.deepEqual(r.calls.snapshot().failed, { 404: 150, 503: 150 }, 'every refusal counted under its status');
  assert.equal(r.records.length, 100);
  assert.equal(r.cdrLines(), 100);
  assert.deepEqual(r.bucket.counts(), { written: 100, dropped: 200 });
  assert.equal(r.rateLines().length, 1);
  assert.equal(r.rateLines()[0]!.perSecond, 50);
  assert.equal(r.lines.filter((l) => (l.level as number) >= 30).length, 101, 'info and above: 100 cdr lines and one warn');

  // A second later the bucket has earned 50 tokens: 50 more records, the rest dropped; still the one line this minute.
  r.clock.advance(1_000);
  for (let i = 0; i < 300; i++) r.refuse(503);
  assert.deepEqual(r.bucket.counts(), { written: 150, dropped: 450 });
  assert.equal(r.records.length, 150);
  assert.equal(r.rateLines().length, 1);

  // A minute on, the next drop says so again, with the count so far.
  r.clock.advance(60_000);
  for (let i = 0; i < 101; i++) r.refuse(503);
  assert.equal(r.rateLines().length, 2);
  assert.equal(r.rateLines()[1]!.refusalCdrsDropped, 451);
});

test('refusal CDRs: with 4 apps each takes its share, 50 / 4 a second and a burst of ceil(100 / 4)', () => {
  const r = rig({ perSecond: 50, apps: 4 });
  assert.equal(r.bucket.sharePerSecond, 12.5);
  assert.equal(r.bucket.shareBurst, 25);
  for (let i = 0; i < 100; i++) r.refuse(503);
  assert.deepEqual(r.bucket.counts(), { written: 25, dropped: 75 });
  r.clock.advance(2_000);
  for (let i = 0; i < 100; i++) r.refuse(503);
  assert.deepEqual(r.bucket.counts(), { written: 50, dropped: 150 });
});

test('refusal CDRs: 0 turns them off: every refusal answered and counted, none recorded, no warn line', () => {
  const r = rig({ perSecond: 0 });
  const res = r.refuse(503);
  assert.equal(res.status, 503);
  assert.deepEqual(r.bucket.counts(), { written: 0, dropped: 1 });
  assert.equal(r.records.length, 0);
  assert.equal(r.rateLines().length, 0);
});

test('refusal CDRs: the default is the engine\'s, 50 a second with a burst of 100', () => {
  const r = rig();
  for (let i = 0; i < 150; i++) r.refuse(404);
  assert.deepEqual(r.bucket.counts(), { written: 100, dropped: 50 });
});
