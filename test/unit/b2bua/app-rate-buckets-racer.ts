// A worker of test/unit/b2bua/app-rate-buckets.test.ts: one b2bua app taking tokens from the shared bucket of tenant
// pbx as fast as it can, at one frozen instant (so nothing refills), while another app does the same. It counts the
// tokens it got in `tally[app]`.
import { workerData, parentPort } from 'node:worker_threads';
import { CallRates } from '../../../src/b2bua/call-rates.js';
import { SharedCallCounts, type SharedCountsInit } from '../../../src/b2bua/app-call-counts.js';
import { ManualClock } from '../../../src/common/clock.js';
import type { B2buaPolicy } from '../../../src/b2bua/policy-types.js';

const { init, policy, app, tries, tally } = workerData as { init: SharedCountsInit; policy: B2buaPolicy; app: number; tries: number; tally: SharedArrayBuffer };
const t = new Int32Array(tally); // [got by app 0, got by app 1, started]
const rates = new CallRates(new ManualClock(1_000), policy, 2, SharedCallCounts.attach(init));
// Both apps start together, so their takes overlap.
Atomics.add(t, 2, 1);
while (Atomics.load(t, 2) < 2);
let got = 0;
for (let i = 0; i < tries; i++) if (rates.take('tenant', 'pbx')) got++;
Atomics.store(t, app, got);
parentPort!.postMessage('done');
