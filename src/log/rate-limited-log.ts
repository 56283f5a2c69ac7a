import type { Clock, TimerHandle } from '../common/clock.js';
import type { Logger } from './logger.js';

/** The clock a limiter reads: `now`, and `setTimeout` for summary lines (without it the count rides on the next line). */
export type NowSource = Pick<Clock, 'now'> & Partial<Pick<Clock, 'setTimeout'>>;

export type LimitedLevel = 'fatal' | 'error' | 'warn' | 'info';

export interface RateLimitedLogOptions {
  /** The window every limit counts in (default 60,000 ms). */
  intervalMs?: number;
  /** Lines per code per window, all sources together (default 10). */
  perCode?: number;
  /** Sources remembered for the per-source limit; the least recently logged is forgotten past it (default 4,096). */
  maxSources?: number;
  /** The same bound under the name the keyed `line()` callers use. */
  maxKeys?: number;
  /**
   * At the end of a window in which lines were left out, write one summary line per code (how many, from how many
   * sources), so a flood that stops is still accounted for. Default false: the count rides on the code's next line.
   */
  summaries?: boolean;
}

interface CodeWindow {
  start: number;
  lines: number;
  suppressed: number;
  sources: Set<string>;
  timer: TimerHandle | undefined;
}

/** Distinct sources counted per code for a summary line, at most. */
const MAX_COUNTED_SOURCES = 1_000;

/**
 * Warn lines for refusals and failures that a flood cannot turn into a log flood: per code at most `perCode` lines a
 * window, and per (code, source) one line a window. A line left out is written at debug; the count of those left out
 * rides on the code's next warn line (`suppressed`) or, with `summaries`, on one summary line at the window's end.
 * Whoever calls it keeps its own counters: they stay exact whatever the log shows.
 */
export class RateLimitedLog {
  readonly #log: Logger;
  readonly #clock: NowSource;
  readonly #intervalMs: number;
  readonly #perCode: number;
  readonly #maxSources: number;
  readonly #summaries: boolean;
  readonly #codes = new Map<string, CodeWindow>();
  /** `code \0 source` → when it last had a line; in order of that time (re-inserted on each line). */
  readonly #sources = new Map<string, number>();
  #closed = false;

  constructor(log: Logger, clock: NowSource, options: RateLimitedLogOptions = {}) {
    this.#log = log;
    this.#clock = clock;
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#perCode = options.perCode ?? 10;
    this.#maxSources = options.maxSources ?? options.maxKeys ?? 4_096;
    this.#summaries = options.summaries ?? false;
  }

  /** Writes the line at warn unless its code or its (code, source) had its share this window; true when written. */
  warn(code: string, source: string | undefined, fields: Record<string, unknown>, msg: string): boolean {
    return this.#write('warn', code, source !== undefined ? `${code}\u0000${source}` : undefined, source, fields, msg);
  }

  /**
   * Writes the line at `level` at most once a window per code (and source, when given), within the per-code share;
   * true when written.
   */
  line(level: LimitedLevel, code: string, fields: Record<string, unknown>, msg: string, source?: string): boolean {
    return this.#write(level, code, source !== undefined ? `${code}\u0000${source}` : code, source, fields, msg);
  }

  #write(level: LimitedLevel, code: string, key: string | undefined, source: string | undefined,
    fields: Record<string, unknown>, msg: string): boolean {
    const now = this.#clock.now();
    let w = this.#codes.get(code);
    if (!w) {
      w = { start: now, lines: 0, suppressed: 0, sources: new Set(), timer: undefined };
      this.#codes.set(code, w);
    } else if (now - w.start >= this.#intervalMs) {
      w.start = now;
      w.lines = 0;
    }
    const last = key !== undefined ? this.#sources.get(key) : undefined;
    if (w.lines >= this.#perCode || (last !== undefined && now - last < this.#intervalMs)) {
      w.suppressed++;
      if (source !== undefined && w.sources.size < MAX_COUNTED_SOURCES) w.sources.add(source);
      if (this.#summaries && !w.timer && !this.#closed && this.#clock.setTimeout) {
        w.timer = this.#clock.setTimeout(() => this.#summary(code), Math.max(1, w.start + this.#intervalMs - now));
      }
      this.#log.debug({ code, ...fields }, msg);
      return false;
    }
    w.lines++;
    if (key !== undefined) {
      this.#sources.delete(key);
      this.#sources.set(key, now);
      if (this.#sources.size > this.#maxSources) this.#sources.delete(this.#sources.keys().next().value as string);
    }
    const suppressed = w.suppressed;
    if (suppressed > 0) this.#resetSuppressed(w);
    this.#log[level]({ code, ...fields, ...(suppressed > 0 ? { suppressed } : {}) },
      suppressed > 0 ? `${msg} (and ${suppressed} more with this code since the last line)` : msg);
    return true;
  }

  /** Writes the pending summary lines now and stops the timers. Idempotent. */
  close(): void {
    if (this.#closed) return;
    for (const code of this.#codes.keys()) this.#summary(code);
    this.#closed = true;
  }

  #resetSuppressed(w: CodeWindow): void {
    w.suppressed = 0;
    w.sources.clear();
    w.timer?.cancel();
    w.timer = undefined;
  }

  #summary(code: string): void {
    const w = this.#codes.get(code);
    if (!w) return;
    w.timer = undefined;
    if (w.suppressed === 0) return;
    const { suppressed } = w;
    const sources = w.sources.size;
    this.#resetSuppressed(w);
    this.#log.warn({ code, event: 'LOG_LINES_LEFT_OUT', suppressed, ...(sources > 0 ? { sources } : {}) },
      `left out ${suppressed} log line${suppressed === 1 ? '' : 's'} with code ${code}${sources > 0 ? ` from ${sources}${sources >= MAX_COUNTED_SOURCES ? '+' : ''} source${sources === 1 ? '' : 's'}` : ''} (rate limit: ${this.#perCode} per code and 1 per source every ${Math.round(this.#intervalMs / 1000)} s)`);
  }
}
