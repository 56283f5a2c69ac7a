import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';

/** What one thread has spent since it started watching: busy and idle time of its event loop, and its GC. */
export interface ThreadLoadSnapshot {
  /** Event-loop time in callbacks and waiting for events (ms, cumulative): two readings give a window's busy share. */
  busyMs: number;
  idleMs: number;
  gc: { count: number; ms: number; minorMs: number; majorMs: number };
}

/**
 * The load of the thread it is made on: Node's event-loop utilization (cumulative) and every garbage collection
 * (a performance observer of `gc` entries). One per thread, owned by what composes that thread.
 */
export class ThreadLoad {
  readonly #gc = { count: 0, ms: 0, minorMs: 0, majorMs: 0 };
  readonly #observer: PerformanceObserver;
  readonly #start = performance.eventLoopUtilization();

  constructor() {
    this.#observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.#gc.count++;
        this.#gc.ms += e.duration;
        const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
        // NODE_PERFORMANCE_GC_MINOR is 1 (a scavenge of the young generation); every other kind is a full pause.
        if (kind === 1) this.#gc.minorMs += e.duration;
        else this.#gc.majorMs += e.duration;
      }
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  snapshot(): ThreadLoadSnapshot {
    const u = performance.eventLoopUtilization(this.#start);
    return { busyMs: u.active, idleMs: u.idle, gc: { ...this.#gc } };
  }

  close(): void {
    this.#observer.disconnect();
  }
}
