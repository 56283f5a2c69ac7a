import { GatewayError } from '../../common/gateway-error.js';

/** Stable codes of the transaction layer (docs/conventions.md, Error codes). */
export type TransactionErrorCode =
  /** Timer H fired: no ACK arrived for a non-2xx final response to an INVITE. */
  | 'ERR_SIP_TRANSACTION_NO_ACK'
  /** The transport failed to send a request, a response or an ACK. */
  | 'ERR_SIP_TRANSACTION_TRANSPORT'
  /** The cap on transactions still at work was reached. */
  | 'ERR_SIP_TRANSACTION_LIMIT'
  /** The cap on transactions waiting out their final timer was reached: the oldest waits end early. */
  | 'ERR_SIP_TRANSACTION_WAIT_LIMIT'
  /** A request that cannot start a transaction (no top Via, no branch, ACK, missing CSeq ...). */
  | 'ERR_SIP_TRANSACTION_BAD_REQUEST'
  /** The layer was closed. */
  | 'ERR_SIP_TRANSACTION_CLOSED'
  /** A transaction's request was asked for after its final response, when it no longer holds it. */
  | 'ERR_SIP_TRANSACTION_RELEASED'
  /** A response the TU passed after the server transaction's final one (a proxy's second 2xx, an app's late answer): not sent. */
  | 'ERR_SIP_TRANSACTION_LATE_RESPONSE'
  /** A CANCEL could not be sent (the transaction cap, the transport). */
  | 'ERR_SIP_TRANSACTION_CANCEL_NOT_SENT'
  /** A callback into the transaction user threw; the state machine went on. */
  | 'ERR_SIP_TRANSACTION_USER_FAILED';

export class TransactionError extends GatewayError<TransactionErrorCode> {
  constructor(code: TransactionErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.name = 'TransactionError';
  }
}
