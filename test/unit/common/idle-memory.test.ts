// test: own process (it measures this process's heap and event loop; scripts/test.mjs)
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { forceGc } from '../../support/gc.js';
import { startIdleMemoryRelease } from '../../../src/common/idle-memory.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Grows the heap by tens of MiB of short-lived objects. */
function burst(): number {
  let n = 0;
  for (let r = 0; r < 20; r++) {
    const a: object[] = [];
    for (let i = 0; i < 100_000; i++) a.push({ i, s: `x${i}` });
    n += a.length;
  }
  return n;
}

/** Holds about a million objects at once, then lets them go: the heap grows by tens of MiB and keeps it. */
function grow(): number {
  const all: object[][] = [];
  for (let r = 0; r < 10; r++) all.push(Array.from({ length: 100_000 }, (_, i) => ({ i, s: `y${i}` })));
  return all.length;
}

test('a heap grown by a burst is given back once the thread is idle, and a busy thread is left alone', async () => {
  const busyRelease = startIdleMemoryRelease({ everyMs: 50, minGrowthBytes: 1024 * 1024 });
  // Busy: 30 ms of work at a time with only a turn of the event loop between, for half a second: every look
  // lands on a busy stretch.
  let spins = 0;
  for (const end = Date.now() + 500; Date.now() < end;) {
    for (const stop = Date.now() + 30; Date.now() < stop;) spins += burst() > 0 ? 1 : 0;
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(busyRelease.stats().releases, 0, `no release during ${spins} busy bursts`);
  busyRelease.stop();

  // The busy bursts may leave the heap expanded (more of them promoted when the machine is slow), and a release
  // starts from the heap it finds: collect first, so that growing it below is growth whatever the bursts left.
  forceGc();
  const release = startIdleMemoryRelease({ everyMs: 50, minGrowthBytes: 1024 * 1024 });
  grow();
  const grown = getHeapStatistics().total_heap_size;
  // Up to 10 s: a look needs a quiet 50 ms, which a machine busy with other test files may take a while to give.
  for (let i = 0; i < 200 && release.stats().releases === 0; i++) await sleep(50);
  release.stop();
  const s = release.stats();
  assert.equal(s.releases, 1, 'one release once idle');
  assert.ok(s.freedBytes > 0, 'it gave heap back');
  assert.ok(getHeapStatistics().total_heap_size < grown, 'the heap is smaller than the burst left it');
});

test('an idle thread whose heap holds much more than it uses is collected once the quiet time has passed, grown or not', async () => {
  // A growth bar no burst reaches: only the quiet-time path can release.
  const bar = startIdleMemoryRelease({ everyMs: 50, minGrowthBytes: 1024 ** 3, minSlackBytes: 1024 * 1024, quietReleaseMs: 150 });
  grow();
  for (let i = 0; i < 200 && bar.stats().releases === 0; i++) await sleep(50);
  bar.stop();
  assert.ok(bar.stats().releases >= 1, 'the slack was collected after the quiet time');
});
