// The app pool's start settles when a worker stops before it connects (src/b2bua/workers/app-pool.ts): it rejects at
// once, naming the worker, with every app closed again, and no worker is started again meanwhile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatewayError } from '../../src/common/index.js';
import { poolRig } from '../support/app-pool-rig.js';
import { until } from '../support/until.js';

test('an app worker that exits before it connects fails the pool\'s start at once, and no app is left on the engine', { timeout: 30_000 }, async (t) => {
  // A log level pino does not know: the worker throws as it starts, before it connects (the main app does not).
  const rig = await poolRig(t, { apps: 2, farPort: 9, logLevel: 'no-such-level', startTimeoutMs: 20_000 });
  const outcome = await Promise.race([
    rig.started.then(() => 'resolved', (e: unknown) => e),
    new Promise((r) => setTimeout(r, 15_000, 'pending after 15 s')),
  ]);
  assert.ok(isGatewayError(outcome), `the start rejects: ${String(outcome)}`);
  assert.equal(outcome.code, 'ERR_B2BUA_WORKER');
  // Not the start timeout (20 s): the worker's exit.
  assert.match(outcome.message, /^app worker 1 exited \(1\) before it connected$/);
  await until(() => rig.engine.registry.size === 0, 'every app gone from the engine');
  assert.equal(rig.records.filter((l) => /starting it again/.test(String(l.msg))).length, 0, 'no restart while the pool starts');
});
