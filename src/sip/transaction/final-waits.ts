import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';

/** A transaction in its final wait (Timer D, I, J, K, L or M), which the layer may end early. */
export interface WaitingTransaction {
  readonly id: string;
  /** Ends the wait now: the transaction terminates as if its timer had fired. */
  endWait(): void;
}

/** The default cap: about 1,500 calls a second held through RFC 3261's 32 s waits (three or four per call). */
export const DEFAULT_MAX_WAITING = 150_000;

/** One warn line per this many ms while the cap keeps ending waits early. */
const LOG_EVERY_MS = 10_000;

/**
 * The transactions that have done their work and only wait out their final timer, oldest first. Past the cap
 * the oldest wait ends early: that transaction can no longer absorb a late retransmission of its request or
 * response, which is the whole of what it still did, while a cap on transactions still at work would refuse new
 * calls. Counted (`waitsEndedEarly`), with one rate-limited warn line, code ERR_SIP_TRANSACTION_WAIT_LIMIT.
 */
export class FinalWaits {
  // A Set keeps insertion order, and every wait of one kind lasts the same: the first entry ends soonest.
  readonly #waits = new Set<WaitingTransaction>();
  readonly #max: number;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  #endedEarly = 0;
  #loggedAt = -Infinity;

  constructor(max: number, clock: Clock, log: Logger | undefined) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('the cap on waiting transactions must be a positive whole number');
    this.#max = max;
    this.#clock = clock;
    this.#log = log;
  }

  get size(): number {
    return this.#waits.size;
  }

  get endedEarly(): number {
    return this.#endedEarly;
  }

  add(txn: WaitingTransaction): void {
    this.#waits.add(txn);
    if (this.#waits.size <= this.#max) return;
    const oldest = this.#waits.values().next().value as WaitingTransaction;
    this.#waits.delete(oldest);
    this.#endedEarly++;
    const now = this.#clock.now();
    if (now - this.#loggedAt >= LOG_EVERY_MS) {
      this.#loggedAt = now;
      this.#log?.warn({ code: 'ERR_SIP_TRANSACTION_WAIT_LIMIT', max: this.#max, endedEarly: this.#endedEarly, transaction: oldest.id },
        `${this.#max} transactions wait out their final timer: the oldest waits end early`);
    }
    oldest.endWait();
  }

  delete(txn: object): void {
    this.#waits.delete(txn as WaitingTransaction);
  }

  clear(): void {
    this.#waits.clear();
  }
}
