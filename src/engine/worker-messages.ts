import type { Worker } from 'node:worker_threads';
import { GatewayError } from '../common/index.js';
import type { ConnectionInfo, ListenerRetry } from '../sip/transport/index.js';
import type { ProfileInput, ReloadResult } from '../tls/index.js';
import type { EngineAddresses } from './engine-options.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import type { RefusalRecord } from './refusal-record.js';
import type { SourceTrustOptions, TrustReloadResult } from './source-trust.js';
import type { EngineWorkerErrorCode, EngineWorkerFailure } from './worker-types.js';

// The messages between the engine worker (worker.ts) and the thread that started it, and that thread's side of them:
// supervision, questions answered by id, and the close.

/** What the gateway's thread tells the engine worker. */
export type ToWorker = { type: 'close' } | { type: 'listen' } | { type: 'reloadTls'; id: number; profiles: ProfileInput[] } | { type: 'snapshot'; id: number }
  | { type: 'closeConnection'; id: number; connection: string } | { type: 'drain'; retryAfterSeconds: number }
  | { type: 'reloadTrust'; id: number; plan: SourceTrustOptions } | { type: 'retryListeners'; id: number } | { type: 'retryAfter'; seconds: number };
/** What the engine worker tells the gateway's thread: answers by id, and each turn's records of refused INVITEs. */
export type FromWorker =
  | { type: 'started'; addresses: EngineAddresses }
  | { type: 'failed'; code: string; message: string }
  | { type: 'reloaded'; id: number; result: ReloadResult }
  | { type: 'trustReloaded'; id: number; result: TrustReloadResult }
  | { type: 'listenersRetried'; id: number; result: ListenerRetry }
  | { type: 'snapshot'; id: number; snapshot: EngineSnapshot }
  | { type: 'connectionClosed'; id: number; info: ConnectionInfo | null }
  | { type: 'refusalRecords'; records: RefusalRecord[] }
  | { type: 'closed' };

/**
 * Watches a started worker for the rest of its life: an 'error' (uncaught in the worker) or an 'exit' that no
 * close() asked for is reported once to the listeners. An error that nobody listens to is still reported
 * (without the listener Node would turn it into an uncaught exception in this thread).
 */
export function supervise(worker: Worker): { closing: boolean; listeners: Array<(f: EngineWorkerFailure) => void> } {
  const state = { closing: false, listeners: [] as Array<(f: EngineWorkerFailure) => void>, reported: false };
  const report = (f: EngineWorkerFailure) => {
    if (state.closing || state.reported) return;
    state.reported = true;
    for (const l of state.listeners) l(f);
  };
  worker.on('error', (err: Error) => report({ code: 'ERR_ENGINE_WORKER_CRASHED', message: `engine worker crashed: ${err.message}`, err }));
  worker.on('exit', (exitCode: number) => report({ code: 'ERR_ENGINE_WORKER_EXITED', message: `engine worker exited with code ${exitCode}`, exitCode }));
  return state;
}

/**
 * A question to the worker and its answer, matched by id: `send` posts the question, `answer` picks the answer out
 * of the worker's messages; no answer within `timeoutMs` rejects with ERR_ENGINE_WORKER naming `what`.
 */
export function workerQuery<A, R>(worker: Worker, timeoutMs: number, what: string, send: (id: number, args: A) => ToWorker,
  answer: (m: FromWorker) => { id: number; value: R } | undefined): (args: A) => Promise<R> {
  let seq = 0;
  const waiting = new Map<number, (r: R) => void>();
  worker.on('message', (m: FromWorker) => {
    const a = answer(m);
    if (!a) return;
    waiting.get(a.id)?.(a.value);
    waiting.delete(a.id);
  });
  return (args) => new Promise<R>((resolve, reject) => {
    const id = ++seq;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new GatewayError<EngineWorkerErrorCode>('ERR_ENGINE_WORKER', `engine worker did not answer ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    waiting.set(id, (r) => {
      clearTimeout(timer);
      resolve(r);
    });
    worker.postMessage(send(id, args));
  });
}

export function reloader(worker: Worker, timeoutMs: number): (profiles: ProfileInput[]) => Promise<ReloadResult> {
  return workerQuery<ProfileInput[], ReloadResult>(worker, timeoutMs, 'a TLS reload', (id, profiles) => ({ type: 'reloadTls', id, profiles }),
    (m) => (m.type === 'reloaded' ? { id: m.id, value: m.result } : undefined));
}

export function snapshotter(worker: Worker, timeoutMs: number): () => Promise<EngineSnapshot> {
  const query = workerQuery<void, EngineSnapshot>(worker, timeoutMs, 'a snapshot query', (id) => ({ type: 'snapshot', id }),
    (m) => (m.type === 'snapshot' ? { id: m.id, value: m.snapshot } : undefined));
  return () => query();
}

export function closer(worker: Worker, timeoutMs: number): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= new Promise<void>((resolve) => {
      let exited = false;
      worker.once('exit', () => {
        exited = true;
        clearTimeout(timer);
        resolve();
      });
      // The worker ends on its own once the engine has closed; one that lingers is terminated.
      const timer = setTimeout(() => {
        if (!exited) void worker.terminate();
      }, timeoutMs);
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'closed') {
          clearTimeout(timer);
          setTimeout(() => {
            if (!exited) void worker.terminate();
          }, 1_000).unref();
        }
      });
      worker.on('error', () => undefined);
      worker.postMessage({ type: 'close' } satisfies ToWorker);
    });
    return closing;
  };
}
