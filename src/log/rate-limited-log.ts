import type { Logger } from 'pino';

/** The clock a limiter reads (structurally the common Clock's `now`). */
export interface NowSource {
  now(): number;
}

export type LimitedLevel = 'fatal' | 'error' | 'warn' | 'info';

/**
 * Log lines with a stable `code` that a flood cannot multiply: the first line of each code (and source, when
 * given) is written at once, then at most one per `intervalMs`, carrying `suppressed`: how many of that key
 * went unwritten since the last line. The ones left out are written at debug. The number of keys is bounded:
 * past `maxKeys` the oldest is forgotten.
 */
export class RateLimitedLog {
  readonly #log: Logger;
  readonly #clock: NowSource;
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #byKey = new Map<string, { lastAt: number; suppressed: number }>();

  constructor(log: Logger, clock: NowSource, o: { intervalMs?: number; maxKeys?: number } = {}) {
    this.#log = log;
    this.#clock = clock;
    this.#intervalMs = o.intervalMs ?? 60_000;
    this.#maxKeys = o.maxKeys ?? 10_000;
  }

  /** Writes (or counts) one line; true when it was written at `level`. */
  line(level: LimitedLevel, code: string, fields: Record<string, unknown>, msg: string, source?: string): boolean {
    const key = source === undefined ? code : `${code}\u0000${source}`;
    const now = this.#clock.now();
    const seen = this.#byKey.get(key);
    if (seen && now - seen.lastAt < this.#intervalMs) {
      seen.suppressed++;
      this.#log.debug({ code, ...fields }, msg);
      return false;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.#byKey.delete(key);
    if (this.#byKey.size >= this.#maxKeys) {
      const oldest = this.#byKey.keys().next().value;
      if (oldest !== undefined) this.#byKey.delete(oldest);
    }
    this.#byKey.set(key, { lastAt: now, suppressed: 0 });
    this.#log[level]({ code, ...fields, ...(suppressed > 0 ? { suppressed } : {}) },
      suppressed > 0 ? `${msg} (and ${suppressed} more like it since the last line)` : msg);
    return true;
  }
}
