import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { errorCodeOf, GatewayError, startIdleMemoryRelease, startProductWorker } from '../common/index.js';
import { createLogger } from '../log/index.js';
import type { ReloadResult } from '../tls/index.js';
import { Engine } from './engine.js';
import { engineSnapshot } from './engine-snapshot.js';
import { closeConnectionByAdmin } from './close-connection.js';
import { loopbackWarmUpFrom } from './prewarm.js';
import type { RefusalRecord } from './refusal-record.js';
import type { SourceTrustOptions, TrustReloadResult } from './source-trust.js';
import type { ConnectionInfo, ListenerRetry } from '../sip/transport/index.js';
import { closer, reloader, snapshotter, supervise, workerQuery, type FromWorker, type ToWorker } from './worker-messages.js';
import type { EngineWorkerErrorCode, EngineWorkerHandle, EngineWorkerOptions } from './worker-types.js';

export { supervise } from './worker-messages.js';

const MARK = '__trunkgateEngineWorker';
/** How long a worker may wait for its `listen` message beyond its own start bound (whatever the caller waits on). */
const MAX_LISTEN_WAIT_MS = 60_000;
/** The loopback warm-up stops starting calls after this long, well inside the worker's start bound. */
const WARM_UP_MAX_MS = 3_000;

/**
 * Runs an Engine in a worker_threads Worker, so SIP and the control protocol get a core of their own while the app runs
 * in the main thread. The worker runs this module (productModuleUrl: dist/engine/worker.js, or the TypeScript source
 * with tsx's loader). Rejects with ERR_ENGINE_WORKER, with the engine's code in `details.code` when it failed to start.
 * With `listenWhen` the engine opens its listeners only once that settles (after its own pre-warm). With
 * `onRefusalRecords` the engine records the new INVITEs it refuses, and each turn's records come to it here from the
 * moment the listeners open (before this resolves, too).
 */
export function startEngineWorker(
  options: EngineWorkerOptions, listenWhen?: Promise<unknown>, onRefusalRecords?: (records: RefusalRecord[]) => void,
): Promise<EngineWorkerHandle> {
  const given = { ...options, ...(listenWhen ? { holdListeners: true } : {}), ...(onRefusalRecords ? { refusalRecords: true } : {}) };
  const worker = startProductWorker('engine/worker', { workerData: { [MARK]: true, options: given } });
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (onRefusalRecords) {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'refusalRecords') onRefusalRecords(m.records);
    });
  }

  return new Promise<EngineWorkerHandle>((resolve, reject) => {
    let settled = false;
    const fail = (message: string, details?: Record<string, unknown>, cause?: unknown) => {
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      reject(new GatewayError<EngineWorkerErrorCode>('ERR_ENGINE_WORKER', message, {
        ...(details ? { details } : {}), ...(cause === undefined ? {} : { cause }),
      }));
    };
    const late = (): void => fail(`engine worker did not start within ${timeoutMs} ms${listenWhen ? ' of being told to listen' : ''}`);
    // With `listenWhen` the bound counts from the `listen` message: the caller's own (bounded) warm-up is not charged.
    let timer = setTimeout(late, listenWhen ? timeoutMs + MAX_LISTEN_WAIT_MS : timeoutMs);
    const listen = (): void => {
      if (settled) return;
      clearTimeout(timer);
      timer = setTimeout(late, timeoutMs);
      worker.postMessage({ type: 'listen' } satisfies ToWorker);
    };
    listenWhen?.then(listen, listen);
    const onError = (e: Error) => fail('engine worker crashed while starting', undefined, e);
    const onExit = (code: number) => fail(`engine worker exited with code ${code} while starting`);
    worker.once('error', onError);
    worker.once('exit', onExit);
    const onStart = (m: FromWorker): void => {
      // Records of refusals may come first: the listeners are open before the engine reports it started.
      if (m.type === 'refusalRecords') return;
      worker.off('message', onStart);
      worker.off('error', onError);
      worker.off('exit', onExit);
      settled = true;
      clearTimeout(timer);
      if (m.type === 'failed') {
        fail(`engine failed to start: ${m.message}`, { code: m.code });
        return;
      }
      if (m.type !== 'started') {
        fail(`unexpected message from the engine worker: ${m.type}`);
        return;
      }
      const watch = supervise(worker);
      const close = closer(worker, timeoutMs);
      const closeConnection = workerQuery<string, ConnectionInfo | null>(worker, timeoutMs, 'a connection close',
        (id, connection) => ({ type: 'closeConnection', id, connection }), (m) => (m.type === 'connectionClosed' ? { id: m.id, value: m.info } : undefined));
      resolve({
        ports: m.addresses, worker, reloadTls: reloader(worker, timeoutMs), snapshot: snapshotter(worker, timeoutMs),
        reloadTrust: workerQuery<SourceTrustOptions, TrustReloadResult>(worker, timeoutMs, 'a trusted-source reload',
          (id, plan) => ({ type: 'reloadTrust', id, plan }), (m) => (m.type === 'trustReloaded' ? { id: m.id, value: m.result } : undefined)),
        retryListeners: workerQuery<void, ListenerRetry>(worker, timeoutMs, 'a retry of the failed listeners',
          (id) => ({ type: 'retryListeners', id }), (m) => (m.type === 'listenersRetried' ? { id: m.id, value: m.result } : undefined)),
        closeConnection: async (id) => (await closeConnection(id)) ?? undefined,
        drain: (retryAfterSeconds) => worker.postMessage({ type: 'drain', retryAfterSeconds } satisfies ToWorker),
        // No answer awaited, as for drain: the worker reads its messages in order, so whatever is asked of it next meets the new value.
        setRetryAfterSeconds: (seconds) => worker.postMessage({ type: 'retryAfter', seconds } satisfies ToWorker),
        close: () => {
          watch.closing = true;
          return close();
        },
        onFailure: (l) => watch.listeners.push(l),
      });
    };
    worker.on('message', onStart);
  });
}

/** Inside the worker: build and start the engine, report, and close it when told. */
async function runInWorker(options: EngineWorkerOptions): Promise<void> {
  const port = parentPort!;
  const log = createLogger({ ...(options.logLevel ? { level: options.logLevel } : {}), ...options.logStyle }).child({ thread: 'engine' });
  const post = (m: FromWorker) => port.postMessage(m);
  let engine: Engine;
  const listenWhen = options.holdListeners
    ? new Promise<void>((resolve) => {
      const onListen = (m: ToWorker): void => {
        if (m.type !== 'listen') return;
        port.off('message', onListen);
        resolve();
      };
      port.on('message', onListen);
    })
    : undefined;
  try {
    engine = new Engine({
      listen: options.listen, control: options.control, log, ...(options.timers ? { timers: options.timers } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.trust ? { trust: options.trust } : {}),
      ...(options.transportLimits ? { transportLimits: options.transportLimits } : {}),
      ...(options.overload ? { overload: options.overload } : {}),
      ...(options.prewarmCalls ? { prewarmCalls: options.prewarmCalls } : {}),
      ...(options.prewarmModule ? { loopbackWarmUp: loopbackWarmUpFrom(options.prewarmModule, WARM_UP_MAX_MS) } : {}),
      ...(listenWhen ? { listenWhen } : {}),
      ...(options.refusalRecords ? { onRefusalRecords: (records: RefusalRecord[]) => post({ type: 'refusalRecords', records }) } : {}),
    });
    post({ type: 'started', addresses: await engine.start() });
    startIdleMemoryRelease();
    injectTestFault(log);
  } catch (e) {
    const code = errorCodeOf(e, 'ERR_ENGINE_START');
    log.error({ err: e, code }, 'engine failed to start');
    post({ type: 'failed', code, message: e instanceof Error ? e.message : String(e) });
    port.close();
    return;
  }
  port.on('message', (m: ToWorker) => {
    if (m.type === 'snapshot') {
      post({ type: 'snapshot', id: m.id, snapshot: engineSnapshot(engine) });
      return;
    }
    if (m.type === 'drain') {
      engine.drain(m.retryAfterSeconds);
      return;
    }
    if (m.type === 'retryAfter') {
      engine.setRetryAfterSeconds(m.seconds);
      return;
    }
    if (m.type === 'closeConnection') {
      post({ type: 'connectionClosed', id: m.id, info: closeConnectionByAdmin(engine, m.connection, log) ?? null });
      return;
    }
    if (m.type === 'reloadTls') {
      let result: ReloadResult;
      try {
        result = engine.reloadTls(m.profiles);
      } catch (e) {
        log.error({ err: e }, 'TLS reload failed');
        result = { ok: false, version: engine.tls?.store.version ?? 0, problems: [{ profile: '-', code: 'ERR_TLS_CONTEXT', reason: (e as Error).message }] };
      }
      post({ type: 'reloaded', id: m.id, result });
      return;
    }
    if (m.type === 'reloadTrust') {
      void engine.reloadTrust(m.plan).catch((e: unknown): TrustReloadResult => {
        log.error({ err: e }, 'trusted-source reload failed');
        return { ok: false, enforced: true, code: 'ERR_ENGINE_WORKER', reason: (e as Error).message };
      }).then((result) => post({ type: 'trustReloaded', id: m.id, result }));
      return;
    }
    if (m.type === 'retryListeners') {
      void engine.retryListeners().catch((e: unknown): ListenerRetry => {
        log.error({ err: e }, 'listener retry failed');
        return { bound: [], stillFailed: engine.transport.failedListeners() };
      }).then((result) => post({ type: 'listenersRetried', id: m.id, result }));
      return;
    }
    if (m.type !== 'close') return;
    void engine.close().then(() => {
      post({ type: 'closed' });
      port.close();
    });
  });
}

/**
 * Tests only (honoured when NODE_ENV is `test`): TRUNKGATE_TEST_ENGINE_FAULT=`throw:<ms>` makes the worker throw an
 * uncaught error, `exit:<ms>` makes it exit with code 3, that long after the engine started; so the supervision of
 * a real gateway process can be tested. Ignored otherwise.
 */
function injectTestFault(log: ReturnType<typeof createLogger>): void {
  const spec = process.env.TRUNKGATE_TEST_ENGINE_FAULT;
  if (process.env.NODE_ENV !== 'test' || !spec) return;
  const m = /^(throw|exit):(\d{1,6})$/.exec(spec);
  if (!m) return;
  log.warn({ fault: spec }, 'engine worker: test fault armed');
  setTimeout(() => {
    if (m[1] === 'exit') process.exit(3);
    throw new Error('test fault: engine worker crash');
  }, Number(m[2]));
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK] === true) {
  void runInWorker((workerData as { options: EngineWorkerOptions }).options);
}
