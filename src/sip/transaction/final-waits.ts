import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';

/** A transaction in its final wait (Timer D, I, J, K, L or M), which the layer ends when the wait is over. */
export interface WaitingTransaction {
  readonly id: string;
  /** Ends the wait now: the transaction terminates. */
  endWait(): void;
}

/** The default cap: about 1,500 calls a second held through RFC 3261's 32 s waits (three or four per call). */
export const DEFAULT_MAX_WAITING = 150_000;

/**
 * Waits end on this grid (ms): one sweep ends every wait that fell due, so a wait lasts its timer's value and at
 * most this much more. The RFC's values for these timers are minimums ("at least 32 seconds", §17.1.1.2).
 */
export const WAIT_TICK_MS = 100;

/** One warn line per this many ms while the cap keeps ending waits early. */
const LOG_EVERY_MS = 10_000;

/**
 * The transactions that have done their work and only wait out their final timer, and the one timer that ends
 * those waits: a timer wheel in place of a timer per transaction. Under load tens of thousands of transactions
 * wait 32 s each (about 100,000 at 1,000 calls/s over UDP); each keeps a map entry here instead of a timer, its
 * wrapper and a closure, which every young collection would copy until they were promoted.
 *
 * Waits of one length end in the order they began (the clock only moves forward), so each length has a queue in
 * insertion order and only its head is ever due first. Past the cap the wait due soonest ends early: that
 * transaction can no longer absorb a late retransmission, which is all it still did, where refusing new
 * transactions would refuse calls. Counted (`endedEarly`), with one rate-limited warn line,
 * ERR_SIP_TRANSACTION_WAIT_LIMIT.
 */
export class FinalWaits {
  /** Wait length (ms) → the waiting transactions in order, each with the time its wait ends. */
  readonly #queues = new Map<number, Map<WaitingTransaction, number>>();
  readonly #max: number;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  #size = 0;
  #endedEarly = 0;
  #loggedAt = -Infinity;
  #sweep: TimerHandle | undefined;
  #sweepAt = Infinity;

  constructor(max: number, clock: Clock, log: Logger | undefined) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('the cap on waiting transactions must be a positive whole number');
    this.#max = max;
    this.#clock = clock;
    this.#log = log;
  }

  get size(): number {
    return this.#size;
  }

  get endedEarly(): number {
    return this.#endedEarly;
  }

  /** `txn` waits `ms` from now (rounded up to the tick), then ends. */
  add(txn: WaitingTransaction, ms: number): void {
    let q = this.#queues.get(ms);
    if (!q) {
      q = new Map();
      this.#queues.set(ms, q);
    }
    if (!this.#remove(txn)) this.#size++;
    const endAt = Math.ceil((this.#clock.now() + ms) / WAIT_TICK_MS) * WAIT_TICK_MS;
    q.set(txn, endAt);
    if (this.#size > this.#max) this.#endSoonest();
    this.#armFor(endAt);
  }

  delete(txn: object): void {
    if (this.#remove(txn as WaitingTransaction)) this.#size--;
  }

  clear(): void {
    this.#queues.clear();
    this.#size = 0;
    this.#sweep?.cancel();
    this.#sweep = undefined;
    this.#sweepAt = Infinity;
  }

  #remove(txn: WaitingTransaction): boolean {
    for (const q of this.#queues.values()) if (q.delete(txn)) return true;
    return false;
  }

  #endSoonest(): void {
    let soonest: { q: Map<WaitingTransaction, number>; txn: WaitingTransaction; at: number } | undefined;
    for (const q of this.#queues.values()) {
      const head = q.entries().next();
      if (!head.done && (soonest === undefined || head.value[1] < soonest.at)) soonest = { q, txn: head.value[0], at: head.value[1] };
    }
    if (!soonest) return;
    this.#endedEarly++;
    const now = this.#clock.now();
    if (now - this.#loggedAt >= LOG_EVERY_MS) {
      this.#loggedAt = now;
      this.#log?.warn({ code: 'ERR_SIP_TRANSACTION_WAIT_LIMIT', max: this.#max, endedEarly: this.#endedEarly, transaction: soonest.txn.id },
        `${this.#max} transactions wait out their final timer: the waits due soonest end early`);
    }
    this.#end(soonest.q, soonest.txn);
  }

  /**
   * Ends one wait: the transaction terminates and the layer's delete() takes it out; one that does not call back
   * is taken out here.
   */
  #end(q: Map<WaitingTransaction, number>, txn: WaitingTransaction): void {
    txn.endWait();
    if (q.delete(txn)) this.#size--;
  }

  #armFor(at: number): void {
    if (at >= this.#sweepAt) return;
    this.#sweep?.cancel();
    this.#sweepAt = at;
    this.#sweep = this.#clock.setTimeout(() => this.#run(), Math.max(0, at - this.#clock.now()));
  }

  /** Ends every wait that is due, then arms the timer for the next one. */
  #run(): void {
    this.#sweep = undefined;
    this.#sweepAt = Infinity;
    const now = this.#clock.now();
    let next = Infinity;
    for (const q of this.#queues.values()) {
      for (const [txn, at] of q) {
        if (at > now) {
          if (at < next) next = at;
          break;
        }
        this.#end(q, txn);
      }
    }
    if (next < Infinity) this.#armFor(next);
  }
}
