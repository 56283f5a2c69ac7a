import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { supervise } from '../../src/engine/worker.js';
import type { EngineWorkerFailure } from '../../src/engine/worker-types.js';

/** The supervision of the engine worker, on real worker threads that die the ways an engine worker can. */

const failureOf = async (code: string): Promise<{ failures: EngineWorkerFailure[]; worker: Worker; watch: ReturnType<typeof supervise> }> => {
  const worker = new Worker(code, { eval: true });
  const watch = supervise(worker);
  const failures: EngineWorkerFailure[] = [];
  watch.listeners.push((f) => failures.push(f));
  // events.once would reject on the worker's 'error': wait for the exit itself.
  await new Promise<void>((ok) => worker.once('exit', () => ok()));
  return { failures, worker, watch };
};

test('a worker that exits on its own is reported once, with its code and exit code', async () => {
  const { failures } = await failureOf('process.exit(3)');
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.code, 'ERR_ENGINE_WORKER_EXITED');
  assert.equal(failures[0]!.exitCode, 3);
});

test('a worker that throws is reported once as crashed (not again for the exit that follows)', async () => {
  const { failures } = await failureOf('setTimeout(() => { throw new Error("boom") }, 10)');
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.code, 'ERR_ENGINE_WORKER_CRASHED');
  assert.match(String((failures[0]!.err as Error).message), /boom/);
});

test('a worker ended by close() is no failure', async () => {
  const worker = new Worker('setInterval(() => undefined, 1000)', { eval: true });
  const watch = supervise(worker);
  const failures: EngineWorkerFailure[] = [];
  watch.listeners.push((f) => failures.push(f));
  await once(worker, 'online');
  watch.closing = true;
  await worker.terminate();
  assert.deepEqual(failures, []);
});
