import type { TimerHandle } from '../../common/clock.js';
import type { SipRequest } from '../message/types.js';
import type { Flow, SendTarget } from '../transport/types.js';
import { TransactionError } from './errors.js';
import type { TransactionContext } from './transaction-context.js';
import { timerValues, type TimerValues } from './timers.js';
import type { TransactionKind } from './types.js';

/** The RFC's timers; 'Trying' is the INVITE server's 200 ms before its 100, 'Cancel' the 64*T1 after a CANCEL (§9.1). */
type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying' | 'Cancel';

/** State, timers and sending shared by the four transaction state machines. */
export abstract class TransactionBase<S extends string> {
  abstract readonly kind: TransactionKind;
  /** The matching key (RFC 3261 §17.1.3 / §17.2.3); also the transaction's id. */
  readonly id: string;
  /** UDP is the only unreliable transport here: retransmissions and the non-zero D/I/J/K apply to it alone. */
  readonly reliable: boolean;
  /** Every timer value for this transaction's transport. */
  readonly timers: Readonly<TimerValues>;
  protected readonly ctx: TransactionContext;
  #state: S;
  // A stopped timer's slot is set to undefined, never deleted: a delete would turn the object into a dictionary.
  #handles: Partial<Record<TimerName, TimerHandle | undefined>> = {};
  /** The final wait under way (terminateAfter), ended by the layer's timer wheel rather than a timer of its own. */
  #waitName: TimerName | undefined;
  #reportedFailure = false;
  #disposed = false;
  #request: SipRequest | undefined;

  protected constructor(ctx: TransactionContext, id: string, initial: S, reliable: boolean, request: SipRequest) {
    this.ctx = ctx;
    this.id = id;
    this.#request = request;
    this.#state = initial;
    this.reliable = reliable;
    this.timers = timerValues(ctx.settings, reliable);
  }

  /**
   * The request that created the transaction, while its TU may still act on it. Past its final response a
   * transaction keeps only the bytes it may send again and its matching key (releaseRequest), so the parsed
   * message is collected young instead of living through Timer D/J/L/M (32 s) and costing every scavenge.
   */
  get request(): SipRequest {
    if (this.#request === undefined) {
      throw new TransactionError('ERR_SIP_TRANSACTION_RELEASED', 'the transaction has its final response and no longer holds its request', {
        details: { transaction: this.id, state: this.#state },
      });
    }
    return this.#request;
  }

  protected releaseRequest(): void {
    this.#request = undefined;
  }

  get state(): S {
    return this.#state;
  }

  get terminated(): boolean {
    return this.#state === 'Terminated';
  }

  protected transition(to: S): void {
    if (this.#state === 'Terminated') return;
    this.#state = to;
    if (to === 'Terminated') {
      // "The client transaction MUST be destroyed the instant it enters the "Terminated" state."
      // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
      this.#cancelAll();
      this.ctx.terminated(this.kind, this.id, this);
    }
  }

  protected startTimer(name: TimerName, ms: number, fire: () => void): void {
    this.#handles[name]?.cancel();
    this.#handles[name] = this.ctx.clock.setTimeout(() => {
      this.#handles[name] = undefined;
      if (!this.terminated) fire();
    }, ms);
  }

  /**
   * Ends the transaction when `ms` have passed (Timers D, I, J, K, L, M: the wait that only absorbs or answers
   * retransmissions), at once when `ms` is 0 (a reliable transport). Tens of thousands of transactions wait so
   * under load (32 s each over UDP): the layer ends their waits from one timer (final-waits.ts), so a wait costs
   * a map entry, not a timer of its own.
   */
  protected terminateAfter(name: TimerName, ms: number): void {
    if (ms === 0) {
      this.transition('Terminated' as S);
      return;
    }
    this.#waitName = name;
    this.ctx.waiting(this, ms);
  }

  /** Ends the final wait now: its time is up, or the layer's cap on waiting transactions was reached. */
  endWait(): void {
    this.transition('Terminated' as S);
  }

  protected stopTimer(name: TimerName): void {
    const h = this.#handles[name];
    if (h) {
      h.cancel();
      this.#handles[name] = undefined;
    }
  }

  /** Names of the timers now running; for tests and diagnostics. */
  runningTimers(): string[] {
    const names = (Object.keys(this.#handles) as TimerName[]).filter((n) => this.#handles[n] !== undefined);
    if (this.#waitName !== undefined && !this.terminated) names.push(this.#waitName);
    return names.sort();
  }

  /** Hands bytes to the transport; a failure is reported once through `transportFailed`. */
  protected sendBytes(bytes: Buffer, target: SendTarget, retransmission: boolean): void {
    if (retransmission) this.ctx.stats.retransmissionsSent++;
    let p: Promise<Flow>;
    try {
      p = this.ctx.transport.send(bytes, target);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (flow) => this.sent(flow),
      (err: unknown) => this.#failSend(err),
    );
  }

  /**
   * The connection this transaction sent on failed before any answer came back (a TLS 1.3 server refusing our
   * client certificate once its handshake is over): the TU hears it as it hears a failed send.
   */
  flowFailed(err: unknown): void {
    this.#failSend(err);
  }

  #failSend(err: unknown): void {
    this.ctx.stats.transportErrors++;
    // A transaction on a reliable transport may already have ended (Timer J/K/D/I are zero there); the TU
    // still has to hear that its last message did not leave.
    if (this.#disposed || (this.terminated && (!this.reliable || this.#reportedFailure))) return;
    this.#reportedFailure = true;
    this.transportFailed(
      new TransactionError('ERR_SIP_TRANSACTION_TRANSPORT', 'the transport failed to send', { cause: err, details: { transaction: this.id } }),
    );
  }

  /** The transport sent something; the flow it used. */
  protected sent(_flow: Flow): void {}

  protected abstract transportFailed(error: TransactionError): void;

  /** Ends the transaction without telling anyone (the layer is closing). */
  dispose(): void {
    this.#disposed = true;
    this.#cancelAll();
    this.#state = 'Terminated' as S;
  }

  #cancelAll(): void {
    const handles = this.#handles;
    for (const name in handles) {
      const h = handles[name as TimerName];
      if (h) {
        h.cancel();
        handles[name as TimerName] = undefined;
      }
    }
  }
}
