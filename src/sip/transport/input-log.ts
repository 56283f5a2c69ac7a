import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';

/**
 * One log line for input refused at the transport (a 400 sent, or a message dropped), at warn, without letting a
 * flood of bad packets flood the log: the first of each code is logged at once, then at most one line per code
 * per `intervalMs`, carrying how many of that code went unlogged since. Every one is still counted by the caller.
 */
export class RefusedInputLog {
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #byCode = new Map<string, { lastAt: number; suppressed: number }>();

  constructor(log: Logger, clock: Clock, intervalMs = 60_000) {
    this.#log = log;
    this.#clock = clock;
    this.#intervalMs = intervalMs;
  }

  refused(code: string, reason: string, remote: string, protocol: string, msg: string): void {
    const now = this.#clock.now();
    const seen = this.#byCode.get(code);
    if (seen && now - seen.lastAt < this.#intervalMs) {
      seen.suppressed++;
      this.#log.debug({ code, reason, remote, protocol }, msg);
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.#byCode.set(code, { lastAt: now, suppressed: 0 });
    this.#log.warn({ code, reason, remote, protocol, ...(suppressed > 0 ? { suppressed } : {}) },
      suppressed > 0 ? `${msg} (and ${suppressed} more with this code since the last line)` : msg);
  }
}
