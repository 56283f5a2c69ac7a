import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow, SendTarget } from '../transport/types.js';
import { buildResponse } from './build-response.js';
import { TransactionError } from './errors.js';
import { ownString, serializeMessage as serialize, toTagOf } from '../message/index.js';
import { TransactionBase } from './transaction-base.js';
import { keptBytes } from './kept-bytes.js';
import { callUser, type TransactionContext } from './transaction-context.js';
import type { ServerTransaction, ServerTransactionState } from './types.js';

export interface InviteServerTransactionOptions {
  /** Send 100 (Trying) if the TU has not answered within 200 ms (default true). */
  autoTrying?: boolean;
}

/**
 * INVITE server transaction (RFC 3261 §17.2.1 as updated by RFC 6026 §8.5-8.7):
 * Proceeding → Accepted (2xx) | Completed (300-699) → Confirmed → Terminated.
 */
export class InviteServerTransaction extends TransactionBase<ServerTransactionState> implements ServerTransaction {
  readonly kind = 'ist' as const;
  readonly flow: Flow;
  /** Where responses go (RFC 3261 §18.2.2). */
  readonly target: SendTarget;
  /** The bytes of the last response sent, re-sent as they are; the 2xx's are handed over (takeAcceptedBytes). */
  #lastBytes: Buffer | undefined;
  /** The To tag of the last response sent (the RFC 2543 ACK match, §17.2.3); the parsed response is not kept. */
  #lastToTag: string | undefined;
  #intervalG: number;

  constructor(ctx: TransactionContext, id: string, request: SipRequest, flow: Flow, target: SendTarget, opts: InviteServerTransactionOptions = {}) {
    // "When a server transaction is constructed for a request, it enters the "Proceeding" state."
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
    super(ctx, id, 'Proceeding', flow.protocol !== 'udp', request);
    this.flow = flow;
    this.target = target;
    this.#intervalG = this.timers.G;
    if (opts.autoTrying !== false) {
      // "The server transaction MUST generate a 100 (Trying) response unless it knows that the TU will generate a
      // provisional or final response within 200 ms, in which case it MAY generate a 100 (Trying) response."
      this.startTimer('Trying', 200, () => {
        if (this.state === 'Proceeding' && this.#lastBytes === undefined) this.respond(buildResponse(this.request, 100, 'Trying'));
      });
    }
  }

  /**
   * The 2xx's bytes, handed over once to the TU that retransmits them (RFC 6026 §8.1): in "Accepted" the
   * transaction itself sends nothing again, so it does not keep them through Timer L's 32 s.
   */
  takeAcceptedBytes(): Buffer | undefined {
    if (this.state !== 'Accepted') return undefined;
    const bytes = this.#lastBytes;
    this.#lastBytes = undefined;
    return bytes;
  }

  /** Sends a response from the TU; false when the state no longer allows it (the response is not sent). */
  respond(response: SipResponse): boolean {
    const status = response.status;
    if (status < 100 || status > 699) throw new RangeError(`status ${status} is not a SIP status code`);
    switch (this.state) {
      case 'Proceeding':
        this.stopTimer('Trying');
        this.#send(response);
        if (status < 200) {
          // "The TU passes any number of provisional responses to the server transaction. So long as the server
          // transaction is in the "Proceeding" state, each of these MUST be passed to the transport layer for
          // transmission."
        } else if (status < 300) {
          // "If, while in the "Proceeding" state, the TU passes a 2xx response to the server transaction, the
          // server transaction MUST pass this response to the transport layer for transmission. It is not
          // retransmitted by the server transaction; retransmissions of 2xx responses are handled by the TU. The
          // server transaction MUST then transition to the "Accepted" state."
          // https://www.rfc-editor.org/rfc/rfc6026#section-8.5
          this.transition('Accepted');
          this.releaseRequest();
          // "When the INVITE server transaction enters the "Accepted" state, Timer L MUST be set to fire in 64*T1
          // for all transports." https://www.rfc-editor.org/rfc/rfc6026#section-8.7
          // "If Timer L fires while the INVITE server transaction is in the "Accepted" state, the transaction MUST
          // transition to the "Terminated" state." https://www.rfc-editor.org/rfc/rfc6026#section-8.7
          this.terminateAfter('L', this.timers.L);
        } else {
          // "While in the "Proceeding" state, if the TU passes a response with status code from 300 to 699 to the
          // server transaction, the response MUST be passed to the transport layer for transmission, and the state
          // machine MUST enter the "Completed" state. For unreliable transports, timer G is set to fire in T1
          // seconds, and is not set to fire for reliable transports." https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
          this.transition('Completed');
          this.releaseRequest();
          // Sent again until the ACK, through Timer G over UDP: kept in memory of its own.
          if (!this.reliable && this.#lastBytes) this.#lastBytes = keptBytes(this.#lastBytes);
          // "When the "Completed" state is entered, timer H MUST be set to fire in 64*T1 seconds for all transports."
          if (!this.reliable) this.startTimer('G', this.#intervalG, () => this.#onTimerG());
          this.startTimer('H', this.timers.H, () => this.#onTimerH());
        }
        return true;
      case 'Accepted':
        if (status >= 200 && status < 300) {
          // "While in the "Accepted" state, if the TU passes a 2xx response, the server transaction MUST pass the
          // response to the transport layer for transmission." https://www.rfc-editor.org/rfc/rfc6026#section-8.7
          this.#send(response);
          return true;
        }
        return false;
      default:
        this.ctx.stats.lateResponsesDiscarded++;
        this.ctx.lines?.line('warn', 'ERR_SIP_TRANSACTION_LATE_RESPONSE', { transaction: this.id, state: this.state, status }, 'response refused by the INVITE server transaction');
        return false;
    }
  }

  /** A retransmission of the INVITE (§17.2.3 matched it to this transaction). */
  receiveRequest(_request: SipRequest, _flow: Flow): void {
    this.ctx.stats.retransmissionsAbsorbed++;
    switch (this.state) {
      case 'Proceeding':
        // "If a request retransmission is received while in the "Proceeding" state, the most recent provisional
        // response that was received from the TU MUST be passed to the transport layer for retransmission."
        if (this.#lastBytes) this.sendBytes(this.#lastBytes, this.target, true);
        return;
      case 'Completed':
        // "while in the "Completed" state, if a request retransmission is received, the server SHOULD pass the
        // response to the transport for retransmission."
        if (this.#lastBytes) this.sendBytes(this.#lastBytes, this.target, true);
        return;
      default:
        // "The purpose of the "Accepted" state is to absorb retransmissions of an accepted INVITE request. Any such
        // retransmissions are absorbed entirely within the server transaction." (RFC 6026 §8.7); "Confirmed" likewise.
        return;
    }
  }

  /**
   * An ACK matched to this transaction. Returns true when the ACK must go up to the TU (Accepted state: it
   * acknowledges a 2xx).
   */
  receiveAck(_ack: SipRequest, _flow: Flow): boolean {
    switch (this.state) {
      case 'Completed':
        // "If an ACK is received while the server transaction is in the "Completed" state, the server transaction
        // MUST transition to the "Confirmed" state. As Timer G is ignored in this state, any retransmissions of
        // the response will cease." https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
        this.stopTimer('G');
        this.stopTimer('H');
        this.transition('Confirmed');
        // "When this state is entered, timer I is set to fire in T4 seconds for unreliable transports, and zero
        // seconds for reliable transports."
        this.terminateAfter('I', this.timers.I);
        return false;
      case 'Confirmed':
        // "The purpose of the "Confirmed" state is to absorb any additional ACK messages that arrive, triggered
        // from retransmissions of the final response."
        this.ctx.stats.retransmissionsAbsorbed++;
        return false;
      case 'Accepted':
        // "If an ACK is received while the INVITE server transaction is in the "Accepted" state, then the ACK must
        // be passed up to the TU." https://www.rfc-editor.org/rfc/rfc6026#section-8.7
        return true;
      default:
        return false;
    }
  }

  /** The To tag of the final response sent, for the RFC 2543 ACK match (§17.2.3). */
  get responseToTag(): string | undefined {
    return this.#lastToTag;
  }

  #send(response: SipResponse): void {
    // Only a final response's tag is ever matched (an ACK comes after the final): provisionals skip the parse.
    if (response.status >= 200) {
      const tag = toTagOf(response);
      this.#lastToTag = tag === undefined ? undefined : ownString(tag);
    }
    this.#lastBytes = serialize(response);
    this.sendBytes(this.#lastBytes, this.target, false);
  }

  #onTimerG(): void {
    if (this.state !== 'Completed' || !this.#lastBytes) return;
    // "If timer G fires, the response is passed to the transport layer once more for retransmission, and timer G
    // is set to fire in MIN(2*T1, T2) seconds. From then on, when timer G fires, the response is passed to the
    // transport again for transmission, and timer G is reset with a value that doubles, unless that value exceeds
    // T2, in which case it is reset with the value of T2."
    this.sendBytes(this.#lastBytes, this.target, true);
    this.#intervalG = Math.min(2 * this.#intervalG, this.timers.T2);
    this.startTimer('G', this.#intervalG, () => this.#onTimerG());
  }

  #onTimerH(): void {
    if (this.state !== 'Completed') return;
    // "If timer H fires while in the "Completed" state, it implies that the ACK was never received. In this case,
    // the server transaction MUST transition to the "Terminated" state, and MUST indicate to the TU that a
    // transaction failure has occurred."
    this.ctx.stats.timeouts++;
    this.transition('Terminated');
    const error = new TransactionError('ERR_SIP_TRANSACTION_NO_ACK', 'no ACK for the final response (Timer H)', { details: { transaction: this.id } });
    this.#informTu(error);
  }

  protected override transportFailed(error: TransactionError): void {
    // "If those should all fail, based on the definition of failure in [4], the server transaction SHOULD inform
    // the TU that a failure has occurred, and SHOULD transition to the terminated state."
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.4
    this.transition('Terminated');
    this.#informTu(error);
  }

  #informTu(error: TransactionError): void {
    const tu = this.ctx.tu();
    if (tu?.onServerTransactionError) callUser(this.ctx, 'onServerTransactionError', () => tu.onServerTransactionError!(this, error));
  }
}
