import type { BLegTarget } from '../b-leg-target.js';
import type { AnswerRefused, OfferRefusal } from '../call-sdp.js';
import { writeCdr } from '../cdr.js';
import { localsOf, refusalLine, type PipelineDeps, type PipelineRequest, type PipelineResponse } from '../pipeline-types.js';
import { sipReason } from '../reason.js';
import type { LimitedLevel } from '../../log/rate-limited-log.js';

/*
 * The refusals of the bridge step a caller (or a called trunk) can repeat on every call: each one's response carries a
 * Reason, its counter is exact, and its line goes through the pipeline's rate-limited refusal log with a stable code.
 */

/**
 * The call handler failed before the caller had a final answer: 500 with a Reason, counted, and the call's one CDR
 * (cause `gateway-error`), as the plain bridge writes in the same case. A call that was answered keeps its own record.
 */
export function handlerFailed(deps: PipelineDeps, req: PipelineRequest, res: PipelineResponse, err: unknown): void {
  refusalLine(deps, req, 'error', 'ERR_B2BUA_CALL_HANDLER', { err }, 'b2bua: call handler failed');
  req.locals?.callSlots?.release();
  if (res.finalResponseSent) return;
  const reason = sipReason(500, 'Gateway error placing the call');
  res.send(500, undefined, { headers: { Reason: reason } });
  deps.stats.calls.fail(500);
  const locals = req.locals;
  if (!locals) return;
  const tried = (locals.targets ?? []).filter((t) => t.outcome !== 'offer-refused');
  const last = tried.at(-1);
  writeCdr(locals, {
    status: 500, cause: 'gateway-error', reason, attempts: tried.length, endAt: deps.clock.now(), releasedBy: 'gateway',
    ...(last ? { dialPeer: last.dialPeer, tenantOut: last.tenant, transportOut: last.transport } : {}),
  });
}

/** RFC 4028 §9: a caller's Session-Expires below our Min-SE gets 422 with Min-SE and a Reason, before any B leg. */
export function sessionTooShort(deps: PipelineDeps, req: PipelineRequest, res: PipelineResponse, minSe: number): void {
  const reason = sipReason(422, `Session interval too small: Min-SE is ${minSe} s`);
  refusalLine(deps, req, 'info', 'ERR_B2BUA_MIN_SE', { minSe }, 'b2bua: Session-Expires below Min-SE, 422');
  if (!res.finalResponseSent) res.send(422, undefined, { headers: { 'Min-SE': String(minSe), Reason: reason } });
  deps.stats.calls.fail(422);
  writeCdr(localsOf(req), { status: 422, cause: 'session-interval-too-small', reason, endAt: deps.clock.now(), releasedBy: 'gateway' });
}

/**
 * An INVITE whose body is not application/sdp (SDP and ISUP in a multipart/mixed body, RFC 3204): createB2BUA gives
 * the B leg the body alone, without its type, which the engine does not send (every target failed as unreachable),
 * and which would reach the called side as SDP around the media relay and the SRTP filters if it were sent. So it is
 * refused before any B leg: 415 with Accept (RFC 3261 §21.4.13), a Reason, counted, and the call's CDR.
 */
export function bodyNotSdp(deps: PipelineDeps, req: PipelineRequest, res: PipelineResponse, contentType: string): void {
  const reason = sipReason(415, 'Only application/sdp is relayed: the INVITE\'s body is of another type');
  refusalLine(deps, req, 'info', 'ERR_B2BUA_BODY_UNSUPPORTED', { contentType }, 'b2bua: INVITE body not application/sdp, 415');
  if (!res.finalResponseSent) res.send(415, undefined, { headers: { Accept: 'application/sdp', Reason: reason } });
  deps.stats.calls.fail(415);
  writeCdr(localsOf(req), { status: 415, cause: 'unsupported-body', reason, endAt: deps.clock.now(), releasedBy: 'gateway' });
}

/**
 * A B leg to `target` failed (no answer in time, unreachable, a failover status) and the next dial peer is tried:
 * a dead trunk does that on every call, so the line goes once a window per dial peer; the CDR lists every attempt.
 */
export function legFailedLine(deps: PipelineDeps, req: PipelineRequest, target: BLegTarget, level: LimitedLevel, fields: Record<string, unknown>, msg: string): void {
  const code = 'ERR_B2BUA_LEG_FAILED';
  if (!deps.refusals) {
    (req.locals?.log ?? deps.log)[level]({ code, dialPeer: target.dialPeer, ...fields }, msg);
    return;
  }
  deps.refusals.line(level, code, { callId: req.locals?.callId, dialPeer: target.dialPeer, ...fields }, msg, `dial-peer:${target.dialPeer}`);
}

/** The line of an offer refused before the B leg to `target` was placed: no SRTP suite left (488), no media relay (503). */
export function offerRefusedLine(deps: PipelineDeps, req: PipelineRequest, target: BLegTarget, r: OfferRefusal): void {
  refusalLine(deps, req, r.status === 488 ? 'info' : 'warn', r.code, { dialPeer: target.dialPeer, tenantOut: target.tenant, ...r.detail }, `b2bua: ${r.reason}`);
}

/** The line of a called side's answer that could not go to the caller: no SRTP suite left (488), the media relay failed (503). */
export function answerRefusedLine(deps: PipelineDeps, req: PipelineRequest, target: BLegTarget, err: AnswerRefused): void {
  refusalLine(deps, req, err.status === 488 ? 'info' : 'warn', err.code,
    { dialPeer: target.dialPeer, status: err.status }, `b2bua: answer refused: ${err.message}`);
}
