import type { BLegTarget } from '../b-leg-target.js';
import type { PipelineDeps, PipelineRequest, PipelineResponse } from '../pipeline-types.js';
import { holdOffsOf, retryAfterSeconds } from '../target-holdoff.js';

/*
 * What decides whether place-call.ts moves on to the next target, beyond the B leg's status (b-leg-answers.ts): the
 * targets a trunk asked to be left alone (target-holdoff.ts), and the early media the caller already has.
 */

/**
 * The targets of `list` worth trying, in order: not found down by the OPTIONS ping (trunk-monitor.ts) and not held off
 * by a 503's Retry-After. When every one that is up is held off they are tried all the same, and when every one is
 * down all are kept: a stale mark never leaves a call with nothing to try. Each passed over is counted.
 */
export function targetsToTry<T extends BLegTarget>(deps: PipelineDeps, list: readonly T[]): T[] {
  const trunks = deps.trunks;
  const up = trunks ? list.filter((t) => !trunks.isDown(t.tenant, t.server)) : [...list];
  if (up.length === 0) return [...list];
  deps.stats.skippedDown += list.length - up.length;
  const holds = holdOffsOf(deps.policy);
  if (holds.size === 0) return up;
  const now = deps.clock.now();
  const free = up.filter((t) => !holds.isHeld(t, now));
  if (free.length === 0) return up;
  holds.counters.skipped += up.length - free.length;
  return free;
}

/**
 * A trunk's 503 with Retry-After: the target it came from is held off for that long (at most MAX_HOLD_OFF_SECONDS), so
 * the next calls go elsewhere; counted, and one line a window per target.
 *
 * RFC 3261 §21.5.4: "If the server can provide a Retry-After header field, the client SHOULD NOT forward any other
 * requests to that server for the duration specified in the Retry-After header field."
 * https://www.rfc-editor.org/rfc/rfc3261#section-21.5.4
 */
export function holdOffAfter503(deps: PipelineDeps, req: PipelineRequest, target: BLegTarget, retryAfter: string | undefined): void {
  const asked = retryAfterSeconds(retryAfter);
  if (asked === undefined) return;
  const seconds = holdOffsOf(deps.policy).hold(target, asked, deps.clock.now());
  if (seconds === undefined) return;
  const code = 'ERR_B2BUA_LEG_FAILED';
  const fields = { callId: req.locals?.callId, dialPeer: target.dialPeer, tenant: target.tenant, server: target.server, uri: target.uri, retryAfterSeconds: seconds };
  const msg = `b2bua: trunk answered 503 with Retry-After: no calls to it for ${seconds} s`;
  if (deps.refusals) deps.refusals.line('info', code, fields, msg, `held-off:${target.tenant}:${target.server}`);
  else (req.locals?.log ?? deps.log).info({ code, ...fields }, msg);
}

/**
 * The caller's response during the attempts, telling `onEarlyAnswer` once an 18x with a body (the B leg's SDP answer,
 * relayed by createB2BUA) has reached the caller.
 */
export function watchEarlyAnswer(res: PipelineResponse, onEarlyAnswer: () => void): PipelineResponse {
  return new Proxy(res, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      const send = Reflect.get(target, prop, receiver) as (status: number, ...rest: unknown[]) => unknown;
      return (status: number, ...rest: unknown[]) => {
        const opts = rest.find((a): a is { body?: unknown } => typeof a === 'object' && a !== null);
        const out = send.call(receiver, status, ...rest);
        if (status > 100 && status < 200 && typeof opts?.body === 'string' && opts.body !== '') onEarlyAnswer();
        return out;
      };
    },
  });
}

/**
 * Whether a failed attempt may still fail over once the caller has had its early media. The caller's early dialog
 * has one To tag for the whole INVITE transaction, so another trunk's answer would come in the same dialog with
 * other SDP; each attempt's media session is its own (call-sdp.ts) even when anchored, so no SDP the caller got could
 * be kept. The failure is final: counted, and one line a window per dial peer.
 *
 * RFC 3261 §13.2.1: "That same exact answer MAY also be placed in any provisional responses sent prior to the
 * answer. The UAC MUST treat the first session description it receives as the answer, and MUST ignore any session
 * descriptions in subsequent responses to the initial INVITE."
 * https://www.rfc-editor.org/rfc/rfc3261#section-13.2.1
 */
export function failoverAfterEarlyMedia(deps: PipelineDeps, req: PipelineRequest, target: BLegTarget, earlyAnswer: boolean): boolean {
  if (!earlyAnswer) return true;
  holdOffsOf(deps.policy).counters.earlyMediaFinal++;
  const code = 'ERR_B2BUA_LEG_FAILED';
  const fields = { callId: req.locals?.callId, dialPeer: target.dialPeer, earlyMedia: true };
  const msg = 'b2bua: trunk failed after its early media reached the caller: no other dial peer tried';
  if (deps.refusals) deps.refusals.line('info', code, fields, msg, `early-media:${target.dialPeer}`);
  else (req.locals?.log ?? deps.log).info({ code, ...fields }, msg);
  return false;
}
