import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadLoad } from '../../../src/common/thread-load.js';

test('ThreadLoad counts the busy time of this thread\'s event loop and its garbage collections', async () => {
  const load = new ThreadLoad();
  try {
    const before = load.snapshot();
    await new Promise((r) => setTimeout(r, 20));
    const t = Date.now();
    while (Date.now() - t < 60) { /* busy */ }
    let keep = 0;
    for (let i = 0; i < 200; i++) keep += Array.from({ length: 10_000 }, (_, j) => ({ j })).length;
    await new Promise((r) => setTimeout(r, 20));
    const after = load.snapshot();
    assert.ok(after.busyMs - before.busyMs >= 55, `busy ${after.busyMs - before.busyMs} ms`);
    assert.ok(after.idleMs >= before.idleMs);
    assert.ok(after.gc.count > before.gc.count, `${keep} objects made and dropped: at least one collection`);
    assert.ok(Math.abs(after.gc.ms - after.gc.minorMs - after.gc.majorMs) < 1e-6, 'every collection is minor or major');
  } finally {
    load.close();
  }
});
