import type { UdpKernelQueue } from '../sip/transport/udp-queue.js';
import type { LoadWindow } from './overload.js';

/** What one datagram of a SIP message (up to about 1 KiB) occupies in a Linux receive queue (its skb truesize). */
const DATAGRAM_TRUESIZE = 1_280;
/** Fewer datagrams waiting than this is no backlog, whatever the rate. */
const MIN_BACKLOG = 64;

/**
 * How long (ms) `queuedBytes` of datagrams will wait at the rate `read` were read in the last `windowMs`: 0 for a
 * queue too short to matter, 10 s when nothing was read (the engine is stuck).
 */
export function queueMs(queuedBytes: number, read: number, windowMs: number): number {
  const waiting = queuedBytes / DATAGRAM_TRUESIZE;
  if (waiting < MIN_BACKLOG) return 0;
  if (read <= 0) return 10_000;
  return Math.min(10_000, (waiting / read) * windowMs);
}

/** A window less busy than this is idle: the next window is sampled with one tick instead of ten. */
const IDLE_UTILIZATION = 0.1;

/**
 * Measures the thread it runs on, window by window: the busy share of the window (Node's event-loop utilization)
 * and the worst lateness of an interval timer (Node's own delay histogram loses the interval across a reset, so it
 * is not used here), and where given the kernel's backlog for the UDP listeners. One timer; nothing allocated per
 * turn but the readings once a window. While the thread is idle the timer runs once a window rather than every
 * `tickMs`: an idle engine woke 100 times a second for nothing (1.7% of a core). A flood shows in the first window
 * all the same, as that window's late timer and busy share, and the next window is sampled finely again.
 */
export class LoadSampler {
  #timer: NodeJS.Timeout;
  readonly #tickMs: number;
  readonly #onWindow: (w: LoadWindow) => void;
  readonly #queue: (() => UdpKernelQueue | undefined) | undefined;
  readonly #datagramsRead: (() => number) | undefined;
  readonly #windowMs: number;
  /** The timer's period now: `tickMs`, or `windowMs` while idle. */
  #period: number;
  #ticksPerWindow: number;
  #readBefore = 0;
  #last = performance.now();
  /** When the window being sampled began: a late timer makes a window longer than `windowMs`. */
  #windowStart = this.#last;
  #ticks = 0;
  #windowMax = 0;
  #elu = performance.eventLoopUtilization();
  /** The last reading of the kernel's backlog (its drops counter stands while the table is not read). */
  #lastQueue: UdpKernelQueue | undefined;

  constructor(onWindow: (w: LoadWindow) => void, o: {
    windowMs?: number; tickMs?: number;
    /** The kernel's backlog for the UDP listeners, and the datagrams the engine read so far (to turn it into time). */
    queue?: () => UdpKernelQueue | undefined; datagramsRead?: () => number;
  } = {}) {
    const windowMs = o.windowMs ?? 100;
    const tickMs = o.tickMs ?? 10;
    this.#windowMs = windowMs;
    this.#onWindow = onWindow;
    this.#queue = o.queue;
    this.#datagramsRead = o.datagramsRead;
    this.#readBefore = o.datagramsRead?.() ?? 0;
    this.#tickMs = tickMs;
    this.#period = tickMs;
    this.#ticksPerWindow = Math.max(1, Math.round(windowMs / tickMs));
    this.#timer = this.#arm();
  }

  /** The timer's period now (ms): `tickMs` while the thread is busy, the window's length while it is idle. */
  get period(): number {
    return this.#period;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #arm(): NodeJS.Timeout {
    const timer = setInterval(() => this.#turn(), this.#period);
    timer.unref();
    return timer;
  }

  #turn(): void {
    const now = performance.now();
    const late = Math.max(0, now - this.#last - this.#period);
    this.#last = now;
    if (late > this.#windowMax) this.#windowMax = late;
    if (++this.#ticks < this.#ticksPerWindow) return;
    const elu = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(elu, this.#elu).utilization;
    this.#elu = elu;
    const read = this.#datagramsRead?.() ?? 0;
    const readInWindow = read - this.#readBefore;
    this.#readBefore = read;
    // The datagrams were read over the window as it lasted: on a thread late on every tick that is far longer than
    // `windowMs`, and the nominal length would make the read rate, hence the backlog's wait, look that much better.
    const windowMs = Math.max(this.#windowMs, now - this.#windowStart);
    this.#windowStart = now;
    // Sampled at the idle cadence, idle again and no datagram read: the thread was free to read, so nothing waits in
    // the kernel, and the socket table (two files, 20 reads a second) is not read; the last drops count stands.
    const quiet = this.#period === this.#windowMs && utilization < IDLE_UTILIZATION && this.#datagramsRead !== undefined && readInWindow === 0;
    const q = quiet && this.#lastQueue ? { ...this.#lastQueue, queuedBytes: 0 } : this.#queue?.();
    this.#lastQueue = q;
    const w: LoadWindow = {
      utilization, delayMs: this.#windowMax,
      ...(q ? { queuedBytes: q.queuedBytes, queueMs: queueMs(q.queuedBytes, readInWindow, windowMs), udpDrops: q.drops } : {}),
      ...(this.#datagramsRead ? { datagramsRead: readInWindow } : {}),
    };
    this.#windowMax = 0;
    this.#ticks = 0;
    const idle = utilization < IDLE_UTILIZATION && w.delayMs < this.#tickMs;
    const period = idle ? this.#windowMs : this.#tickMs;
    if (period !== this.#period) {
      clearInterval(this.#timer);
      this.#period = period;
      this.#ticksPerWindow = idle ? 1 : Math.max(1, Math.round(this.#windowMs / this.#tickMs));
      this.#timer = this.#arm();
    }
    this.#onWindow(w);
  }
}
