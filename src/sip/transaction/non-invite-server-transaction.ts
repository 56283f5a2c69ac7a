import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow, SendTarget } from '../transport/types.js';
import type { TransactionError } from './errors.js';
import { serializeMessage as serialize } from '../message/index.js';
import { TransactionBase } from './transaction-base.js';
import { keptBytes } from './kept-bytes.js';
import { callUser, type TransactionContext } from './transaction-context.js';
import type { ServerTransaction, ServerTransactionState } from './types.js';

/** Non-INVITE server transaction (RFC 3261 §17.2.2): Trying → Proceeding → Completed → Terminated. */
export class NonInviteServerTransaction extends TransactionBase<ServerTransactionState> implements ServerTransaction {
  readonly kind = 'nist' as const;
  readonly flow: Flow;
  readonly target: SendTarget;
  /** The bytes of the last response sent, re-sent on a retransmitted request. */
  #lastBytes: Buffer | undefined;

  constructor(ctx: TransactionContext, id: string, request: SipRequest, flow: Flow, target: SendTarget) {
    // "The state machine is initialized in the "Trying" state and is passed a request other than INVITE or ACK
    // when initialized." https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2
    super(ctx, id, 'Trying', flow.protocol !== 'udp', request);
    this.flow = flow;
    this.target = target;
  }

  /** Sends a response from the TU; false when the state no longer allows it (the response is not sent). */
  respond(response: SipResponse): boolean {
    const status = response.status;
    if (status < 100 || status > 699) throw new RangeError(`status ${status} is not a SIP status code`);
    if (this.state !== 'Trying' && this.state !== 'Proceeding') {
      // "Any other final responses passed by the TU to the server transaction MUST be discarded while in the
      // "Completed" state."
      this.ctx.stats.lateResponsesDiscarded++;
      this.ctx.lines?.line('warn', 'ERR_SIP_TRANSACTION_LATE_RESPONSE', { transaction: this.id, state: this.state, status }, 'response refused by the non-INVITE server transaction');
      return false;
    }
    const bytes = serialize(response);
    this.#lastBytes = bytes;
    this.sendBytes(bytes, this.target, false);
    if (status < 200) {
      // "While in the "Trying" state, if the TU passes a provisional response to the server transaction, the server
      // transaction MUST enter the "Proceeding" state. The response MUST be passed to the transport layer for
      // transmission." "Any further provisional responses that are received from the TU while in the
      // "Proceeding" state MUST be passed to the transport layer for transmission."
      this.transition('Proceeding');
      return true;
    }
    // "If the TU passes a final response (status codes 200-699) to the server while in the "Proceeding" state, the
    // transaction MUST enter the "Completed" state, and the response MUST be passed to the transport layer for
    // transmission." (likewise from "Trying")
    this.transition('Completed');
    this.releaseRequest();
    // Sent again only on a retransmitted request, for Timer J's 32 s over UDP: kept in memory of its own.
    if (!this.reliable) this.#lastBytes = keptBytes(bytes);
    // "When the server transaction enters the "Completed" state, it MUST set Timer J to fire in 64*T1 seconds for
    // unreliable transports, and zero seconds for reliable transports."
    this.terminateAfter('J', this.timers.J);
    return true;
  }

  /** A retransmission of the request (§17.2.3 matched it to this transaction). */
  receiveRequest(_request: SipRequest, _flow: Flow): void {
    this.ctx.stats.retransmissionsAbsorbed++;
    switch (this.state) {
      case 'Trying':
        // "Once in the "Trying" state, any further request retransmissions are discarded."
        return;
      case 'Proceeding':
      case 'Completed':
        // "If a retransmission of the request is received while in the "Proceeding" state, the most recently sent
        // provisional response MUST be passed to the transport layer for retransmission."
        // "While in the "Completed" state, the server transaction MUST pass the final response to the transport
        // layer for retransmission whenever a retransmission of the request is received."
        if (this.#lastBytes) this.sendBytes(this.#lastBytes, this.target, true);
        return;
      default:
        return;
    }
  }

  protected override transportFailed(error: TransactionError): void {
    // "the server transaction SHOULD inform the TU that a failure has occurred, and SHOULD transition to the
    // terminated state." https://www.rfc-editor.org/rfc/rfc3261#section-17.2.4
    this.transition('Terminated');
    const tu = this.ctx.tu();
    if (tu?.onServerTransactionError) callUser(this.ctx, 'onServerTransactionError', () => tu.onServerTransactionError!(this, error));
  }
}
