import type { LogStyle } from '../../log/index.js';
import type { CallChanges, CallList, HangUpResult } from '../active-calls.js';
import type { CdrRecord } from '../cdr.js';
import type { B2buaPolicy } from '../policy-types.js';
import type { B2buaStatsSnapshot } from '../start-b2bua.js';
import type { SharedCountsInit } from '../app-call-counts.js';

/** What an app worker is started with: plain data, cloned into the worker. */
export interface AppWorkerInput {
  engine: { host: string; port: number; secret: string };
  policy: B2buaPolicy;
  /** Targets the pinging app has found down (`tenant` NUL `server`). */
  down: string[];
  logLevel: string;
  /** The gateway's log form (pretty on a terminal), so every thread writes alike. */
  logStyle?: LogStyle;
  /** Its number among the apps (1.., the app of the main thread being 0); in its log lines as `app`. */
  index: number;
  /** Apps in all (gateway.workers). */
  apps: number;
  /** The gateway's refusal CDRs a second (gateway.limits.refusalCdrsPerSecond), of which this app keeps its share. */
  refusalCdrsPerSecond?: number;
  /** The call counts all apps keep together (SharedCallCounts), so a call limit holds for the gateway. */
  counts: SharedCountsInit;
  /** How many times this app was started before (0 the first time). */
  restarts: number;
  /** Warm-up calls the worker runs before it connects (AppPoolOptions.prewarm). */
  prewarm?: AppPrewarm;
}

/**
 * A warm-up an app worker runs before it connects to the engine: the module (a URL) exports
 * `prewarmB2bua({ calls, kind, maxMs })`. The composition root names it, so the b2bua imports nothing of the engine.
 */
export interface AppPrewarm {
  module: string;
  calls: number;
  maxMs: number;
}

export type ToAppWorker =
  /** A reload's policy, with the names it numbered in the shared call counts first. */
  | { type: 'policy'; policy: B2buaPolicy; counts: [string, number][] }
  | { type: 'down'; down: string[] }
  | { type: 'drain'; retryAfterSeconds: number }
  | { type: 'end'; cause: string; reason: string }
  /** The admin API's call list and hang-up, answered with the same `id`. */
  | { type: 'calls'; id: number; limit: number }
  | { type: 'hangUp'; id: number; call: string; cause: string; reason: string }
  | { type: 'close' };

export type FromAppWorker =
  | { type: 'ready'; hostport: string }
  /** Its warm-up before connecting: how many calls went through, or why it failed (it connects either way). */
  | { type: 'warmed'; calls: number; completed: number; ms: number }
  | { type: 'warmFailed'; message: string }
  | { type: 'failed'; code: string; message: string }
  /** Its counters: every 500 ms, and at once when its last call ends while draining. */
  | { type: 'stats'; stats: B2buaStatsSnapshot; active: number }
  /**
   * What changed in its call list since the last time (within 100 ms of a change, and before its counters): the pool's
   * copy, from which it writes the records of the calls a worker held when it ended without handing them over.
   */
  | { type: 'held'; changes: CallChanges }
  /**
   * One call's CDR, for the pool's sink (one writer per file and database); `held`, the call's id in the list when
   * the pool's copy has it (held-calls.ts PostedCalls), takes it out of that copy.
   */
  | { type: 'cdr'; record: CdrRecord; held: string | null }
  | { type: 'calls'; id: number; list: CallList }
  | { type: 'hangUp'; id: number; result: HangUpResult }
  | { type: 'closed' };

export const downKey = (tenant: string, server: string): string => `${tenant}\u0000${server}`;
