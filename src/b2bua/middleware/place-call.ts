import { printable } from '../../common/printable.js';
import type { ActiveCalls } from '../active-calls.js';
import { attemptBLeg, type PlaceCallSrf } from '../b-leg-attempt.js';
import { sipErrorStatus } from '../bridge-call.js';
import type { AttemptOutcome, CdrAttempt } from '../cdr.js';
import { bLegTargets, type BLegTarget } from '../b-leg-target.js';
import { bLegIdentity } from '../caller-id.js';
import type { PassLeg } from '../pass-through.js';
import { localsOf, type CallLocals, type Middleware, type PipelineDeps, type PipelineRequest, type PipelineResponse } from '../pipeline-types.js';
import { PEER_HEADER, ROUTE_HEADER } from '../policy-types.js';
import { flowRoute, relayedFlowClosed, relayedFlowOf } from '../register-relay.js';
import { digestAnswer } from '../digest-answer.js';
import { parsePeerHeader } from '../peer-header.js';
import { failureReason, sipReason } from '../reason.js';
import { answerRefused, prepareCallSdp, type CallSdp } from '../call-sdp.js';
import { mediaPool } from '../media-pools.js';
import { contentTypeOf, isSdpType } from '../sdp-body.js';
import { decideUas, parseMinSe, uacRequestHeaders, uasResponseHeaders } from '../session-timer.js';
import { answerRefusedLine, bodyNotSdp, handlerFailed, legFailedLine, offerRefusedLine, sessionTooShort } from './call-refusals.js';
import { legFailure, standardPhrases } from './b-leg-answers.js';
import { callerCancelled, callFailed } from './call-failed.js';
import { LegSlots } from './call-limit.js';
import { LegRates } from './call-rate.js';
import { resolveTarget, type Failure } from './resolve-target.js';
import { listedWhileRinging, type Setup } from './ringing-call.js';
import { setupExpired, setupLimitMs } from '../setup-deadline.js';
import { failoverAfterEarlyMedia, holdOffAfter503, targetsToTry, watchEarlyAnswer } from './place-call-failover.js';
import { connectAnswered } from './place-call-connected.js';

export { guardSendFailure, type PlaceCallSrf } from '../b-leg-attempt.js';
export { challengeRealm, digestAnswer } from '../digest-answer.js';

export interface PlaceCallDeps extends PipelineDeps {
  srf: PlaceCallSrf;
  /** Connected calls are registered here (a shutdown ends what is left). */
  active?: ActiveCalls;
}

/**
 * The bridge step: places the B leg on each target of the selected dial peers in turn (transport, scheme,
 * TLS profile of the target tenant), moving on after 500, 502, 503, 504, 408 or a transport failure (not once the
 * caller has had early media: place-call-failover.ts), passing over a target whose dial peer or tenant is at its call
 * limit (call-limit.ts), whose dial peer is over its call rate (call-rate.ts) or that a 503's Retry-After holds off
 * (target-holdoff.ts), 503 when every one was, and joins the legs. The whole setup stays within the engine's
 * final-answer time (setup-deadline.ts): past it the ringing B leg is cancelled and the caller gets 480.
 * SDP offers keep only the `a=crypto` suites both tenants allow, in the called tenant's order; the answer is
 * filtered for the caller's tenant; a flow-through tenant's calls are anchored on rtpengine (call-sdp.ts). The A leg gets the called party's own failure, else the last failover
 * status. Internal headers are never copied to either leg: createB2BUA copies none unless told, and the
 * B leg carries only X-Trunkgate-Route, which the engine consumes.
 */
export function placeCall(deps: PlaceCallDeps): Middleware {
  return (req, res) => {
    listedWhileRinging(deps, req, (setup) => placeLegs(deps, req, res, setup)).catch((err: unknown) => handlerFailed(deps, req, res, err));
  };
}

async function placeLegs(deps: PlaceCallDeps, req: PipelineRequest, res: PipelineResponse, setup: Setup | undefined): Promise<void> {
  const { policy, stats, clock, srf } = deps;
  const locals = localsOf(req);
  // Only an SDP body can be given to the B leg (a multipart one goes without its type): 415 (call-refusals.ts).
  const bodyType = contentTypeOf(req);
  if (req.body && !isSdpType(bodyType)) {
    bodyNotSdp(deps, req, res, bodyType!);
    return;
  }
  const log = locals.log;
  const tenantIn = policy.tenants[locals.tenantIn!]!;
  const all = bLegTargets(locals.calledNumber ?? '', (locals.dialPeers ?? []).map((c) => c.dialPeer), policy.tenants);
  const targets = targetsToTry(deps, all);

  // RFC 4028 §9: the caller's session interval is agreed (or refused with 422) before any B leg is placed.
  const st = policy.calls?.sessionTimer;
  const aSession = st ? decideUas(req, st) : undefined;
  if (aSession && !aSession.ok) {
    sessionTooShort(deps, req, res, aSession.minSe);
    return;
  }

  let failure: Failure = { status: 503, reasonHeader: sipReason(503, 'No dial peer target reachable'), cause: 'no-target' };
  let attempts = 0;
  const tried: CdrAttempt[] = [];
  locals.targets = tried;
  const note = (t: BLegTarget, startAt: number, outcome: AttemptOutcome, status: number | null, reason: string | undefined): void => {
    tried.push({
      dialPeer: t.dialPeer, tenant: t.tenant, transport: t.transport, uri: t.uri, outcome, status, reason: reason ?? null, startAt, endAt: clock.now(),
    });
  };
  let used: BLegTarget | undefined;
  // The engine answers the caller 503 itself once the app has rung past its final-answer time: the call ends first.
  const setupMs = setupLimitMs(policy);
  const setupEndsAt = locals.startedAt + setupMs;
  let expired = false;
  // An 18x with SDP that reached the caller makes the attempt's failure final (place-call-failover.ts).
  let earlyAnswer = false;
  const aRes = watchEarlyAnswer(standardPhrases(res), () => {
    earlyAnswer = true;
  });
  let media: CallSdp | undefined;
  let legs: { uas: PassLeg; uac: PassLeg } | undefined;
  /** A B leg that answered 422 is asked again once, with the interval it named (RFC 4028 §7.4). */
  const retrySe = new Map<BLegTarget, number>();

  // Plain targets are tried without an await before them, so a call with no dns: target takes no extra turn.
  const queue = [...targets];
  const resolved = new Set<BLegTarget>();
  // Each attempt holds a slot on its dial peer and tenant (call-limits.ts); one at its limit is passed over.
  const slots = deps.limits ? new LegSlots(deps, deps.limits, locals) : undefined;
  // A dial peer over its call rate (call-rates.ts) is passed over before a slot is taken; its token goes with the INVITE.
  const rates = deps.rates ? new LegRates(deps, deps.rates, locals) : undefined;
  // The caller's CANCEL (identify-peer.ts records it; the engine has answered the INVITE 487) stops the call here too:
  // createB2BUA passes a CANCEL on only once its INVITE is sent, and would not know of one that came before (while a
  // dns: target resolved, a media offer was made, or its INVITE was on its way). The attempt under way is given up,
  // its INVITE cancelled as soon as it is out; no other target is tried.
  let callerGone = false;
  let stopAttempt: (() => void) | undefined;
  req.on?.('cancel', () => stopAttempt?.());
  for (let target = queue.shift(); target !== undefined; target = queue.shift()) {
    if (locals.cancelled) callerGone = true;
    if (res.finalResponseSent || setup?.cleared || callerGone) break;
    if (clock.now() >= setupEndsAt) {
      expired = true;
      break;
    }
    if (rates && !rates.allows(target)) {
      if (failure.cause === 'no-target') failure = rates.failure();
      continue;
    }
    if (slots && !slots.take(target)) {
      if (failure.cause === 'no-target') failure = slots.failure();
      continue;
    }
    if (deps.resolve && target.server.startsWith('dns:') && !resolved.has(target)) {
      const resolveAt = clock.now();
      const expanded = await resolveTarget(deps, locals, target);
      if (locals.cancelled || setup?.cleared) {
        callerGone = locals.cancelled !== undefined;
        break;
      }
      if (!Array.isArray(expanded)) {
        failure = expanded;
        note(target, resolveAt, 'unreachable', null, expanded.reasonHeader);
        continue;
      }
      for (const t of expanded) resolved.add(t);
      queue.unshift(...targetsToTry(deps, expanded));
      continue;
    }
    const tenantOut = policy.tenants[target.tenant]!;
    // Each attempt's media session is its own (`attempt`: the targets tried before it), so what one given up leaves
    // (its delete under way, a 200 that crossed its CANCEL) never reaches the next one's.
    const prepared = prepareCallSdp({
      body: req.body ?? '', callId: locals.callId, attempt: tried.length, from: req.get('From') ?? '', source: req.source_address, tenantIn: { name: locals.tenantIn!, policy: tenantIn },
      tenantOut: { name: target.tenant, policy: tenantOut }, ...(policy.media ? { pool: mediaPool(policy.media, deps.log), whenDown: policy.media.whenDown } : {}),
    });
    const sdp = prepared instanceof Promise ? await prepared : prepared;
    if (locals.cancelled || setup?.cleared) {
      // Gone while rtpengine made the offer: its session is deleted, and no INVITE goes out.
      if (sdp.ok) void sdp.end();
      callerGone = locals.cancelled !== undefined;
      break;
    }
    if (!sdp.ok) {
      offerRefusedLine(deps, req, target, sdp.refusal);
      failure = { status: sdp.refusal.status, reasonHeader: sdp.refusal.reasonHeader, cause: sdp.refusal.cause };
      note(target, clock.now(), 'offer-refused', null, undefined);
      if (sdp.refusal.status === 503) break; // no media relay: every target alike
      continue;
    }
    if (attempts > 0) stats.failovers++;
    attempts++;
    used = target;
    setup?.nowTrying?.(target);
    // The caller ID is the gateway's to set (caller-id.ts), never drachtio-srf's reading of P-Asserted-Identity.
    // A call to a relayed phone goes over the phone's connection or not at all (register-relay.ts `flowRoute`).
    const flow = relayedFlowOf(req);
    // The tenant's digest credentials are for its trunks: a phone registered through the gateway (relayed-binding.ts)
    // is a peer that could challenge with any realm and nonce, and would get an answer made with them. None is given.
    const relayed = flow !== undefined || target.dialPeer.startsWith('registered:');
    const route = flow ? flowRoute(flow, target.headers[ROUTE_HEADER]) : undefined;
    const headers: Record<string, string> = {
      ...target.headers, ...(route !== undefined ? { [ROUTE_HEADER]: route } : {}), ...bLegIdentity(req.get('From'), req.get('Privacy'), locals.callingNumber, target.uri.startsWith('sips:') ? 'sips' : 'sip'),
      ...(st ? uacRequestHeaders(st, retrySe.get(target)) : {}),
    };
    if (locals.maxForwards !== undefined) headers['Max-Forwards'] = String(locals.maxForwards);
    const opts: Record<string, unknown> = {
      headers,
      passFailure: false,
      ...(aSession?.ok ? { responseHeaders: (r: { status?: number }) => ((r.status ?? 0) >= 200 && (r.status ?? 0) < 300 ? uasResponseHeaders(aSession) : {}) } : {}),
      ...(tenantOut.digest && !relayed ? { auth: digestAnswer(tenantOut.digest, log, target.tenant, deps.refusals) } : {}),
      ...sdp.opts,
    };
    // A fresh options object per attempt (createB2BUA writes into it), and no Call-ID: drachtio makes a new
    // one for the B leg (docs/control-protocol.md §2.2, dispatch rule 4).
    const attemptAt = clock.now();
    // The dial peer's no-answer time, cut to what is left of the call's setup time.
    const setupLeft = setupEndsAt - attemptAt;
    const bySetup = target.noAnswerMs === undefined || setupLeft < target.noAnswerMs;
    rates?.spend(target);
    const r = await attemptBLeg({
      srf, req, res: aRes, uri: target.uri, opts, clock, noAnswerMs: bySetup ? setupLeft : target.noAnswerMs!,
      onStart: (giveUp: () => void, sent: () => boolean) => {
        // Cleared while this attempt's offer was prepared: it gives up at once.
        if (setup) (setup.cleared ? giveUp() : (setup.giveUp = giveUp));
        // The CANCEL of a caller whose INVITE is out reaches the B leg through createB2BUA, with the CANCEL's Reason.
        stopAttempt = () => {
          if (!sent()) giveUp();
        };
      },
    });
    stopAttempt = undefined;
    // The attempt is over: its give-up goes, so the setup no longer reaches the attempt's objects. Kept, it made
    // the young collector keep and promote every call's attempt for the first seconds after a start, about 1.1 MB
    // a collection against 0.3 MB without (docs/performance.md).
    if (setup) setup.giveUp = undefined;
    if (!r.ok) void sdp.end();
    if (!r.ok && r.cleared) {
      note(target, attemptAt, 'cancelled', null, undefined);
      callerGone = locals.cancelled !== undefined && !setup?.cleared;
      break;
    }
    if (r.ok) {
      media = sdp;
      legs = r.legs;
      note(target, attemptAt, 'answered', 200, undefined);
      break;
    }
    if (r.noAnswer) {
      stats.calls.noAnswerTimeouts++;
      if (bySetup) {
        legFailedLine(deps, req, target, 'info', { uri: target.uri, setupSeconds: Math.round(setupMs / 1000) }, 'b2bua: no answer within the call\'s setup time: cancelled, no other dial peer tried');
        note(target, attemptAt, 'no-answer', null, undefined);
        expired = true;
        break;
      }
      const s = Math.round(target.noAnswerMs! / 1000);
      legFailedLine(deps, req, target, 'info', { uri: target.uri, noAnswerSeconds: s }, 'b2bua: no answer in time, trying the next dial peer');
      failure = { status: 408, reasonHeader: sipReason(408, `No answer from dial peer ${target.dialPeer} within ${s} s`), cause: 'no-answer', releasedBy: 'gateway' };
      note(target, attemptAt, 'no-answer', null, undefined);
      if (!failoverAfterEarlyMedia(deps, req, target, earlyAnswer)) break;
      continue;
    }
    const err = r.err;
    if (answerRefused(err)) {
      answerRefusedLine(deps, req, target, err);
      failure = { status: err.status, reasonHeader: err.reasonHeader, cause: err.cause, releasedBy: 'gateway' };
      note(target, attemptAt, 'answer-refused', 200, undefined);
      break;
    }
    const status = sipErrorStatus(err);
    if (status === undefined) {
      legFailedLine(deps, req, target, 'warn', { err, uri: target.uri }, 'b2bua: B leg not placed');
      failure = { status: 503, reasonHeader: sipReason(503, `Trunk unreachable: dial peer ${target.dialPeer}`), cause: 'transport', releasedBy: 'gateway' };
      note(target, attemptAt, 'unreachable', null, undefined);
      continue;
    }
    const errRes = (err as { res?: { get?(n: string): string | undefined } }).res;
    const minSe = status === 422 ? parseMinSe(errRes?.get?.('Min-SE')) : undefined;
    const farReason = failureReason(err);
    // The engine's own answer (Timer B, a transport or TLS failure) says so; anything else is the far end's.
    const byEngine = parsePeerHeader(errRes?.get?.(PEER_HEADER))?.origin === 'engine';
    if (status === 430 && byEngine) relayedFlowClosed(req);
    if (status === 503 && !byEngine) holdOffAfter503(deps, req, target, errRes?.get?.('Retry-After'));
    const outcome: AttemptOutcome = locals.cancelled && status === 487 ? 'cancelled'
      : byEngine ? (status === 408 ? 'timeout' : 'unreachable') : 'rejected';
    note(target, attemptAt, outcome, status, farReason !== undefined ? printable(farReason) : undefined);
    if (st && minSe !== undefined && !retrySe.has(target) && !earlyAnswer) {
      retrySe.set(target, Math.max(minSe, st.minSeSeconds));
      attempts--;
      queue.unshift(target);
      continue;
    }
    // The caller gets our phrase and the far end's cause, never its text; a 401/407, 3xx or 422 is mapped (b-leg-answers.ts).
    const next = legFailure({ status, target, outcome, byEngine, farReason });
    failure = next.failure;
    if (next.authFailed) stats.bLegAuthFailed++;
    if (!next.failover || !failoverAfterEarlyMedia(deps, req, target, earlyAnswer)) break;
    legFailedLine(deps, req, target, 'info', { status }, next.authFailed ? 'b2bua: trunk authentication failed, trying the next dial peer' : 'b2bua: trunk failed, trying the next dial peer');
  }

  // The CDR names one attempt: the last one noted (the answered one, for a connected call), its destination with it.
  const last = tried.at(-1);
  const out = last ? { tenantOut: last.tenant, transportOut: last.transport, dialPeer: last.dialPeer, destination: last.uri } : {};
  if (expired && !legs) failure = setupExpired(setupMs);
  if (setup?.cleared && !legs) failure = setup.cleared;
  if (callerGone && !legs && failure.cause !== 'cancelled') failure = callerCancelled();
  if (!legs) {
    callFailed(deps, req, res, failure, { attempts, out, busy: failure.cause === 'call-limit' ? slots : rates });
    return;
  }

  connectAnswered(deps, req, {
    legs, used: used!, media, attempts, out, setup, ...(aSession?.ok ? { aSession } : {}), ...(retrySe.has(used!) ? { bSessionAsked: retrySe.get(used!)! } : {}),
  });
}
