import type { B2buaPolicy } from './policy-types.js';
import { setupLimitMs as limitBelow } from '../common/setup-limit.js';
import { sipReason, statusPhrase } from './reason.js';
import type { Failure } from './middleware/resolve-target.js';

/**
 * How long a call may take to be answered, from its INVITE, over every attempt: a little below the engine's
 * final-answer time (gateway.limits.appFinalTimeoutMs, which the policy carries with gateway.calls).
 */
export function setupLimitMs(policy: B2buaPolicy): number {
  return limitBelow(policy.calls?.appFinalTimeoutMs);
}

/**
 * The caller's answer when the call rang past the setup limit: the ringing B leg is cancelled and no other target
 * is tried, since the engine would end the call anyway.
 *
 * RFC 3261 §21.4.18: 480 Temporarily Unavailable, "The callee's end system was contacted successfully but the callee
 * is currently unavailable".
 * https://www.rfc-editor.org/rfc/rfc3261#section-21.4.18
 */
export function setupExpired(limitMs: number): Failure {
  const s = Math.round(limitMs / 1000);
  return {
    status: 480, reason: statusPhrase(480)!, reasonHeader: sipReason(480, `No answer within ${s} s of call setup`), cause: 'no-answer', releasedBy: 'gateway',
  };
}
