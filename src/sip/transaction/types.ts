import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow, SendTarget } from '../transport/types.js';

/** Transaction-layer contract (RFC 3261 §17, RFC 6026) between the transaction layer and its TU (the engine). */

export interface TimerSettings {
  /** RTT estimate, default 500 ms. */
  T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  T2: number;
  /** Maximum duration a message remains in the network, default 5 s. */
  T4: number;
}

export type ClientTransactionState = 'Calling' | 'Trying' | 'Proceeding' | 'Accepted' | 'Completed' | 'Terminated';
export type ServerTransactionState = 'Trying' | 'Proceeding' | 'Accepted' | 'Completed' | 'Confirmed' | 'Terminated';

export interface ServerTransaction {
  readonly id: string;
  readonly request: SipRequest;
  readonly flow: Flow;
  readonly state: ServerTransactionState;
  /** Sends a response (serialised and retransmitted as §17.2 requires). */
  respond(response: SipResponse): void;
}

export interface ClientTransaction {
  readonly id: string;
  readonly request: SipRequest;
  readonly state: ClientTransactionState;
  /** The flow the request went out on, once sent. */
  readonly flow: Flow | undefined;
}

/** Callbacks for one client transaction. */
export interface ClientTransactionUser {
  onResponse(response: SipResponse, flow: Flow, txn: ClientTransaction): void;
  /** Timer B or F fired: treated as 408 by the TU (§8.1.3.1). */
  onTimeout(txn: ClientTransaction): void;
  /** The transport failed: treated as 503 by the TU (§8.1.3.1). */
  onTransportError(error: Error, txn: ClientTransaction): void;
}

/** Callbacks from the transaction layer to its TU for messages no client transaction owns. */
export interface TransactionUser {
  /** A new request (not a retransmission). CANCEL gets its own server transaction. */
  onRequest(request: SipRequest, flow: Flow, txn: ServerTransaction): void;
  /** An ACK that matched no INVITE server transaction (the ACK for a 2xx, §17.2.1 / RFC 6026). */
  onAck(request: SipRequest, flow: Flow): void;
  /** A response that matched no client transaction (e.g. a retransmitted 2xx after the ICT ended). */
  onStrayResponse(response: SipResponse, flow: Flow): void;
  /**
   * A CANCEL matching an INVITE server transaction that came from elsewhere than the INVITE (cancel-source.ts): the
   * layer answered it 481 statelessly and left the INVITE alone; the TU counts it.
   */
  onCancelFromOtherSource?(request: SipRequest, flow: Flow): void;
  /** A server transaction failed to deliver a response (transport error or Timer H/J without ACK). */
  onServerTransactionError?(txn: ServerTransaction, error: Error): void;
}

export interface SendRequestOptions {
  target: SendTarget;
  user: ClientTransactionUser;
}

/** The four §17 state machines. */
export type TransactionKind = 'ict' | 'nict' | 'ist' | 'nist';

/** Counters of the transaction layer (`TransactionLayer.stats()`). */
export interface TransactionStats {
  /** Transactions created, per kind. */
  created: Record<TransactionKind, number>;
  /** Transactions alive now, per kind. */
  live: Record<TransactionKind, number>;
  /** Requests, responses and ACKs sent again (timer-driven or in answer to a retransmission). */
  retransmissionsSent: number;
  /** Retransmitted requests and responses a transaction absorbed instead of passing them up. */
  retransmissionsAbsorbed: number;
  /** Timers B, F (client, reported as onTimeout) and H (server, reported as onServerTransactionError). */
  timeouts: number;
  /** Sends the transport rejected. */
  transportErrors: number;
  /** Requests refused because the cap on transactions still at work was reached. */
  rejectedOverLimit: number;
  /** Transactions now waiting out their final timer (D, I, J, K, L, M); part of `live`. */
  waiting: number;
  /** Final waits ended early because the cap on waiting transactions was reached. */
  waitsEndedEarly: number;
  /** Responses that matched no client transaction. */
  strayResponses: number;
  /** Requests dropped before any transaction: no usable top Via or CSeq. */
  badRequestsDropped: number;
  /** Responses the TU passed to a server transaction whose state no longer allows them (not sent). */
  lateResponsesDiscarded: number;
  /** Callbacks into the TU that threw (caught: the state machine went on). */
  userErrors: number;
}

/** The counters the transactions themselves move; the final-wait figures are FinalWaits' own (final-waits.ts). */
export type TransactionCounters = Omit<TransactionStats, 'waiting' | 'waitsEndedEarly'>;
