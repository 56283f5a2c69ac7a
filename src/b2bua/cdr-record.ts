import type { SipTransport } from './policy-types.js';
import type { ReleasedBy } from './supervise-legs.js';
import type { MediaTotals } from '../media/index.js';

/**
 * What became of one B-leg attempt: `answered` (2xx), `rejected` (the far end's final failure), `timeout` (no
 * final response before Timer B: the engine's 408), `unreachable` (no connection, a TLS handshake that failed, a
 * name that does not resolve: the engine's or our own 503), `no-answer` (the dial peer's no-answer time ran out and
 * the attempt was cancelled), `cancelled` (the caller cancelled while it rang), `answer-refused` (answered with
 * SDP the caller's tenant cannot take: released), `offer-refused` (never sent: no SRTP suite both tenants allow).
 */
export type AttemptOutcome = 'answered' | 'rejected' | 'timeout' | 'unreachable' | 'no-answer' | 'cancelled' | 'answer-refused' | 'offer-refused';

/** One B-leg attempt, in the order they were made. */
export interface CdrAttempt {
  dialPeer: string;
  tenant: string;
  transport: SipTransport;
  /** The Request-URI it was sent to. */
  uri: string;
  outcome: AttemptOutcome;
  /** The final status it got (the far end's, or the engine's for a timeout or a transport failure); null when none. */
  status: number | null;
  /** The Reason header of that final response, when it had one. */
  reason: string | null;
  startAt: number;
  endAt: number;
}

/**
 * One record per call, whatever became of it: what a billing or monitoring system reads from the JSON-lines
 * file, the database or the `cdr` log line. Times are milliseconds since the epoch. Every field is always
 * present (null or empty when it does not apply), so a consumer can rely on the shape.
 */
export interface CdrRecord {
  /** Unique per record (a random UUID): a record written twice (a replay after a database outage) is one. */
  id: string;
  /** The A leg's Call-ID. */
  callId: string;
  /** The From URI's user part, as it came. */
  callingNumber: string | null;
  /** The Request-URI's user part, normalised. */
  calledNumber: string | null;
  /** Where the A leg's INVITE came from, over what, and the listener (`address:port`) that took it. */
  sourceAddress: string | null;
  sourcePort: number | null;
  transportIn: SipTransport | null;
  listener: string | null;
  tenantIn: string | null;
  /** The caller's certificate identities the engine verified (TLS); the one that matched a TLS peer, and that peer. */
  identities: string[];
  /** Who verified `identities`: `tls` (the engine's own handshake), `proxy` (a trusted proxy's header), or null. */
  identityOrigin: 'tls' | 'proxy' | null;
  peerIdentity: string | null;
  tlsPeer: string | null;
  /** The A leg's TLS version and suite. */
  tlsVersion: string | null;
  tlsCipher: string | null;
  category: string | null;
  /** The dial peer, tenant and transport of the last attempt (the answered one, for a connected call). */
  dialPeer: string | null;
  tenantOut: string | null;
  transportOut: SipTransport | null;
  /** The Request-URI of that attempt. */
  destination: string | null;
  /** The B leg's TLS version, suite and verified identities, when it answered over TLS. */
  tlsVersionOut: string | null;
  tlsCipherOut: string | null;
  identitiesOut: string[];
  /** B-leg attempts made, and each with its answer. */
  attempts: number;
  targets: CdrAttempt[];
  setupAt: number;
  answerAt: number | null;
  endAt: number;
  /** Answer (or end, unanswered) less setup; connected time. */
  setupMs: number;
  durationMs: number;
  /** The A leg's final status (200 for a connected call). */
  status: number;
  /**
   * Why it ended: `normal`, `cancelled`, `denied:<category>`, `no-route`, `no-answer`, `b-leg-<status>`, `shutdown`, …;
   * `refused:<code>` for a new INVITE the embedded engine refused before any app saw it, `<code>` the refusal's stable
   * error code (`ERR_ENGINE_UNTRUSTED_SOURCE`, `ERR_ENGINE_SOURCE_RATE`, `ERR_ENGINE_OVERLOAD`, `ERR_SIP_TRANSACTION_LIMIT`,
   * `ERR_ENGINE_TABLE_FULL`, `ERR_ENGINE_NO_APP`, `ERR_ENGINE_APP_BACKLOG`, `ERR_ENGINE_REQUEST_INVALID`,
   * `ERR_ENGINE_TOO_MANY_HOPS`, `ERR_ENGINE_BAD_CONTACT`); such a record has no B leg (attempts 0, targets empty), setup
   * and end at the refusal, and released by `engine` (src/refusal-cdrs.ts).
   */
  cause: string;
  /** Who ended it: the caller, the called side, the gateway (a refusal, a timer, a failed trunk, shutdown), the engine. */
  releasedBy: ReleasedBy | null;
  /** The Reason the caller got (our final response), or the one of the BYE the gateway sent. */
  reason: string | null;
  /** The Reason of the message that ended each leg (BYE, CANCEL or final response), either way, when it had one. */
  reasonIn: string | null;
  reasonOut: string | null;
  /** BYEs of ours that failed when the call was torn down. */
  byeFailed: number;
  /**
   * Only on a connected call whose media was anchored on rtpengine: what rtpengine received from each leg (`a` the
   * caller, `b` the called side: RTP packets, bytes, errors, RTCP packets), and the loss, jitter and MOS that leg's
   * endpoint reported in RTCP about the media it received (null without a usable report), from its `delete` answer.
   */
  media?: MediaTotals;
}
