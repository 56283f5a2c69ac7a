import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { errorCodeOf, runWarmUpModule, startProductWorker } from '../../common/index.js';
import { createLogger, routeConsoleToLog } from '../../log/index.js';
import { startB2bua, type B2buaApp } from '../start-b2bua.js';
import { sipReason } from '../reason.js';
import { SharedCallCounts } from '../app-call-counts.js';
import { downKey, type AppPrewarm, type AppWorkerInput, type FromAppWorker, type ToAppWorker } from './messages.js';
import { PostedCalls } from './held-calls.js';

const MARK = '__trunkgateAppWorker';
const STATS_EVERY_MS = 500;
/** How soon a change to the call list reaches the pool's copy (held-calls.ts): one post per this long at most, none while idle. */
const HELD_AFTER_MS = 100;

/**
 * Starts one b2bua app in a worker thread of its own: this module (productModuleUrl: dist/b2bua/workers/app-worker.js,
 * or the TypeScript source through tsx's loader, as the engine worker does). It connects to the
 * engine like any drachtio app; the engine spreads new calls over the connected apps and keeps each dialog
 * with the app that made it (docs/control-protocol.md §2.2).
 */
export function spawnAppWorker(input: AppWorkerInput): Worker {
  return startProductWorker('b2bua/workers/app-worker', { workerData: { [MARK]: true, input } });
}

/** Inside the worker: the app, its counters posted twice a second, and the pool's orders. */
async function runAppWorker(input: AppWorkerInput): Promise<void> {
  const port = parentPort!;
  const post = (m: FromAppWorker): void => port.postMessage(m);
  const log = createLogger({ level: input.logLevel, ...input.logStyle }).child({ app: input.index });
  // The console of a worker thread is its own: what drachtio-srf prints here (a peer's malformed or out-of-place
  // message among it) goes to the JSON log, rate-limited, rather than to raw stderr.
  routeConsoleToLog(log);
  let down = new Set(input.down);
  const counts = SharedCallCounts.attach(input.counts);
  if (input.prewarm) await warmUp(input.prewarm, post);
  let app: B2buaApp;
  let heldTimer: NodeJS.Timeout | undefined;
  // What the pool's copy holds, so each record names its call there by id.
  const posted = new PostedCalls();
  const postHeld = (): void => {
    if (heldTimer) clearTimeout(heldTimer);
    heldTimer = undefined;
    const changes = app.takeCallChanges();
    if (changes.rows.length === 0 && changes.gone.length === 0) return;
    posted.apply(changes);
    post({ type: 'held', changes });
  };
  try {
    app = await startB2bua({
      engine: input.engine, policy: input.policy, log, app: input.index, apps: input.apps, sharedCounts: counts, trunkHealth: { isDown: (tenant, server) => down.has(downKey(tenant, server)) },
      ...(input.refusalCdrsPerSecond !== undefined ? { refusalCdrsPerSecond: input.refusalCdrsPerSecond } : {}),
      onCdr: (record) => post({ type: 'cdr', record, held: posted.take(record) ?? null }),
      onCallsChanged: () => {
        heldTimer ??= setTimeout(postHeld, HELD_AFTER_MS).unref();
      },
    });
  } catch (e) {
    const code = errorCodeOf(e, 'ERR_B2BUA_CONNECT');
    post({ type: 'failed', code, message: e instanceof Error ? e.message : String(e) });
    port.close();
    return;
  }
  post({ type: 'ready', hostport: app.hostport });
  injectTestFault(input, log);
  const report = (): void => {
    postHeld();
    post({ type: 'stats', stats: app.stats(), active: app.activeCalls });
  };
  const timer = setInterval(report, STATS_EVERY_MS);
  timer.unref();
  // A worker that ends on its own (an uncaught error, process.exit) still hands over a CDR for each call it held, up
  // or ringing (cause app-lost; when this app's connection closes the engine ends the legs of those up, answers the
  // ringing callers 503 and cancels their B legs), and its last counters.
  process.on('exit', () => {
    // The pool's copy is brought up to date first, so that each record handed over below takes its call out of it.
    postHeld();
    app.abandonCalls('app-lost', sipReason(503, 'application disconnected'));
    report();
  });
  port.on('message', (m: ToAppWorker) => {
    switch (m.type) {
      case 'policy':
        counts.learn(m.counts);
        app.setPolicy(m.policy);
        return;
      case 'down':
        down = new Set(m.down);
        return;
      case 'drain':
        app.drain(m.retryAfterSeconds);
        void app.drained().then(report);
        return;
      case 'end':
        app.endCalls(m.cause, m.reason);
        return;
      case 'calls':
        void app.listCalls(m.limit).then((list) => post({ type: 'calls', id: m.id, list }));
        return;
      case 'hangUp':
        void app.hangUp(m.call, m.cause, m.reason).then((result) => post({ type: 'hangUp', id: m.id, result }));
        return;
      case 'close':
        clearInterval(timer);
        report();
        void app.close().then(() => {
          post({ type: 'closed' });
          port.close();
        });
    }
  });
}

/**
 * The warm-up before this app connects: the engine spreads new calls over the apps connected, so calls meanwhile go to
 * the others. A warm-up that fails is reported and the app connects without it.
 */
async function warmUp(p: AppPrewarm, post: (m: FromAppWorker) => void): Promise<void> {
  try {
    const r = await runWarmUpModule(p.module, { calls: p.calls, kind: 'policy', maxMs: p.maxMs });
    post({ type: 'warmed', calls: r.calls, completed: r.completed, ms: Math.round(r.ms) });
  } catch (e) {
    post({ type: 'warmFailed', message: e instanceof Error ? e.message : String(e) });
  }
}

/**
 * Tests only (NODE_ENV `test`): TRUNKGATE_TEST_APP_FAULT stops app worker 1 that long after it connected, so the pool's
 * supervision (app-pool.ts) can be tested on real workers. `exit:<ms>`: it exits, the first time it runs. `crash:<ms>`:
 * it exits every time it runs (a crash loop). `hang:<ms>`: its thread stops yielding, the first time it runs, while
 * its control connection stays open (a hung app). Ignored otherwise.
 */
function injectTestFault(input: AppWorkerInput, log: ReturnType<typeof createLogger>): void {
  const m = /^(exit|crash|hang):(\d{1,6})$/.exec(process.env.TRUNKGATE_TEST_APP_FAULT ?? '');
  if (process.env.NODE_ENV !== 'test' || !m || input.index !== 1 || (m[1] !== 'crash' && input.restarts > 0)) return;
  log.warn({ fault: m[0] }, 'app worker: test fault armed');
  setTimeout(() => {
    if (m[1] !== 'hang') process.exit(3);
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000);
  }, Number(m[2]));
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK] === true) {
  void runAppWorker((workerData as { input: AppWorkerInput }).input);
}
