import { printable } from '../../common/printable.js';
import { isFailoverStatus } from '../../policy/index.js';
import type { BLegTarget } from '../b-leg-target.js';
import type { AttemptOutcome } from '../cdr.js';
import type { PipelineResponse } from '../pipeline-types.js';
import { ownedReason, sipReason, statusPhrase } from '../reason.js';
import { sendableStatus } from '../sendable-status.js';
import type { Failure } from './resolve-target.js';

/*
 * What of a B leg's answers reaches the caller (place-call.ts). The caller is the gateway's peer, not the carrier's: a
 * status whose meaning lies in a header of the B leg's response (a challenge, a redirect, a Min-SE) would tell it to
 * authenticate to us or to go elsewhere, neither of which is true, so those are mapped to a failure of ours with the
 * B leg's status as the Reason's cause. A phrase or a Reason text the far end wrote is never passed on: the caller
 * gets the standard phrase and the Reason's protocol and cause (reason.ts `ownedReason`); the CDR keeps the B leg's
 * Reason as it came, without control characters and capped (`reasonOut`, common/printable.ts).
 */

/** How one B leg's final failure ends the call, or moves on to the next target. */
export interface LegFailure {
  failure: Failure;
  /** The next target is tried. */
  failover: boolean;
  /** The trunk refused the gateway's credentials (or asked for some the tenant has none of): 401 or 407. */
  authFailed: boolean;
}

/** What is known of the failed attempt. */
export interface LegAnswer {
  status: number;
  target: BLegTarget;
  outcome: AttemptOutcome;
  /** The engine answered for the B leg (Timer B, a transport or TLS failure): its Reason is the gateway's own. */
  byEngine: boolean;
  /** The Reason of the B leg's response (reason.ts `failureReason`). */
  farReason: string | undefined;
}

/**
 * The caller's answer to a B leg's failure:
 * - 401/407: the trunk did not take our digest answer (or we had none to give): 503 with
 *   `Reason: SIP;cause=<401|407>;text="Trunk authentication failed (dial peer X)"`, CDR cause `b-leg-auth`, released by
 *   the gateway; the next dial peer is tried, as a CUBE dial-peer hunt does when one trunk fails, since the credentials
 *   are the tenant's and another trunk may take the call.
 * - 3xx: 480 with the redirect's status as the cause: a redirect is not followed without a policy that judged its
 *   target, and a caller told to go elsewhere would go to an address the carrier chose.
 * - 422 that was not retried (no session timer of ours, or the retry's answer): 500, cause 422; without our Min-SE
 *   the caller could do nothing with it.
 * - anything else: its status, the Reason of the engine as it came (ours), or the far end's protocol and cause only,
 *   else one of ours naming the dial peer; 500, 502, 503, 504 and 408 fail over (policy select-dial-peers.ts `isFailoverStatus`).
 */
export function legFailure(a: LegAnswer): LegFailure {
  const { status, target, outcome } = a;
  const reasonOut = a.farReason !== undefined ? { reasonOut: printable(a.farReason) } : {};
  if (outcome === 'cancelled') {
    return { failure: { status, reasonHeader: ownedReason(a.farReason) ?? sipReason(status, statusPhrase(status) ?? 'Cancelled'), cause: 'cancelled', releasedBy: 'caller', ...reasonOut }, failover: false, authFailed: false };
  }
  if (status === 401 || status === 407) {
    const reasonHeader = sipReason(status, `Trunk authentication failed (dial peer ${target.dialPeer})`);
    return { failure: { status: 503, reason: statusPhrase(503)!, reasonHeader, cause: 'b-leg-auth', releasedBy: 'gateway', ...reasonOut }, failover: true, authFailed: true };
  }
  const releasedBy = a.byEngine ? 'gateway' as const : 'callee' as const;
  if (status >= 300 && status < 400) {
    const reasonHeader = sipReason(status, `Redirection not followed (dial peer ${target.dialPeer})`);
    return { failure: { status: 480, reason: statusPhrase(480)!, reasonHeader, cause: `b-leg-${status}`, releasedBy, ...reasonOut }, failover: false, authFailed: false };
  }
  if (status === 422) {
    const reasonHeader = sipReason(422, `Session interval not agreed with dial peer ${target.dialPeer}`);
    return { failure: { status: 500, reason: statusPhrase(500)!, reasonHeader, cause: 'b-leg-422', releasedBy, ...reasonOut }, failover: false, authFailed: false };
  }
  const phrase = statusPhrase(sendableStatus(status));
  const reasonHeader = (a.byEngine ? a.farReason : ownedReason(a.farReason))
    ?? sipReason(status, `${statusPhrase(status) ?? 'Failed'} (dial peer ${target.dialPeer}, tenant ${target.tenant})`);
  return {
    failure: { status, ...(phrase !== undefined ? { reason: phrase } : {}), reasonHeader, cause: `b-leg-${status}`, releasedBy, ...reasonOut },
    failover: isFailoverStatus(status),
    authFailed: false,
  };
}

/**
 * The caller's response as createB2BUA sees it during an attempt: whatever it relays (an 18x, drachtio-srf's
 * handleUACProvisionalResponse passes the B leg's phrase) goes with the standard phrase of its status instead.
 */
export function standardPhrases(res: PipelineResponse): PipelineResponse {
  return new Proxy(res, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      const send = Reflect.get(target, prop, receiver) as (status: number, ...rest: unknown[]) => unknown;
      return (status: number, reason?: unknown, ...rest: unknown[]) => send.call(receiver, status, typeof reason === 'string' ? undefined : reason, ...rest);
    },
  });
}
