import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CallChanges } from '../active-calls.js';
import type { B2buaErrorCode } from '../errors.js';
import type { B2buaStatsSnapshot } from '../start-b2bua.js';
import { HELD_COPY_MAX, HeldCalls } from './held-calls.js';
import { RestartPolicy } from './restart-policy.js';
import { retiredStats, sumStats } from './sum-stats.js';

/** One app worker's place in the pool (app-pool.ts): the worker running there now, if any, and what outlives it. */
export interface Slot {
  index: number;
  worker?: Worker;
  /** Its worker is connected (ready) and not being ended: the liveness check watches it (liveness.ts). */
  live: boolean;
  /** When the pool last had a message from its worker (the pool's clock). */
  lastSeen: number;
  stats?: B2buaStatsSnapshot;
  /** The counters of this slot's earlier workers, so a restart does not make a counter go back. */
  retired?: B2buaStatsSnapshot;
  active: number;
  /** The pool's copy of the worker's calls, for the records of those it leaves behind (held-calls.ts). */
  held: HeldCalls;
  closing: boolean;
  /** Times started so far. */
  starts: number;
  restarts: RestartPolicy;
}

export const newSlot = (index: number): Slot => ({
  index, live: false, lastSeen: 0, active: 0, held: new HeldCalls(), closing: false, starts: 0, restarts: new RestartPolicy(),
});

/** Its worker stopped: its last counters join those of the slot's earlier workers (retiredStats), its calls are over. */
export function retireWorker(slot: Slot): void {
  slot.worker = undefined;
  slot.live = false;
  if (slot.stats) {
    const last = retiredStats(slot.stats);
    slot.retired = slot.retired ? sumStats(slot.retired, [last]) : last;
    slot.stats = undefined;
  }
  slot.active = 0;
}

/** What changed in the worker's call list, into the pool's copy; the copy becoming full is logged once. */
export function applyHeld(slot: Slot, changes: CallChanges, log: Logger): void {
  const full = slot.held.notCopied > 0;
  slot.held.apply(changes);
  if (!full && slot.held.notCopied > 0) {
    log.warn({ code: 'ERR_B2BUA_HELD_COPY_FULL' satisfies B2buaErrorCode, app: slot.index, max: HELD_COPY_MAX },
      `b2bua: the copy of app worker ${slot.index}'s calls is full: calls past ${HELD_COPY_MAX} would get no record if it were lost`);
  }
}
