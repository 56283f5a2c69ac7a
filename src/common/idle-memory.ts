import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { v8Gc } from './full-gc.js';

export interface IdleMemoryOptions {
  /** How often the thread looks (default 10,000 ms). */
  everyMs?: number;
  /** The thread counts as idle below this event-loop utilization over the last look (default 0.05). */
  maxUtilization?: number;
  /** The heap must have grown this much since the last release before another (default 8 MiB). */
  minGrowthBytes?: number;
  /**
   * Past this long since the last release, an idle thread whose heap holds `minSlackBytes` more than it uses is
   * collected too, whatever the last release left (default 60,000 ms): a release made while a flood's state was
   * still live would otherwise set the bar too high for the one after it.
   */
  quietReleaseMs?: number;
  /** See quietReleaseMs (default 8 MiB). */
  minSlackBytes?: number;
}

export interface IdleMemoryRelease {
  /** Releases done so far, and the heap given back by them in total. */
  stats(): { releases: number; freedBytes: number };
  stop(): void;
}

/**
 * Gives memory back after a burst. V8 keeps the heap a flood grew (its new space, the old pages) for as long as
 * nothing allocates, which an idle gateway does not: the RSS a flood raised stayed up for minutes. Every `everyMs`
 * this thread looks at its event loop; when it was idle over the last look and its heap has grown by
 * `minGrowthBytes` since the last release (or, at most once a `quietReleaseMs`, holds `minSlackBytes` more than it
 * uses), one full collection runs (a few tens of milliseconds, only while idle): V8 shrinks the heap to what is live
 * and its unmapper hands the freed pages back to the system. A busy thread is never paused for it.
 */
export function startIdleMemoryRelease(options: IdleMemoryOptions = {}): IdleMemoryRelease {
  const every = options.everyMs ?? 10_000;
  const maxUtilization = options.maxUtilization ?? 0.05;
  const minGrowth = options.minGrowthBytes ?? 8 * 1024 * 1024;
  const gc = v8Gc();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const quietMs = options.quietReleaseMs ?? 60_000;
  const minSlack = options.minSlackBytes ?? 8 * 1024 * 1024;
  const heapTotal = (): number => getHeapStatistics().total_heap_size;
  let floor = heapTotal();
  let lastRelease = Date.now();
  let releases = 0;
  let freedBytes = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy > maxUtilization) return;
    const h = getHeapStatistics();
    const total = h.total_heap_size;
    const grown = total >= floor + minGrowth;
    const slack = Date.now() - lastRelease >= quietMs && total - h.used_heap_size >= minSlack;
    if (!grown && !slack) return;
    gc();
    const after = heapTotal();
    releases++;
    freedBytes += Math.max(0, total - after);
    floor = after;
    lastRelease = Date.now();
  }, every);
  timer.unref();
  return {
    stats: () => ({ releases, freedBytes }),
    stop: () => clearInterval(timer),
  };
}
