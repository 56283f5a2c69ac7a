import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketUpperUs, DurationHistogram, quantileMs, StageTimes } from '../../../src/engine/core/stage-times.js';

test('DurationHistogram: each value lands in the bucket whose bound is at most 19% above it; quantiles read the bounds', () => {
  const h = new DurationHistogram();
  for (let i = 0; i < 98; i++) h.record(100);
  h.record(5_000);
  h.record(0.5);
  const s = h.summary();
  assert.equal(s.count, 100);
  assert.ok(s.p50Ms >= 0.1 && s.p50Ms <= 0.1 * 1.19, `p50 ${s.p50Ms}`);
  assert.ok(s.p99Ms >= 0.1 && s.p99Ms <= 0.119, `p99 ${s.p99Ms}: 99 of 100 values are at most 100 µs`);
  assert.equal(s.maxMs, 5);
  assert.ok(Math.abs(s.meanMs - (98 * 100 + 5_000 + 0.5) / 100 / 1000) < 1e-12);
  assert.equal(s.buckets.reduce((a, b) => a + b, 0), 100);
  assert.equal(s.buckets[0], 1, 'under 1 µs');
  for (const us of [1, 3, 1_000, 123_456]) {
    const one = new DurationHistogram();
    one.record(us);
    const i = one.summary().buckets.findIndex((n) => n === 1);
    assert.ok(bucketUpperUs(i) >= us && bucketUpperUs(i) <= us * 1.19 + 1e-9, `${us} µs in a bucket up to ${bucketUpperUs(i)}`);
  }
  assert.equal(new DurationHistogram().summary().p99Ms, 0, 'empty');
});

test('quantileMs works on the difference of two readings (a window of its own)', () => {
  const h = new DurationHistogram();
  for (let i = 0; i < 1000; i++) h.record(10_000);
  const before = h.summary().buckets;
  for (let i = 0; i < 10; i++) h.record(200);
  const after = h.summary().buckets;
  const window = after.map((n, i) => n - before[i]!);
  assert.ok(quantileMs(window, 0.99) < 0.25, 'the window holds only the 200 µs values');
});

test('StageTimes: the marks of one message in hand feed parse, trying and ingress; the app and egress stages come from their own times', () => {
  const s = new StageTimes();
  {
    s.parsed();
    s.trying();
    assert.equal(s.summary().stages.parse.count, 0, 'no message in hand, nothing recorded');
    s.received();
    s.parsed();
    s.trying();
    const handed = s.handedToApp();
    s.answered(handed - 5);
    s.sent(performance.now() - 2);
    const st = s.summary().stages;
    assert.deepEqual([st.parse.count, st.trying.count, st.ingress.count, st.app.count, st.egress.count], [1, 1, 1, 1, 1]);
    assert.ok(st.app.maxMs >= 5 && st.egress.maxMs >= 2);
  }
});
