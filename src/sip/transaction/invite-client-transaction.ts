import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow, SendTarget } from '../transport/types.js';
import { buildAck } from './build-ack.js';
import type { TransactionError } from './errors.js';
import { serializeMessage as serialize } from '../message/index.js';
import { TransactionBase } from './transaction-base.js';
import { keptBytes } from './kept-bytes.js';
import { callUser, type TransactionContext } from './transaction-context.js';
import type { ClientTransaction, ClientTransactionState, ClientTransactionUser } from './types.js';

/**
 * INVITE client transaction (RFC 3261 §17.1.1 as updated by RFC 6026 §7.2):
 * Calling → Proceeding → Accepted (2xx) | Completed (300-699) → Terminated.
 */
export class InviteClientTransaction extends TransactionBase<ClientTransactionState> implements ClientTransaction {
  readonly kind = 'ict' as const;
  readonly target: SendTarget;
  /** Kept in Accepted (a retransmitted 2xx goes up, RFC 6026 §8.4); dropped in Completed, where nothing does. */
  #user: ClientTransactionUser | undefined;
  /** The INVITE's bytes, until a response stops its retransmission. */
  #bytes: Buffer | undefined;
  #flow: Flow | undefined;
  #ackBytes: Buffer | undefined;
  #intervalA: number;
  #whenProceeding: (() => void) | undefined;

  constructor(ctx: TransactionContext, id: string, request: SipRequest, target: SendTarget, user: ClientTransactionUser) {
    super(ctx, id, 'Calling', target.protocol !== 'udp', request);
    this.target = target;
    this.#user = user;
    this.#bytes = serialize(request);
    this.#intervalA = this.timers.A;
  }

  get flow(): Flow | undefined {
    return this.#flow;
  }

  /**
   * Runs `fn` once the transaction reaches Proceeding (now, if it is there); dropped if a final response or
   * a timeout comes first. Used to hold a CANCEL back (§9.1).
   */
  whenProceeding(fn: () => void): void {
    if (this.state === 'Proceeding') fn();
    else if (this.state === 'Calling') this.#whenProceeding = fn;
  }

  /**
   * A CANCEL for this INVITE went out (TransactionLayer.cancel, src/sip/transaction/transaction-layer.ts). "If there is
   * no final response for the original request in 64*T1 seconds (T1 is defined in Section 17.1.1.1), the client SHOULD
   * then consider the original transaction cancelled and SHOULD destroy the client transaction handling the original
   * request." Its TU hears a timeout, as at Timer B (whose value, 64*T1, this is).
   * https://www.rfc-editor.org/rfc/rfc3261#section-9.1
   */
  cancelSent(): void {
    if (this.state !== 'Proceeding') return;
    this.startTimer('Cancel', this.timers.B, () => {
      if (this.state === 'Proceeding') this.#timedOut();
    });
  }

  /** Sends the INVITE and starts Timers A and B. */
  start(): void {
    // "The initial state, "calling", MUST be entered when the TU initiates a new client transaction with an
    // INVITE request. The client transaction MUST pass the request to the transport layer for transmission"
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
    if (this.#bytes) this.sendBytes(this.#bytes, this.target, false);
    if (!this.reliable) {
      // "If an unreliable transport is being used, the client transaction MUST start timer A with a value of T1.
      // If a reliable transport is being used, the client transaction SHOULD NOT start timer A"
      this.startTimer('A', this.#intervalA, () => this.#onTimerA());
    }
    // "For any transport, the client transaction MUST start timer B with a value of 64*T1 seconds"
    this.startTimer('B', this.timers.B, () => this.#onTimerB());
  }

  #onTimerA(): void {
    if (this.state !== 'Calling') return;
    // "When timer A fires, the client transaction MUST retransmit the request by passing it to the transport
    // layer, and MUST reset the timer with a value of 2*T1. [...] When timer A fires 2*T1 seconds later, the
    // request MUST be retransmitted again (assuming the client transaction is still in this state)."
    if (this.#bytes) this.sendBytes(this.#bytes, this.sentTarget, true);
    this.#intervalA *= 2;
    this.startTimer('A', this.#intervalA, () => this.#onTimerA());
  }

  #onTimerB(): void {
    // "If the client transaction is still in the "Calling" state when timer B fires, the client transaction
    // SHOULD inform the TU that a timeout has occurred. The client transaction MUST NOT generate an ACK."
    if (this.state === 'Calling') this.#timedOut();
  }

  #timedOut(): void {
    this.ctx.stats.timeouts++;
    this.transition('Terminated');
    const user = this.#user;
    if (user) callUser(this.ctx, 'onTimeout', () => user.onTimeout(this));
  }

  /** A response whose top Via branch and CSeq method matched this transaction (§17.1.3). */
  receiveResponse(response: SipResponse, flow: Flow): void {
    const status = response.status;
    switch (this.state) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) {
          // "If the client transaction receives a provisional response while in the "Calling" state, it
          // transitions to the "Proceeding" state. In the "Proceeding" state, the client transaction SHOULD NOT
          // retransmit the request any longer. Furthermore, the provisional response MUST be passed to the TU."
          this.stopTimer('A');
          this.stopTimer('B');
          this.transition('Proceeding');
          this.#bytes = undefined;
          this.#up(response, flow);
          const pending = this.#whenProceeding;
          this.#whenProceeding = undefined;
          if (pending && this.state === 'Proceeding') callUser(this.ctx, 'whenProceeding', pending);
        } else if (status < 300) {
          // "If a 2xx response is received while the client INVITE state machine is in the "Calling" or
          // "Proceeding" states, it MUST transition to the "Accepted" state, pass the 2xx response to the TU, and
          // set Timer M to 64*T1." https://www.rfc-editor.org/rfc/rfc6026#section-8.4
          this.stopTimer('A');
          this.stopTimer('B');
          this.stopTimer('Cancel');
          this.transition('Accepted');
          this.#bytes = undefined;
          this.#whenProceeding = undefined;
          this.releaseRequest();
          // "If Timer M fires while the client INVITE state machine is in the "Accepted" state, the machine MUST
          // transition to the "Terminated" state." https://www.rfc-editor.org/rfc/rfc6026#section-8.4
          this.terminateAfter('M', this.timers.M);
          this.#up(response, flow);
        } else {
          // "When in either the "Calling" or "Proceeding" states, reception of a response with status code from
          // 300-699 MUST cause the client transaction to transition to "Completed". The client transaction MUST
          // pass the received response up to the TU, and the client transaction MUST generate an ACK request"
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
          this.stopTimer('A');
          this.stopTimer('B');
          this.stopTimer('Cancel');
          const ack = serialize(buildAck(this.request, response));
          this.sendBytes(ack, this.sentTarget, false);
          // Sent again for each retransmitted final response, through Timer D's 32 s over UDP: kept in memory of its own.
          this.#ackBytes = this.reliable ? ack : keptBytes(ack);
          this.transition('Completed');
          this.#bytes = undefined;
          this.#whenProceeding = undefined;
          this.releaseRequest();
          this.#up(response, flow);
          this.#user = undefined;
          // "The client transaction SHOULD start timer D when it enters the "Completed" state, with a value of at
          // least 32 seconds for unreliable transports, and a value of zero seconds for reliable transports."
          this.terminateAfter('D', this.timers.D);
        }
        return;
      case 'Accepted':
        if (status >= 200 && status < 300) {
          // "A 2xx response received while in the "Accepted" state MUST be passed to the TU and the machine
          // remains in the "Accepted" state. The client transaction MUST NOT generate an ACK to any 2xx response
          // on its own." https://www.rfc-editor.org/rfc/rfc6026#section-8.4
          this.#up(response, flow);
        } else {
          this.ctx.stats.retransmissionsAbsorbed++;
        }
        return;
      case 'Completed':
        this.ctx.stats.retransmissionsAbsorbed++;
        if (status >= 300 && this.#ackBytes) {
          // "Any retransmissions of the final response that are received while in the "Completed" state MUST
          // cause the ACK to be re-passed to the transport layer for retransmission, but the newly received
          // response MUST NOT be passed up to the TU."
          this.sendBytes(this.#ackBytes, this.sentTarget, true);
        }
        return;
      default:
        return;
    }
  }

  #up(response: SipResponse, flow: Flow): void {
    const user = this.#user;
    if (user) callUser(this.ctx, 'onResponse', () => user.onResponse(response, flow, this));
  }

  protected override sent(flow: Flow): void {
    this.#flow ??= flow;
  }

  protected override transportFailed(error: TransactionError): void {
    const informTu = this.state === 'Calling' || this.state === 'Proceeding';
    // "the client transaction SHOULD inform the TU that a transport failure has occurred, and the client
    // transaction SHOULD transition directly to the "Terminated" state."
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.4
    this.transition('Terminated');
    // After a final response the TU already has its answer; a failed ACK only ends the transaction.
    const user = this.#user;
    if (informTu && user) callUser(this.ctx, 'onTransportError', () => user.onTransportError(error, this));
  }

  /**
   * "The ACK MUST be sent to the same address, port, and transport to which the original request was sent." The
   * target, on the connection the INVITE left on: the CANCEL goes there too (TransactionLayer.cancel).
   */
  get sentTarget(): SendTarget {
    const c = this.#flow?.connectionId;
    return c === undefined || this.target.connectionId !== undefined ? this.target : { ...this.target, connectionId: c };
  }
}
