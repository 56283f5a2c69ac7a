import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { SipRequest } from '../message/types.js';
import type { Flow, TransportSender } from '../transport/types.js';
import type { TimerSettings } from './types.js';

export interface TransactionLayerOptions {
  transport: TransportSender;
  clock?: Clock;
  timers?: Partial<TimerSettings>;
  log?: Logger;
  /**
   * Most transactions still at work at once (default 50,000): waiting for a final response, or for the ACK of a
   * non-2xx one. Such a transaction holds its request and the bytes it may send again, 5-10 KB for a usual INVITE.
   * Past the cap, new requests are answered 503 statelessly and `sendRequest` throws ERR_SIP_TRANSACTION_LIMIT.
   */
  maxTransactions?: number;
  /**
   * Most transactions waiting out their final timer (D, I, J, K, L, M; default 150,000, final-waits.ts): about
   * 1 KB each. Over UDP an INVITE's transactions and its BYE's wait 32 s each, so a gateway carrying 1,000 calls a
   * second holds about 100,000 of them. Past the cap the oldest waits end early.
   */
  maxWaiting?: number;
  /** INVITE server transactions send 100 (Trying) when the TU has not answered within 200 ms (default true). */
  autoTrying?: boolean;
  /**
   * A new request was answered 503 statelessly at the cap on transactions at work, with `reason` (the Reason
   * header's value): the engine records a refused call's CDR from it.
   */
  onRefusedAtCap?(request: SipRequest, flow: Flow, reason: string): void;
}

export interface Respond2xxOptions {
  /** No ACK within 64*T1 (§13.3.1.4): the TU should send BYE. */
  onTimeout(): void;
}
