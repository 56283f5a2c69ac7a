import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/**
 * Tests only (NODE_ENV `test`): TRUNKGATE_TEST_APP_FAULT=`terminate:<ms>` terminates app worker 1, the first time it
 * runs, that long after it connected: the worker goes with no exit handler run, as one out of memory does. The
 * faults a worker injects in itself are in app-worker.ts (injectTestFault).
 */
export function armTerminateFault(slot: { index: number; starts: number }, worker: Worker, log: Logger): void {
  const m = /^terminate:(\d{1,6})$/.exec(process.env.TRUNKGATE_TEST_APP_FAULT ?? '');
  if (process.env.NODE_ENV !== 'test' || !m || slot.index !== 1 || slot.starts !== 1) return;
  log.warn({ fault: m[0], app: slot.index }, 'app pool: test fault armed');
  setTimeout(() => void worker.terminate(), Number(m[1])).unref();
}
