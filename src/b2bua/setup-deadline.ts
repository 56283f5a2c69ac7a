import type { CallLimitsPolicy, B2buaPolicy } from './policy-types.js';
import { sipReason, statusPhrase } from './reason.js';
import type { Failure } from './middleware/resolve-target.js';

/** The engine's appFinalTimeoutMs when the policy does not say (src/engine/core/limits.ts, config gateway.limits). */
export const ENGINE_FINAL_TIMEOUT_MS = 180_000;

/** The most the b2bua's own limit stays below the engine's: time to CANCEL the B leg and answer the caller. */
const MARGIN_MS = 5_000;

/**
 * gateway.limits.appFinalTimeoutMs as the b2bua's policy may carry it with gateway.calls: how long the engine lets
 * the app ring a call before it answers the caller 503 itself and cancels the app's INVITE.
 */
export interface EngineFinalTimeout {
  readonly appFinalTimeoutMs?: number;
}

/**
 * How long a call may take to be answered, from its INVITE, over every attempt: a little below the engine's
 * final-answer time (a tenth of it, at most 5 s), whose clock starts at the b2bua's 100 Trying, after this one's.
 */
export function setupLimitMs(policy: B2buaPolicy): number {
  const calls = policy.calls as (CallLimitsPolicy & EngineFinalTimeout) | undefined;
  const engine = calls?.appFinalTimeoutMs ?? ENGINE_FINAL_TIMEOUT_MS;
  return engine - Math.min(MARGIN_MS, Math.floor(engine / 10));
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
