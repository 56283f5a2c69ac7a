import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LoadSampler } from '../../../src/engine/load-sampler.js';
import type { LoadWindow } from '../../../src/engine/overload.js';

test('the backlog\'s wait is reckoned over the window as it lasted, not its nominal length, when the thread runs late', async () => {
  // The engine reads 2.5 datagrams a millisecond while 1,000 wait in the kernel: they wait 400 ms, however long
  // the window the sampler measured that rate over.
  const t0 = performance.now();
  const windows: LoadWindow[] = [];
  const s = new LoadSampler((w) => windows.push(w), {
    windowMs: 100, tickMs: 10,
    queue: () => ({ queuedBytes: 1_000 * 1_280, drops: 0 }),
    datagramsRead: () => Math.floor((performance.now() - t0) * 2.5),
  });
  try {
    // A thread blocked 300 ms inside the window: the window lasts at least that long.
    await new Promise((r) => setTimeout(r, 20));
    const until = performance.now() + 300;
    while (performance.now() < until);
    for (let i = 0; i < 200 && windows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const w = windows[0]!;
    assert.ok(w.queueMs !== undefined);
    assert.ok(w.queueMs >= 300 && w.queueMs <= 500, `1,000 datagrams at 2.5/ms wait about 400 ms, not ${w.queueMs}`);
  } finally {
    s.close();
  }
});
