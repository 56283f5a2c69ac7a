import type { Clock, TimerHandle } from '../../common/index.js';

/** How long a connected app worker may go without a message before it is taken for hung (AppPoolOptions.unresponsiveMs). */
export const UNRESPONSIVE_MS = 5_000;
/** How often the pool looks. */
export const LIVENESS_EVERY_MS = 1_000;

/** A slot of the pool as the check sees it: its worker connected (`live`), and when the pool last heard from it. */
export interface Heard {
  live: boolean;
  lastSeen: number;
}

/**
 * The app workers' liveness (app-pool.ts): a worker posts its counters every 500 ms (app-worker.ts STATS_EVERY_MS), so
 * one connected and silent for more than `silentMs` is stuck (a loop that never yields, a deadlock in a native call)
 * while its control connection stays open and the engine goes on handing it 1/N of the new calls. Every
 * LIVENESS_EVERY_MS each such slot is handed to `onSilent` once (its `live` cleared first). A check that comes late
 * (this thread was itself stalled) judges nothing then, since the workers' messages of that time are still queued
 * behind it: it looks again at once, on a 0 ms timer, which runs after the input already waiting has been read. So a
 * thread that is late on every turn (a busy machine, the hung worker's own loop taking a core) still finds the worker.
 * The timer does not hold the process open (systemClock's timers are unref'd). Returns the stop.
 */
export function watchLiveness<T extends Heard>(o: { clock: Clock; silentMs: number; slots: readonly T[]; onSilent: (slot: T, silentForMs: number) => void }): () => void {
  let timer: TimerHandle | undefined;
  let stopped = false;
  let last = o.clock.now();
  const check = (): void => {
    const now = o.clock.now();
    const late = now - last > 2 * LIVENESS_EVERY_MS;
    last = now;
    for (const s of late ? [] : o.slots) {
      if (!s.live || now - s.lastSeen <= o.silentMs) continue;
      s.live = false;
      o.onSilent(s, now - s.lastSeen);
    }
    if (!stopped) timer = o.clock.setTimeout(check, late ? 0 : LIVENESS_EVERY_MS);
  };
  timer = o.clock.setTimeout(check, LIVENESS_EVERY_MS);
  return () => {
    stopped = true;
    timer?.cancel();
  };
}
