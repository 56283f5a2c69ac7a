// An app worker's environment is process.env as this thread sees it when the worker starts (src/common/product-files.ts):
// once a pool has started, this thread's process.env is a plain copy (src/b2bua/plain-environment.ts), and a worker
// given Node's default would get the C runtime's environment instead, without what was set since.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolRig } from '../support/app-pool-rig.js';
import { until } from '../support/until.js';

test('a worker started after the pool swapped process.env gets the variables set since', { timeout: 60_000 }, async (t) => {
  const first = await poolRig(t, { apps: 1, farPort: 9 });
  await first.started;
  // A variable set after that swap: the fault of the next pool's worker 1 (TRUNKGATE_TEST_APP_FAULT, set by the rig).
  const rig = await poolRig(t, { apps: 2, farPort: 9, fault: 'crash:50' });
  await rig.started;
  await until(() => rig.records.some((l) => l.code === 'ERR_B2BUA_WORKER' && /^b2bua: app worker 1 stopped/.test(String(l.msg))),
    'worker 1 armed its fault and stopped', 20_000);
});
