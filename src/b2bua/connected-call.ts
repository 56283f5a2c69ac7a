import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import type { RateLimitedLog } from '../log/index.js';
import { legCallIds, type ActiveCalls, type CallFacts } from './active-calls.js';
import type { CallStats } from './call-stats.js';
import { passThrough, type PassLeg } from './pass-through.js';
import type { InDialogMedia } from './call-sdp.js';
import type { CallLimitsPolicy, SessionTimerPolicy } from './policy-types.js';
import { sipReason } from './reason.js';
import { decideUac, LegSessionTimer, parseMinSe, type UasSessionDecision } from './session-timer.js';
import type { LegSession } from './session-timer-refresh.js';
import { superviseLegs, type CallControl, type CallEnd } from './supervise-legs.js';

export interface ConnectedCallOptions {
  legs: { uas: PassLeg; uac: PassLeg };
  log: Logger;
  stats: CallStats;
  clock: Clock;
  callId: string | undefined;
  /** Lines of refusals and failed BYEs, rate-limited per code and source (absent: every one is written). */
  refusals?: RateLimitedLog | undefined;
  /** The rate-limit key of each leg's far end (the caller's address, the dial peer). */
  sources?: { A?: string | undefined; B?: string | undefined };
  limits?: CallLimitsPolicy | undefined;
  /** The session-timer terms agreed with the caller (our 2xx carried them). */
  aSession?: Extract<UasSessionDecision, { ok: true }> | undefined;
  /** The Session-Expires (and Min-SE) the B leg's INVITE was retried with after its 422; absent: the configured one. */
  bSessionAsked?: number | undefined;
  /** The caller's INVITE (its Allow says whether UPDATE can refresh the A leg). */
  aInvite: { get(name: string): string | undefined };
  aSuites?: readonly string[] | undefined;
  bSuites?: readonly string[] | undefined;
  /** An anchored call: re-INVITE and UPDATE offers go through rtpengine. */
  media?: InDialogMedia | undefined;
  active?: ActiveCalls | undefined;
  /** What the call list shows of it (the Call-IDs are read from the legs). */
  facts?: CallFacts;
  /** The id the call list gave it while it rang, which it keeps. */
  listedAs?: string | undefined;
  onEnded(end: CallEnd): void;
}

const allowsUpdate = (allow: string | undefined) => allow !== undefined && allow.split(',').some((m) => m.trim().toUpperCase() === 'UPDATE');

/**
 * A connected call: both legs supervised (BYE on one ends the other), re-INVITE/UPDATE/INFO relayed, the
 * longest duration enforced, RFC 4028 session timers run on both legs, and a B leg that answers an in-dialog
 * request with 408 or 481, or cannot be reached, ends the call on the A leg at once with a Reason.
 */
export function runConnectedCall(o: ConnectedCallOptions): CallControl {
  const { legs, log, stats, clock } = o;
  const maxS = o.limits?.maxDurationSeconds;
  const control = superviseLegs({
    stats, log, callId: o.callId, clock, ...(maxS !== undefined ? { maxDurationMs: maxS * 1000 } : {}), onEnded: o.onEnded,
    refusals: o.refusals, sources: o.sources,
  }, legs);
  const st = o.limits?.sessionTimer;
  const sessions = st && !control.ended ? startSessionTimers(o, st, control) : undefined;
  passThrough({
    log, callId: o.callId, stats, refusals: o.refusals, sources: o.sources, aSuites: o.aSuites, bSuites: o.bSuites, ...(o.media ? { media: o.media } : {}),
    onLegLost: (leg, status) => control.end('leg-lost', sipReason(status, `Leg ${leg} lost: an in-dialog request got ${status}`)),
    ...(sessions ? { sessions } : {}),
  }, legs);
  if (o.active && o.facts) o.active.add(control, o.facts, o.listedAs);
  return control;
}

/**
 * Each leg's timer. A re-INVITE or UPDATE from a leg refreshes its session once our 2xx to it has gone, and one
 * relayed to a leg once that leg answered 2xx (RFC 4028 §10): pass-through.ts and relay-reinvite.ts tell the timer
 * (session-timer-refresh.ts).
 */
function startSessionTimers(o: ConnectedCallOptions, policy: SessionTimerPolicy, control: CallControl): { A: LegSession; B: LegSession } {
  const { legs, clock } = o;
  const onExpired = (leg: 'A' | 'B', seconds: number) =>
    control.end('session-expired', sipReason(408, `Session timer expired on leg ${leg}: no refresh within ${seconds} s`));
  const onRefreshFailed = (leg: 'A' | 'B', status: number) =>
    control.end('session-refresh-failed', sipReason(status, `Session refresh on leg ${leg} failed with ${status}`));
  const a = o.aSession ?? { seconds: policy.expiresSeconds, refresher: 'uas' as const };
  const timerA = new LegSessionTimer({
    leg: legs.uas, name: 'A', seconds: a.seconds, weRefresh: a.refresher === 'uas',
    method: allowsUpdate(o.aInvite.get('Allow')) ? 'UPDATE' : 'INVITE', clock, onExpired, onRefreshFailed,
    minSeSeconds: policy.minSeSeconds, peerMinSeSeconds: parseMinSe(o.aInvite.get('Min-SE')),
  });
  const bRes = legs.uac.res ?? { get: () => undefined };
  const b = decideUac(bRes, policy, o.bSessionAsked);
  const timerB = new LegSessionTimer({
    leg: legs.uac, name: 'B', seconds: b.seconds, weRefresh: b.weRefresh,
    method: allowsUpdate(bRes.get('Allow')) ? 'UPDATE' : 'INVITE', clock, onExpired, onRefreshFailed,
    minSeSeconds: policy.minSeSeconds, peerMinSeSeconds: o.bSessionAsked,
  });
  control.onEnd(() => {
    timerA.stop();
    timerB.stop();
  });
  return { A: { timer: timerA, policy }, B: { timer: timerB, policy } };
}
