import type { Clock } from '../common/index.js';
import { refuse, type CallLocals, type PipelineRequest, type PipelineResponse } from './pipeline-types.js';
import type { ReleasedBy } from './supervise-legs.js';
import type { SipTransport } from './policy-types.js';

/** How a call ended, beyond what the pipeline already holds in `req.locals`. */
export interface CallOutcome {
  /** The final status of the A leg's INVITE (200 for a call that was answered). */
  status: number;
  /** Why it ended: `normal`, `denied:<category>`, `no-route`, `unknown-peer`, `no-tenant`, `too-many-hops`, `srtp`, `b-leg-<status>`, … */
  cause: string;
  tenantOut?: string;
  transportOut?: SipTransport;
  dialPeer?: string;
  /** B-leg attempts made (failover included). */
  attempts?: number;
  answerAt?: number;
  endAt: number;
  releasedBy?: ReleasedBy;
  /** The RFC 3326 Reason the caller got (a refusal's final response, or the BYE the gateway sent). */
  reason?: string;
  /** BYEs of ours that failed when the call was torn down. */
  byeFailed?: number;
}

/**
 * One structured line per call (msg `cdr`): tenants in and out, the peer identity and TLS peer, the number
 * and its category, the dial peer, setup/answer/end times (ms since the epoch) and the cause.
 */
export function writeCdr(locals: CallLocals, o: CallOutcome): void {
  const setupMs = (o.answerAt ?? o.endAt) - locals.startedAt;
  locals.log.info({
    cdr: {
      callId: locals.callId,
      tenantIn: locals.tenantIn ?? null,
      transportIn: locals.transportIn ?? null,
      peerIdentity: locals.peerIdentity ?? null,
      tlsPeer: locals.tlsPeer ?? null,
      identities: locals.identities,
      calledNumber: locals.calledNumber ?? null,
      category: locals.category ?? null,
      tenantOut: o.tenantOut ?? null,
      transportOut: o.transportOut ?? null,
      dialPeer: o.dialPeer ?? null,
      attempts: o.attempts ?? 0,
      setupAt: locals.startedAt,
      answerAt: o.answerAt ?? null,
      endAt: o.endAt,
      setupMs,
      durationMs: o.answerAt !== undefined ? o.endAt - o.answerAt : 0,
      status: o.status,
      cause: o.cause,
      ...(o.releasedBy ? { releasedBy: o.releasedBy } : {}),
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(o.byeFailed ? { byeFailed: o.byeFailed } : {}),
    },
  }, 'cdr');
}

/** A pipeline step's refusal: the final response with its Reason, and the call's CDR line. */
export function refuseCall(
  clock: Clock, req: PipelineRequest, res: PipelineResponse, status: number, reasonHeader: string, cause: string,
): void {
  refuse(res, status, reasonHeader);
  if (req.locals) writeCdr(req.locals, { status, cause, reason: reasonHeader, endAt: clock.now() });
}
