import type { Clock } from '../../common/clock.js';
import { RateLimitedLog } from '../../log/rate-limited-log.js';
import type { Logger } from '../../log/logger.js';

/**
 * One log line for input refused at the transport (a 400 sent, or a message dropped), at warn, without letting a
 * flood of bad packets flood the log: the first of each code is logged at once, then at most one line per code
 * per `intervalMs`, carrying how many of that code went unlogged since. Every one is still counted by the caller.
 * The limiter is the shared one (src/log/rate-limited-log.ts) that TLS failures use too.
 */
export class RefusedInputLog {
  readonly #lines: RateLimitedLog;

  constructor(log: Logger, clock: Clock, intervalMs = 60_000) {
    this.#lines = new RateLimitedLog(log, clock, { intervalMs, perCode: 1 });
  }

  refused(code: string, reason: string, remote: string, protocol: string, msg: string): void {
    this.#lines.warn(code, undefined, { reason, remote, protocol }, msg);
  }
}
