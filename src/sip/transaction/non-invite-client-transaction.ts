import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow, SendTarget } from '../transport/types.js';
import type { TransactionError } from './errors.js';
import { serializeMessage as serialize } from '../message/index.js';
import { TransactionBase } from './transaction-base.js';
import { callUser, type TransactionContext } from './transaction-context.js';
import type { ClientTransaction, ClientTransactionState, ClientTransactionUser } from './types.js';

/** Non-INVITE client transaction (RFC 3261 §17.1.2): Trying → Proceeding → Completed → Terminated. */
export class NonInviteClientTransaction extends TransactionBase<ClientTransactionState> implements ClientTransaction {
  readonly kind = 'nict' as const;
  readonly target: SendTarget;
  /** Until the final response: nothing reaches the TU after it. */
  #user: ClientTransactionUser | undefined;
  /** The request's bytes, until the final response ends its retransmission. */
  #bytes: Buffer | undefined;
  #flow: Flow | undefined;
  #intervalE: number;

  constructor(ctx: TransactionContext, id: string, request: SipRequest, target: SendTarget, user: ClientTransactionUser) {
    super(ctx, id, 'Trying', target.protocol !== 'udp', request);
    this.target = target;
    this.#user = user;
    this.#bytes = serialize(request);
    this.#intervalE = this.timers.E;
  }

  get flow(): Flow | undefined {
    return this.#flow;
  }

  /** Sends the request and starts Timers E and F. */
  start(): void {
    if (!this.#bytes) return;
    // "The "Trying" state is entered when the TU initiates a new client transaction with a request. When
    // entering this state, the client transaction SHOULD set timer F to fire in 64*T1 seconds. The request MUST
    // be passed to the transport layer for transmission. If an unreliable transport is in use, the client
    // transaction MUST set timer E to fire in T1 seconds." https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2
    this.sendBytes(this.#bytes, this.target, false);
    this.startTimer('F', this.timers.F, () => this.#onTimerF());
    if (!this.reliable) this.startTimer('E', this.#intervalE, () => this.#onTimerE());
  }

  #onTimerE(): void {
    if (!this.#bytes) return;
    this.sendBytes(this.#bytes, this.#retransmitTarget(), true);
    if (this.state === 'Trying') {
      // "If timer E fires while still in this state, the timer is reset, but this time with a value of
      // MIN(2*T1, T2). When the timer fires again, it is reset to a MIN(4*T1, T2)."
      this.#intervalE = Math.min(2 * this.#intervalE, this.timers.T2);
    } else {
      // "If Timer E fires while in the "Proceeding" state, the request MUST be passed to the transport layer for
      // retransmission, and Timer E MUST be reset with a value of T2 seconds."
      this.#intervalE = this.timers.T2;
    }
    this.startTimer('E', this.#intervalE, () => this.#onTimerE());
  }

  #onTimerF(): void {
    // "If Timer F fires while the client transaction is still in the "Trying" state, the client transaction
    // SHOULD inform the TU about the timeout, and then it SHOULD enter the "Terminated" state."
    // "If timer F fires while in the "Proceeding" state, the TU MUST be informed of a timeout, and the client
    // transaction MUST transition to the terminated state."
    this.ctx.stats.timeouts++;
    this.transition('Terminated');
    const user = this.#user;
    if (user) callUser(this.ctx, 'onTimeout', () => user.onTimeout(this));
  }

  /** A response whose top Via branch and CSeq method matched this transaction (§17.1.3). */
  receiveResponse(response: SipResponse, flow: Flow): void {
    const status = response.status;
    switch (this.state) {
      case 'Trying':
      case 'Proceeding':
        if (status < 200) {
          // "If a provisional response is received while in the "Trying" state, the response MUST be passed to
          // the TU, and then the client transaction SHOULD move to the "Proceeding" state."
          // "If a provisional response is received while in the "Proceeding" state, it MUST be passed to the TU."
          this.transition('Proceeding');
          const user = this.#user;
          if (user) callUser(this.ctx, 'onResponse', () => user.onResponse(response, flow, this));
          return;
        }
        // "If a final response (status codes 200-699) is received while in the "Trying" state, the response MUST
        // be passed to the TU, and the client transaction MUST transition to the "Completed" state."
        // (the same holds in "Proceeding")
        this.stopTimer('E');
        this.stopTimer('F');
        this.transition('Completed');
        // Nothing reaches the TU after the final response and nothing is sent again: the user, the request and
        // its bytes go now, not after Timer K.
        const user = this.#user;
        this.#user = undefined;
        this.#bytes = undefined;
        this.releaseRequest();
        if (user) callUser(this.ctx, 'onResponse', () => user.onResponse(response, flow, this));
        // "Once the client transaction enters the "Completed" state, it MUST set Timer K to fire in T4 seconds
        // for unreliable transports, and zero seconds for reliable transports."
        this.terminateAfter('K', this.timers.K);
        return;
      case 'Completed':
        // "The "Completed" state exists to buffer any additional response retransmissions that may be received
        // (which is why the client transaction remains there only for unreliable transports)."
        this.ctx.stats.retransmissionsAbsorbed++;
        return;
      default:
        return;
    }
  }

  protected override sent(flow: Flow): void {
    this.#flow ??= flow;
  }

  protected override transportFailed(error: TransactionError): void {
    const informTu = this.state === 'Trying' || this.state === 'Proceeding';
    // "the client transaction SHOULD inform the TU that a transport failure has occurred, and the client
    // transaction SHOULD transition directly to the "Terminated" state."
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.4
    this.transition('Terminated');
    const user = this.#user;
    if (informTu && user) callUser(this.ctx, 'onTransportError', () => user.onTransportError(error, this));
  }

  #retransmitTarget(): SendTarget {
    const c = this.#flow?.connectionId;
    return c === undefined || this.target.connectionId !== undefined ? this.target : { ...this.target, connectionId: c };
  }
}
