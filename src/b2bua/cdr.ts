import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/index.js';
import { printable, printableOrNull } from '../common/printable.js';
import { refuse, type CallLocals, type PipelineRequest, type PipelineResponse } from './pipeline-types.js';
import type { CallStats } from './call-stats.js';
import type { CdrRecord } from './cdr-record.js';
import type { ReleasedBy } from './supervise-legs.js';
import type { SipTransport } from './policy-types.js';
export { addressUser } from '../policy/uri-user.js';

export type { AttemptOutcome, CdrAttempt, CdrRecord } from './cdr-record.js';

/** How a call ended, beyond what the pipeline already holds in `req.locals`. */
export interface CallOutcome {
  /** The final status of the A leg's INVITE (200 for a call that was answered). */
  status: number;
  /** Why it ended: `normal`, `denied:<category>`, `no-route`, `unknown-peer`, `no-tenant`, `too-many-hops`, `srtp`, `call-limit`, `b-leg-<status>`, … */
  cause: string;
  tenantOut?: string;
  transportOut?: SipTransport;
  dialPeer?: string;
  /** The Request-URI of the attempt `dialPeer` names (absent: the last attempt's, or none). */
  destination?: string;
  /** B-leg attempts made (failover included). */
  attempts?: number;
  answerAt?: number;
  endAt: number;
  releasedBy?: ReleasedBy;
  /** The RFC 3326 Reason the caller got (a refusal's final response, or the BYE the gateway sent). */
  reason?: string;
  /** The Reason that ended the A leg and the B leg (either way); the A leg's defaults to `reason` (null: none). */
  reasonIn?: string | null;
  reasonOut?: string;
  /** The answering B leg's TLS facts (from the engine's X-Trunkgate-Peer on its 2xx). */
  tlsOut?: { version?: string; cipher?: string; identities: string[] };
  /** BYEs of ours that failed when the call was torn down. */
  byeFailed?: number;
  /** rtpengine's per-leg figures, when the call's media was anchored. */
  media?: CdrRecord['media'];
}

/** What a record takes from the call's locals (a copy of a worker's call list holds only some of them). */
export type CdrFacts = Pick<CallLocals, 'callId' | 'startedAt' | 'identities' | 'targets' | 'callingNumber' | 'calledNumber'
  | 'sourceAddress' | 'sourcePort' | 'transportIn' | 'listener' | 'tenantIn' | 'identityOrigin' | 'peerIdentity' | 'tlsPeer'
  | 'tlsVersion' | 'tlsCipher' | 'category'>;

/**
 * The record of a call from what the pipeline learnt and how it ended. The Call-ID and the numbers are the caller's
 * text: the record keeps them bounded and without control characters (src/common/printable.ts), while the call's
 * locals keep them as sent, for the B leg's From (caller-id.ts re-encodes them) and for routing.
 */
export function buildCdr(locals: CdrFacts, o: CallOutcome): CdrRecord {
  const targets = locals.targets ?? [];
  const last = targets.at(-1);
  return {
    id: randomUUID(),
    callId: printable(locals.callId),
    callingNumber: printableOrNull(locals.callingNumber),
    calledNumber: printableOrNull(locals.calledNumber),
    sourceAddress: locals.sourceAddress ?? null,
    sourcePort: locals.sourcePort ?? null,
    transportIn: locals.transportIn ?? null,
    listener: locals.listener ?? null,
    tenantIn: locals.tenantIn ?? null,
    identities: locals.identities,
    identityOrigin: locals.identityOrigin ?? (locals.identities.length > 0 ? 'tls' : null),
    peerIdentity: locals.peerIdentity ?? null,
    tlsPeer: locals.tlsPeer ?? null,
    tlsVersion: locals.tlsVersion ?? null,
    tlsCipher: locals.tlsCipher ?? null,
    category: locals.category ?? null,
    dialPeer: o.dialPeer ?? null,
    tenantOut: o.tenantOut ?? null,
    transportOut: o.transportOut ?? null,
    // The destination is the attempt's the dial peer names, never another's (a later target passed over).
    destination: o.destination ?? (o.dialPeer === undefined || o.dialPeer === last?.dialPeer ? last?.uri ?? null : null),
    tlsVersionOut: o.tlsOut?.version ?? null,
    tlsCipherOut: o.tlsOut?.cipher ?? null,
    identitiesOut: o.tlsOut?.identities ?? [],
    attempts: o.attempts ?? 0,
    targets,
    setupAt: locals.startedAt,
    answerAt: o.answerAt ?? null,
    endAt: o.endAt,
    setupMs: (o.answerAt ?? o.endAt) - locals.startedAt,
    durationMs: o.answerAt !== undefined ? o.endAt - o.answerAt : 0,
    status: o.status,
    cause: o.cause,
    releasedBy: o.releasedBy ?? null,
    reason: o.reason ?? null,
    reasonIn: o.reasonIn === undefined ? o.reason ?? null : o.reasonIn,
    reasonOut: o.reasonOut ?? null,
    byeFailed: o.byeFailed ?? 0,
    ...(o.media ? { media: o.media } : {}),
  };
}

/**
 * One record per call: a structured log line (msg `cdr`, the record under `cdr`), then the record to the CDR
 * sink the app was given (the JSON-lines file, the database). A sink that throws never disturbs the call.
 *
 * A call the gateway refused before any B leg was tried asks the app's refusal bucket first (locals.refusalCdrs,
 * refusal-cdr-bucket.ts): past its rate the refusal gets neither, only its count there. A call that reached a B leg
 * always has its record.
 */
export function writeCdr(locals: CallLocals, o: CallOutcome): CdrRecord | undefined {
  return recordCall(locals, o, true);
}

/** Whether a call ended as a refusal of the gateway's before any B leg was tried: not answered, no attempt. */
export function refusedBeforeBLeg(o: CallOutcome): boolean {
  return o.status >= 300 && o.answerAt === undefined && !o.attempts && o.releasedBy === 'gateway';
}

function recordCall(locals: CallLocals, o: CallOutcome, bounded: boolean): CdrRecord | undefined {
  // The call is over: the slots it held against call limits go back (once, however often this is reached).
  locals.callSlots?.release();
  if (locals.cdrWritten) return undefined;
  locals.cdrWritten = true;
  if (bounded && locals.refusalCdrs && refusedBeforeBLeg(o) && !locals.refusalCdrs.admit()) return undefined;
  const record = buildCdr(locals, o);
  locals.log.info({ cdr: record }, 'cdr');
  if (locals.onCdr) {
    try {
      locals.onCdr(record);
    } catch (err) {
      locals.log.error({ err, code: 'ERR_B2BUA_CDR_SINK' }, 'b2bua: the CDR sink refused a record (it is in the log line)');
    }
  }
  return record;
}

/**
 * The record of a call still ringing when its app goes away (ActiveCalls.abandonAll): the engine answers the caller
 * 503 with `reason` and cancels the B leg. `attempts`: those made so far; `trying`: the B leg being placed, if any.
 */
export function writeRingingAbandoned(
  locals: CallLocals, cause: string, reason: string, attempts: number, endAt: number,
  trying?: { dialPeer: string; tenant: string; transport: SipTransport; uri?: string },
): void {
  // Not a refusal: a call the gateway had taken, ended by its app going away. Its record is never left out.
  recordCall(locals, {
    status: 503, cause, reason, attempts, endAt, releasedBy: 'gateway',
    ...(trying ? { dialPeer: trying.dialPeer, tenantOut: trying.tenant, transportOut: trying.transport, ...(trying.uri !== undefined ? { destination: trying.uri } : {}) } : {}),
  }, false);
}

/**
 * A pipeline step's refusal: the final response with its Reason (and `headers`), and the call's CDR (released by the
 * gateway), within the app's rate of refusal CDRs (writeCdr).
 */
export function refuseCall(
  clock: Clock, calls: Pick<CallStats, 'fail'>, req: PipelineRequest, res: PipelineResponse, status: number, reasonHeader: string, cause: string,
  headers?: Record<string, string>,
): void {
  refuse(res, status, reasonHeader, headers);
  // Counted under its outcome, as every INVITE that reached the policy is (attempted = connected + failed, once settled).
  calls.fail(status);
  if (req.locals) writeCdr(req.locals, { status, cause, reason: reasonHeader, endAt: clock.now(), releasedBy: 'gateway' });
}

