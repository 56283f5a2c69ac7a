import type { Logger } from 'pino';
import { GatewayError, systemClock, type Clock } from '../../common/index.js';
import { silentLogger, type LogStyle } from '../../log/index.js';
import type { B2buaErrorCode } from '../errors.js';
import { callIdApp, type CallList, type HangUpResult } from '../active-calls.js';
import type { B2buaPolicy } from '../policy-types.js';
import { startB2bua, type B2buaApp, type B2buaOptions, type B2buaStatsSnapshot } from '../start-b2bua.js';
import { SHARED_NAMES_MAX, SharedCallCounts } from '../app-call-counts.js';
import { spawnAppWorker } from './app-worker.js';
import { sipReason } from '../reason.js';
import type { CdrRecord } from '../cdr.js';
import { AppQueries, mergeCallLists } from './app-queries.js';
import { downKey, type AppPrewarm, type FromAppWorker, type ToAppWorker } from './messages.js';
import { sumStats } from './sum-stats.js';
import { RESTARTS_PER_MINUTE } from './restart-policy.js';
import { applyHeld, newSlot, retireWorker, type Slot } from './worker-slot.js';
import { UNRESPONSIVE_MS, watchLiveness } from './liveness.js';
import { armTerminateFault } from './pool-test-faults.js';

export interface AppPoolOptions extends B2buaOptions {
  policy: B2buaPolicy;
  /** Apps in all: this thread's, plus `apps - 1` worker threads. */
  apps: number;
  /** Warm-up calls each worker runs before it connects (messages.ts AppPrewarm); absent: none. */
  prewarm?: AppPrewarm;
  /** The workers' log level and form (they log on their own, to the same stdout). */
  logLevel: string;
  logStyle?: LogStyle;
  /** How long a worker may take to connect (default 10,000 ms). */
  startTimeoutMs?: number;
  /** How long a connected worker may be silent before it is ended as hung (default UNRESPONSIVE_MS, liveness.ts). */
  unresponsiveMs?: number;
}

/** How long the admin API's call list waits for a worker, and a hang-up (which waits 2 s for the BYEs itself). */
const LIST_WAIT_MS = 2_000;
const HANGUP_WAIT_MS = 5_000;

/**
 * The b2bua as several apps on the one engine (`gateway.workers`): this thread's app pings the trunks and
 * serves the admin API's views; each worker runs the same pipeline on its own thread. Policy swaps, trunk
 * states, drain and call ends go to every app; counters are summed. A worker that stops, or that goes silent for
 * `unresponsiveMs` and is ended (liveness.ts), is logged and started again (restart-policy.ts: at most 5 times a
 * minute, then after a backoff); the engine ends that worker's calls as for any app that went away. The start
 * rejects if any worker does not connect (it stopped, failed or timed out), with every app closed again.
 */
export async function startAppPool(options: AppPoolOptions): Promise<B2buaApp> {
  const log: Logger = options.log ?? silentLogger();
  const clock: Clock = options.clock ?? systemClock;
  // The apps count calls per tenant and dial peer together, so a maxCalls holds for the gateway, not per app.
  const counts = options.apps > 1 ? SharedCallCounts.create(options.apps, options.policy) : undefined;
  const countsFull = (): void => {
    if (!counts || counts.unnumbered === 0) return;
    const code: B2buaErrorCode = 'ERR_B2BUA_SHARED_COUNTS_FULL';
    log.warn({ code, unnumbered: counts.unnumbered, max: SHARED_NAMES_MAX },
      `b2bua: ${counts.unnumbered} tenants and dial peers past the ${SHARED_NAMES_MAX} the apps count together: their maxCalls and maxCallsPerSecond are held per app`);
  };
  countsFull();
  const main = await startB2bua({ ...options, app: 0, ...(counts ? { sharedCounts: counts } : {}) });
  if (options.apps <= 1 || !counts) return main;
  let policy = options.policy;
  const slots: Slot[] = Array.from({ length: options.apps - 1 }, (_, i) => newSlot(i + 1));
  let closed = false;
  /** Until every worker first connected: a worker that stops meanwhile fails the start, and is not started again. */
  let starting = true;
  /** abandonCalls ran (the process is exiting): the calls in the pool's copies have their records. */
  let abandoned = false;
  const counters = { appWorkerRestarts: 0, appWorkersUnresponsive: 0 };
  let draining: number | undefined;
  const queries = new AppQueries();

  const downList = (): string[] =>
    (main.trunks?.snapshot().trunks ?? []).filter((t) => t.state === 'down').map((t) => downKey(t.tenant, t.server));
  const send = (m: ToAppWorker): void => {
    for (const s of slots) s.worker?.postMessage(m);
  };
  let watched: B2buaApp['trunks'];
  const watchTrunks = (): void => {
    if (watched === main.trunks) return;
    watched = main.trunks;
    watched?.on('change', () => send({ type: 'down', down: downList() }));
  };
  watchTrunks();

  const start = (slot: Slot): Promise<void> => new Promise((resolve, reject) => {
    const worker = spawnAppWorker({
      engine: options.engine, policy, down: downList(), logLevel: options.logLevel, ...(options.logStyle ? { logStyle: options.logStyle } : {}), index: slot.index, apps: options.apps, counts: counts.initFor(slot.index), restarts: slot.starts++,
      ...(options.prewarm ? { prewarm: options.prewarm } : {}),
      ...(options.refusalCdrsPerSecond !== undefined ? { refusalCdrsPerSecond: options.refusalCdrsPerSecond } : {}),
    });
    slot.worker = worker;
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    // Settled once: connected, failed, timed out, or stopped before it connected (each ends the worker, whose exit
    // below then restarts it if the pool runs).
    let settled = false;
    const fail = (message: string): void => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(new GatewayError<B2buaErrorCode>('ERR_B2BUA_WORKER', message));
    };
    const timer = setTimeout(() => fail(`app worker ${slot.index} did not connect within ${timeoutMs} ms`), timeoutMs);
    worker.on('message', (m: FromAppWorker) => {
      slot.lastSeen = clock.now();
      if (queries.answer(m)) return;
      if (m.type === 'ready') {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        slot.live = !slot.closing && !closed;
        slot.restarts.connected(clock.now());
        if (draining !== undefined) worker.postMessage({ type: 'drain', retryAfterSeconds: draining } satisfies ToAppWorker);
        armTerminateFault(slot, worker, log);
        resolve();
      } else if (m.type === 'failed') {
        fail(`app worker ${slot.index} failed to start: ${m.message} [${m.code}]`);
      } else if (m.type === 'warmed') {
        log.info({ app: slot.index, calls: m.calls, completed: m.completed, ms: m.ms }, 'b2bua: app worker warmed before it connects');
      } else if (m.type === 'warmFailed') {
        const code: B2buaErrorCode = 'ERR_B2BUA_PREWARM';
        log.warn({ code, app: slot.index, err: m.message }, 'b2bua: app worker warm-up failed; it connects without it');
      } else if (m.type === 'held') {
        applyHeld(slot, m.changes, log);
      } else if (m.type === 'stats') {
        slot.stats = m.stats;
        slot.active = m.active;
      } else if (m.type === 'cdr') {
        // A call of the pool's copy whose record abandonCalls already wrote (the process is exiting): not twice.
        if (abandoned && m.held !== null) return;
        // The worker's record goes to the same sink as this thread's: one writer per file and database.
        if (m.held !== null) slot.held.recorded(m.held);
        toSink(m.record, slot.index, 'it is in the worker\'s log line');
      }
    });
    worker.on('error', (err) => log.error({ code: 'ERR_B2BUA_WORKER', app: slot.index, err }, `b2bua: app worker ${slot.index} failed`));
    worker.on('exit', (code) => {
      fail(`app worker ${slot.index} exited (${code}) before it connected`);
      queries.dropWorker(worker);
      if (slot.worker !== worker) return;
      retireWorker(slot);
      const lost = recordLost(slot);
      // The engine ends the calls the worker held: their slots in the shared counts go with them.
      counts.clearApp(slot.index);
      // Closing, or the pool's start failing (it closes every app, this one is not started again).
      if (slot.closing || closed || starting) {
        if (lost.recorded > 0) log.warn({ code: 'ERR_B2BUA_WORKER', app: slot.index, exitCode: code, ...lost }, `b2bua: app worker ${slot.index} closed with calls it had not recorded; ${lost.recorded} recorded from the pool's copy`);
        return;
      }
      const next = slot.restarts.stopped(clock.now());
      const recorded = lost.recorded > 0 ? ` (${lost.recorded} recorded from the pool's copy)` : '';
      if (next.backoff) {
        log.error({ code: 'ERR_B2BUA_WORKER', app: slot.index, exitCode: code, retryInMs: next.delayMs, ...lost },
          `b2bua: app worker ${slot.index} stopped ${RESTARTS_PER_MINUTE} times in a minute${recorded}; starting it again in ${next.delayMs / 1000} s, the other apps take the calls meanwhile`);
      } else {
        log.error({ code: 'ERR_B2BUA_WORKER', app: slot.index, exitCode: code, ...lost },
          `b2bua: app worker ${slot.index} stopped (exit ${code}); its calls were ended by the engine${recorded}; starting it again`);
      }
      clock.setTimeout(() => {
        if (closed) return;
        counters.appWorkerRestarts++;
        // Its stop, if it does not connect, comes through its exit above, as any other.
        start(slot).catch((err: unknown) => log.warn({ code: 'ERR_B2BUA_WORKER', app: slot.index, err }, `b2bua: app worker ${slot.index} did not come back`));
      }, next.delayMs);
    });
  });

  const toSink = (record: CdrRecord, app: number, where: string): void => {
    try {
      options.onCdr?.(record);
    } catch (err) {
      log.error({ err, code: 'ERR_B2BUA_CDR_SINK', app }, `b2bua: the CDR sink refused a worker's record (${where})`);
    }
  };
  /**
   * A worker gone without handing over its calls' records (terminated, out of memory): each call still in the pool's
   * copy gets one now, cause app-lost, with the Reason the engine gave its caller; a `cdr` log line and the sink.
   */
  const recordLost = (slot: Slot, cause = 'app-lost', reason = sipReason(503, 'application disconnected')): { recorded: number; notCopied?: number } => {
    const notCopied = slot.held.notCopied;
    const records = slot.held.takeLost(Date.now(), cause, reason);
    for (const record of records) {
      log.info({ cdr: record, app: slot.index }, 'cdr');
      toSink(record, slot.index, 'it is in the cdr log line');
    }
    return { recorded: records.length, ...(notCopied > 0 ? { notCopied } : {}) };
  };

  const closeWorker = (slot: Slot): Promise<void> => {
    slot.closing = true;
    slot.live = false;
    const w = slot.worker;
    if (!w) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => void w.terminate(), 5000);
      w.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      w.postMessage({ type: 'close' } satisfies ToAppWorker);
    });
  };

  try {
    await Promise.all(slots.map(start));
  } catch (e) {
    closed = true;
    await Promise.all(slots.map(closeWorker));
    await main.close();
    throw e;
  }
  starting = false;
  // A worker stuck (its thread never yields) keeps its control connection and its share of new calls: it is ended,
  // and its exit above writes its calls' records, lets the engine end them and starts it again.
  const stopLiveness = watchLiveness({
    clock, slots, silentMs: options.unresponsiveMs ?? UNRESPONSIVE_MS,
    onSilent: (slot, silentForMs) => {
      counters.appWorkersUnresponsive++;
      log.error({ code: 'ERR_B2BUA_WORKER', app: slot.index, silentForMs, calls: slot.held.size },
        `b2bua: app worker ${slot.index} unresponsive: nothing from it for ${silentForMs} ms; ending it (its calls are recorded from the pool's copy)`);
      void slot.worker?.terminate();
    },
  });
  log.info({ apps: options.apps }, `b2bua: ${options.apps} apps on the engine (this thread and ${slots.length} workers)`);

  const workerActive = (): number => slots.reduce((n, s) => n + s.active, 0);
  return {
    srf: main.srf,
    hostport: main.hostport,
    get trunks() {
      return main.trunks;
    },
    get policy() {
      return main.policy;
    },
    setPolicy(next: B2buaPolicy): void {
      const unnumbered = counts.unnumbered;
      const numbered = counts.number(next);
      if (counts.unnumbered > unnumbered) countsFull();
      main.setPolicy(next);
      policy = next;
      send({ type: 'policy', policy: next, counts: numbered });
      watchTrunks();
      send({ type: 'down', down: downList() });
    },
    get activeCalls() {
      return main.activeCalls + workerActive();
    },
    drain(retryAfterSeconds: number): void {
      draining = retryAfterSeconds;
      main.drain(retryAfterSeconds);
      send({ type: 'drain', retryAfterSeconds });
    },
    drained: async () => {
      await main.drained();
      while (workerActive() > 0 && !closed) await new Promise((r) => setTimeout(r, 50));
    },
    endCalls(cause: string, reason: string): number {
      send({ type: 'end', cause, reason });
      return main.endCalls(cause, reason) + workerActive();
    },
    // The process is exiting and its workers go with it, whatever they are doing: each worker's calls are written now,
    // in this thread, from the pool's copy (a record they post after this is not written twice).
    abandonCalls: (cause: string, reason: string): number => {
      abandoned = true;
      return slots.reduce((n, s) => n + recordLost(s, cause, reason).recorded, main.abandonCalls(cause, reason));
    },
    takeCallChanges: () => main.takeCallChanges(),
    listCalls: async (limit: number): Promise<CallList> => {
      const asked = slots.filter((s) => s.worker !== undefined).map(async (s) => {
        const a = await queries.ask(s.worker!, (id) => ({ type: 'calls', id, limit }), LIST_WAIT_MS);
        return { app: s.index, list: a?.type === 'calls' ? a.list : undefined };
      });
      return mergeCallLists([{ app: 0, list: await main.listCalls(limit) }, ...(await Promise.all(asked))], limit);
    },
    hangUp: async (id: string, cause: string, reason: string): Promise<HangUpResult> => {
      const app = callIdApp(id);
      if (app === 0) return main.hangUp(id, cause, reason);
      const worker = slots.find((s) => s.index === app)?.worker;
      // A stopped worker's calls were ended by the engine: there is nothing left to hang up.
      if (!worker) return { outcome: 'unknown' };
      const a = await queries.ask(worker, (q) => ({ type: 'hangUp', id: q, call: id, cause, reason }), HANGUP_WAIT_MS);
      if (a?.type !== 'hangUp') throw new GatewayError<B2buaErrorCode>('ERR_B2BUA_WORKER', `app worker ${app} did not answer a hang-up within ${HANGUP_WAIT_MS} ms`);
      return a.result;
    },
    stats: () => ({
      ...sumStats(main.stats(), slots.flatMap((s) => [s.retired, s.stats].filter((x): x is B2buaStatsSnapshot => x !== undefined))),
      ...counters, appWorkersDown: slots.filter((s) => !s.live && !s.closing).length,
    }),
    close: async () => {
      if (closed) return;
      closed = true;
      stopLiveness();
      await Promise.all(slots.map(closeWorker));
      await main.close();
    },
  };
}
