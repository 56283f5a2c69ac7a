// A worker of test/unit/b2bua/app-call-counts.test.ts: one b2bua app's CallLimits on the shared counts, taking and
// giving back slots on tenant pbx as fast as it can (as many as it gets, then all back) while another app does the same. `inUse` counts the slots taken
// and not yet given back by both apps together; `peak` records the most seen.
import { workerData, parentPort } from 'node:worker_threads';
import { CallLimits } from '../../../src/b2bua/call-limits.js';
import { SharedCallCounts, type SharedCountsInit } from '../../../src/b2bua/app-call-counts.js';
import type { B2buaPolicy } from '../../../src/b2bua/policy-types.js';

const { init, policy, apps, rounds, tally } = workerData as { init: SharedCountsInit | undefined; policy: B2buaPolicy; apps: number; rounds: number; tally: SharedArrayBuffer };
const t = new Int32Array(tally); // [inUse, peak, admitted, started]
const limits = new CallLimits(policy, apps, init ? SharedCallCounts.attach(init) : undefined);
// Both apps start together, so their takes overlap.
Atomics.add(t, 3, 1);
while (Atomics.load(t, 3) < 2);
const held: { release(): void }[] = [];
for (let r = 0; r < rounds; r++) {
  // Take slots until one is refused (each app alone could hold all 3), then give them all back.
  for (let slot = limits.take('tenant', 'pbx'); slot !== undefined; slot = limits.take('tenant', 'pbx')) {
    held.push(slot);
    const now = Atomics.add(t, 0, 1) + 1;
    for (let peak = Atomics.load(t, 1); now > peak; peak = Atomics.load(t, 1)) Atomics.compareExchange(t, 1, peak, now);
    Atomics.add(t, 2, 1);
  }
  for (const slot of held) {
    Atomics.sub(t, 0, 1);
    slot.release();
  }
  held.length = 0;
}
parentPort!.postMessage('done');
