import { ownFailureReason } from '../b-leg-attempt.js';
import { writeCdr } from '../cdr.js';
import type { SipTransport } from '../policy-types.js';
import { localsOf, type PipelineDeps, type PipelineRequest, type PipelineResponse } from '../pipeline-types.js';
import { sendableStatus } from '../sendable-status.js';
import { isBusy } from './busy-refusal.js';
import { engineCancelled, engineGaveUp } from '../engine-cancel.js';
import type { Failure } from './resolve-target.js';

/**
 * The failure of a call the caller cancelled before any B leg could take its CANCEL: the engine already answered
 * the INVITE 487, and the record says the caller ended it, as when createB2BUA passes a CANCEL on.
 */
export function callerCancelled(): Failure {
  return { status: 487, reasonHeader: ownFailureReason(487)!, cause: 'cancelled', releasedBy: 'caller' };
}

/** How a call that got no B leg ended, beyond its failure: the attempts made and the last target used. */
export interface NoLegs {
  attempts: number;
  out: { tenantOut?: string; transportOut?: SipTransport; dialPeer?: string; destination?: string };
  /** The call-limit or call-rate accounting that refused the call, when every target was passed over. */
  busy?: { refused(req: PipelineRequest): void } | undefined;
}

/**
 * The end of a call that got no B leg: its final response (unless one went already), its counter and its one CDR.
 * A caller's CANCEL was answered 487 by the engine (or by createB2BUA, which then also cancelled the B leg), and the
 * B leg's 487 ended the attempts: the A leg ended with the CANCEL, whatever the B leg said last. A B leg's status
 * drachtio-srf does not know (607) reaches the caller as its class (600); the Reason keeps it. A CANCEL that was the
 * engine's own (its final-answer time ran out: it answered the caller 503) is recorded as the engine's, never the caller's.
 */
export function callFailed(deps: PipelineDeps, req: PipelineRequest, res: PipelineResponse, failure: Failure, o: NoLegs): void {
  const { stats, clock } = deps;
  const locals = localsOf(req);
  const gone = locals.cancelled !== undefined && (failure.cause === 'cancelled' || res.finalResponseSent === true);
  if (gone && engineCancelled(locals)) failure = engineGaveUp(locals.cancelled!.reason);
  const cancelled = gone && failure.releasedBy !== 'engine';
  const status = cancelled ? 487 : sendableStatus(failure.status);
  if (!res.finalResponseSent) {
    res.send(sendableStatus(failure.status), failure.reason, failure.reasonHeader ? { headers: { ...failure.headers, Reason: failure.reasonHeader } } : {});
  }
  if (failure.cause === 'srtp') stats.cryptoRejected++;
  if (isBusy(failure) && !cancelled) o.busy?.refused(req);
  stats.calls.fail(status);
  const reason = cancelled ? ownFailureReason(487) : failure.reasonHeader;
  writeCdr(locals, {
    status, cause: cancelled ? 'cancelled' : failure.cause, attempts: o.attempts, endAt: clock.now(), ...o.out,
    releasedBy: cancelled ? 'caller' : failure.releasedBy ?? 'gateway',
    ...(reason !== undefined ? { reason } : {}),
    ...(cancelled ? { reasonIn: locals.cancelled!.reason ?? null } : {}),
    ...(failure.reasonOut !== undefined ? { reasonOut: failure.reasonOut } : {}),
  });
}
