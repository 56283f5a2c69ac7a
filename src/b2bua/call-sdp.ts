import {
  anchored, callSdpChecker, checkOffer, FLOW_AROUND, scrubSdp,
  type CallSdpCheck, type MediaTotals, type NamedMedia, type RtpenginePool, type TenantMedia,
} from '../media/index.js';
import { anchor, checked, flip, lateOffer, type Anchoring } from './sdp-anchored.js';
import { filterCrypto } from './sdp-crypto.js';
import type { CallSdp, CallSdpInput, CallSdpResult } from './sdp-call-types.js';
import { offerRefusal, refusal, srtpRefusal, unavailable } from './sdp-refusal.js';

export { answerRefused, type AnswerRefused, type OfferRefusal } from './sdp-refusal.js';
export type { CallSdp, CallSdpInput, CallSdpResult, InDialogMedia } from './sdp-call-types.js';

/**
 * The offer and answer of one B-leg attempt. Both tenants' `srtpCrypto` filters apply as they always did. When
 * either tenant is flow-through, the caller's offer goes through rtpengine's `offer` before the B leg is placed and
 * the called side's answer through its `answer` before the caller gets it, each side's SDES suites applied to what
 * rtpengine wrote and the body scrubbed (sdp-scrub.ts) on its way in and out. Every offer and answer of the call is
 * held to both tenants' media policy (checkCallSdp: SRTP, and on an anchored call its size and the media addresses):
 * a refused offer gets 488 before any B leg, a refused answer ends the attempt with 488. No live rtpengine refuses the offer
 * (503), or with `whenDown: flow-around` lets it flow around when its SRTP policies allow.
 * Synchronous unless the call is anchored (only then is there an ng round trip to wait for), so a flow-around call
 * takes no extra turn before its first B leg.
 */
export function prepareCallSdp(i: CallSdpInput): CallSdpResult | Promise<CallSdpResult> {
  const inSuites = i.tenantIn.policy.srtpCrypto;
  const outSuites = i.tenantOut.policy.srtpCrypto;
  const fromCaller = filterCrypto(i.body, inSuites);
  const toCallee = fromCaller.ok ? filterCrypto(fromCaller.sdp, outSuites) : fromCaller;
  if (!toCallee.ok) return { ok: false, refusal: srtpRefusal(toCallee.reason, toCallee.reasonHeader) };
  const changed = fromCaller.ok && (fromCaller.changed || toCallee.changed);
  const mIn: TenantMedia = i.tenantIn.policy.media ?? FLOW_AROUND;
  const mOut: TenantMedia = i.tenantOut.policy.media ?? FLOW_AROUND;
  const through = anchored(mIn, mOut);
  const nIn = named(mIn, i.tenantIn.name);
  const nOut = named(mOut, i.tenantOut.name);
  const check = counted(callSdpChecker(nIn, nOut), through ? i.pool : undefined);
  const bad = i.body ? check?.('A', 'offer', toCallee.sdp) : undefined;
  if (bad) return { ok: false, refusal: offerRefusal(bad) };

  const toCaller = (sdp: string): string => {
    const a = filterCrypto(sdp, inSuites);
    if (a.ok) return a.sdp;
    throw refusal(488, a.reason, a.reasonHeader);
  };
  // Unanchored, by policy or because rtpengine is down: checked as a call whose media flows around.
  const aroundCheck = through ? callSdpChecker(named(mIn, i.tenantIn.name, 'flow-around'), named(mOut, i.tenantOut.name, 'flow-around')) : check;
  const late = !i.body;
  const around: CallSdp = {
    ok: true, anchored: false, end: () => Promise.resolve(undefined),
    opts: {
      ...(changed ? { localSdpB: toCallee.sdp } : {}),
      ...(late && aroundCheck ? { localSdpB: async (ack: string | undefined) => (ack ? checked(aroundCheck, 'A', 'answer', ack) : ack) } : {}),
      localSdpA: (sdpB) => (sdpB ? toCaller(checked(aroundCheck, 'B', late ? 'offer' : 'answer', sdpB)) : sdpB),
    },
    ...(aroundCheck ? {
      inDialog: {
        flowAround: true,
        offer: async (from, sdp) => checked(aroundCheck, from, 'offer', sdp),
        answer: async (from, sdp) => checked(aroundCheck, flip(from), 'answer', sdp),
      },
    } : {}),
  };
  if (!through) return around;
  // Falling back is only for a call whose SRTP policies hold without rtpengine.
  const fallback = i.whenDown === 'flow-around'
    && checkOffer(toCallee.sdp, named(mIn, i.tenantIn.name, 'flow-around'), named(mOut, i.tenantOut.name, 'flow-around')).ok
    ? around : undefined;
  if (!i.pool) return fallback ?? { ok: false, refusal: unavailable() };
  const a: Anchoring = { i, pool: i.pool, mIn: nIn, mOut: nOut, toCaller, check };
  return late ? lateOffer(a) : anchor(a, scrubSdp(toCallee.sdp), fallback);
}

/**
 * A tenant's media policy with its name, for the checks. Written out rather than spread: a spread followed by a new
 * property costs V8 a map of its own per object, about half a microsecond on every call (docs/performance.md).
 */
function named(m: TenantMedia, name: string, mode = m.mode): NamedMedia {
  return { mode, srtp: m.srtp, suites: m.suites, allowedNetworks: m.allowedNetworks, name };
}

/**
 * The checks of an anchored call, an SDP body too large for rtpengine counted on the pool (`failures.tooLarge`) as
 * it is refused.
 */
function counted(check: CallSdpCheck | undefined, pool: RtpenginePool | undefined): CallSdpCheck | undefined {
  if (!check || !pool) return check;
  return (from, part, sdp) => {
    const bad = check(from, part, sdp);
    if (bad?.cause === 'sdp-size') pool.sdpTooLarge();
    return bad;
  };
}

/** Runs `write` with the call's media figures once rtpengine's session is deleted; at once when nothing was anchored. */
export function afterMedia(media: CallSdp | undefined, write: (m?: MediaTotals) => void): void {
  if (!media?.anchored) write();
  else void media.end().then((m) => write(m));
}
