import { isGatewayError } from '../common/index.js';
import {
  anchored, answerParams, callSdpChecker, checkOffer, FLOW_AROUND, offerParams, openCallMedia, receivedFrom, scrubSdp,
  type AnchoredMedia, type CallSdpCheck, type MediaRefusal, type MediaTotals, type NamedMedia, type RtpenginePool, type TenantMedia,
} from '../media/index.js';
import type { TenantPolicy } from './policy-types.js';
import { sipReason } from './reason.js';
import { filterCrypto } from './sdp-crypto.js';

/** Thrown from localSdpA inside createB2BUA when the B side's answer cannot go to the caller. */
const ANSWER_REFUSED = Symbol('answer refused');
export interface AnswerRefused extends Error {
  [ANSWER_REFUSED]: true;
  status: number;
  reasonHeader: string;
  cause: 'srtp' | 'media-unavailable' | 'media-address';
  /** The code of the line that says so. */
  code: 'ERR_B2BUA_SRTP_REFUSED' | 'ERR_MEDIA_REFUSED' | 'ERR_MEDIA_ADDRESS_REFUSED';
}

export function answerRefused(err: unknown): err is AnswerRefused {
  return typeof err === 'object' && err !== null && ANSWER_REFUSED in err;
}

function refusal(status: 488 | 503, reason: string, reasonHeader: string, cause: AnswerRefused['cause'] = status === 488 ? 'srtp' : 'media-unavailable'): AnswerRefused {
  const code = cause === 'srtp' ? 'ERR_B2BUA_SRTP_REFUSED' as const : cause === 'media-address' ? 'ERR_MEDIA_ADDRESS_REFUSED' as const : 'ERR_MEDIA_REFUSED' as const;
  return Object.assign(new Error(reason), { [ANSWER_REFUSED]: true as const, status, reasonHeader, cause, code });
}

/** A called side's answer (or late offer, or the caller's answer to it in the ACK) that breaks a media policy. */
const policyRefused = (r: MediaRefusal): AnswerRefused => refusal(488, r.reason, sipReason(488, r.reason), r.cause);

/** The answer of an attempt given up while the B leg's late offer was on its way: nobody hears it (b-leg-attempt.ts). */
const givenUp = (): AnswerRefused => refusal(503, 'The call attempt was given up', sipReason(503, 'The call attempt was given up'));

/**
 * What refused an offer before any B leg was placed: 488 (no SRTP both sides allow) or 503 (no media relay), with
 * the code of the line the pipeline writes about it, once per source a window (call-sdp itself logs nothing).
 */
export interface OfferRefusal {
  status: 488 | 503;
  reason: string;
  reasonHeader: string;
  cause: 'srtp' | 'media-unavailable' | 'media-address';
  code: 'ERR_B2BUA_SRTP_REFUSED' | 'ERR_MEDIA_UNAVAILABLE' | 'ERR_MEDIA_REFUSED' | 'ERR_MEDIA_ADDRESS_REFUSED';
  /** What rtpengine's failure said (its code and message: never SDP or keys). */
  detail?: { mediaCode?: string; err: string };
}

/** The SDP of one B-leg attempt: what createB2BUA is given, and the media session to end with the attempt or the call. */
export interface CallSdp {
  ok: true;
  /** `localSdpB` (when the offer changed) and `localSdpA` for createB2BUA. */
  opts: {
    /** The offer to the B leg; a function for a late offer: the caller's ACK SDP in, the B leg's ACK SDP out. */
    localSdpB?: string | ((ackSdp: string | undefined) => Promise<string | undefined>);
    localSdpA: (sdpB: string | undefined, res?: { get?(name: string): string | undefined }) => string | undefined | Promise<string | undefined>;
  };
  /** True when the media is anchored on rtpengine. */
  anchored: boolean;
  /** Anchored calls: later offers and answers in the dialog (re-INVITE, UPDATE) go through the same session. */
  inDialog?: InDialogMedia;
  /** Anchored calls: rtpengine's session, for the media-timeout watch (media-watch.ts). */
  session?: { query(): Promise<Record<string, unknown> | undefined> };
  /** Deletes the rtpengine session (once); resolves with its per-leg figures, or undefined when not anchored. */
  end(): Promise<MediaTotals | undefined>;
}

/**
 * A re-INVITE's or UPDATE's SDP in an anchored call, on its way through rtpengine: `offer` from leg `from` to the
 * other leg, `answer` from the other leg back to `from`. Each resolves with the SDP to send on; a failure rejects,
 * with an AnswerRefused (488) when the body breaks the call's media policy, before rtpengine sees it.
 */
export interface InDialogMedia {
  offer(from: 'A' | 'B', sdp: string): Promise<string>;
  answer(from: 'A' | 'B', sdp: string): Promise<string>;
  /** The call's media flows around the gateway: offer and answer only check the SDP and hand it back as it came. */
  flowAround?: true;
}

export interface CallSdpInput {
  body: string;
  callId: string;
  /** The A leg's From header: its tag is the offerer's tag towards rtpengine. */
  from: string;
  tenantIn: { name: string; policy: TenantPolicy };
  tenantOut: { name: string; policy: TenantPolicy };
  /** This app's rtpengine pool; absent when the gateway lists none (then no tenant can be flow-through). */
  pool?: RtpenginePool;
  /** No live rtpengine: refuse the call with 503 (default), or let its media flow around the gateway. */
  whenDown?: 'reject' | 'flow-around';
  /** The address the caller's INVITE came from: rtpengine's `received-from` for the caller's SDP. */
  source?: string | undefined;
}

/** The SDP body leg `from` sent, when the call's media policy takes it; else throws its refusal (488). */
function checked(check: CallSdpCheck | undefined, from: 'A' | 'B', part: 'offer' | 'answer', sdp: string): string {
  const bad = check?.(from, part, sdp);
  if (bad) throw policyRefused(bad);
  return sdp;
}

const tagOf = (header: string | undefined): string => /;\s*tag=([^;>\s]+)/i.exec(header ?? '')?.[1] ?? '';
const flip = (side: 'A' | 'B'): 'A' | 'B' => (side === 'A' ? 'B' : 'A');
/** The address a response came from (drachtio-srf's Response), for rtpengine's `received-from`. */
const sourceOf = (res: unknown): string | undefined => (res as { source_address?: string } | undefined)?.source_address;

export type CallSdpResult = CallSdp | { ok: false; refusal: OfferRefusal };

/**
 * The offer and answer of one B-leg attempt. Both tenants' `srtpCrypto` filters apply as they always did. When
 * either tenant is flow-through, the caller's offer goes through rtpengine's `offer` before the B leg is placed and
 * the called side's answer through its `answer` before the caller gets it, each side's SDES suites applied to what
 * rtpengine wrote and the body scrubbed (sdp-scrub.ts) on its way in and out. Every offer and answer of the call is
 * held to both tenants' media policy (checkCallSdp: SRTP, and on an anchored call the media addresses): a refused
 * offer gets 488 before any B leg, a refused answer ends the attempt with 488. No live rtpengine refuses the offer
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
  const check = callSdpChecker(named(mIn, i.tenantIn.name), named(mOut, i.tenantOut.name));
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
  if (late) return lateOffer(i, i.pool, mIn, mOut, toCaller, check);
  return anchor(i, scrubSdp(toCallee.sdp), mIn, mOut, toCaller, fallback, check);
}

/**
 * An INVITE without SDP (late offer, RFC 3261 §13.2.1): the called side's 200 carries the offer, which goes through
 * rtpengine's `offer` (with the B leg's tag as from-tag) before the caller's 200, and the caller's ACK carries the
 * answer, which goes through `answer` before the B leg's ACK (createB2BUA's localSdpB as a function). The session's
 * sides are the other way round, so in-dialog offers and the delete figures are turned back for the call. A 200
 * that comes after the attempt was given up (end(): a CANCEL or the no-answer timer crossed it) opens nothing, and a
 * session opened while it was given up is deleted at once (MediaSession.discard), so none is left behind.
 */
function lateOffer(i: CallSdpInput, pool: RtpenginePool, mIn: TenantMedia, mOut: TenantMedia, toCaller: (sdp: string) => string, check: CallSdpCheck | undefined): CallSdp {
  const aSuites = mIn.suites ?? i.tenantIn.policy.srtpCrypto;
  const bSuites = mOut.suites ?? i.tenantOut.policy.srtpCrypto;
  let session: AnchoredMedia | undefined;
  let toA: string | undefined;
  let ended = false;
  const sources: { A?: string | undefined; B?: string | undefined } = { A: i.source };
  return {
    ok: true, anchored: true,
    end: async () => {
      ended = true;
      const m = await session?.delete();
      return m && { a: m.b, b: m.a };
    },
    opts: {
      localSdpA: async (sdpB, res) => {
        if (!sdpB || toA !== undefined) return toA ?? sdpB;
        if (ended) throw givenUp();
        checked(check, 'B', 'offer', sdpB);
        sources.B = sourceOf(res);
        let opened: { session: AnchoredMedia; sdp: string };
        try {
          opened = await openCallMedia(pool, { callId: i.callId, fromTag: tagOf(res?.get?.('To')) }, scrubSdp(sdpB),
            { ...offerParams(mOut, mIn), ...receivedFrom(sources.B) }, mIn);
        } catch {
          throw refusal(503, 'No media relay available', sipReason(503, 'No media relay available'));
        }
        if (ended) {
          opened.session.discard();
          throw givenUp();
        }
        session = opened.session;
        toA = scrubSdp(toCaller(opened.sdp));
        return toA;
      },
      localSdpB: async (ackSdp) => {
        if (!session || !ackSdp) return ackSdp;
        return forSuites(await session.answer(tagOf(i.from), scrubSdp(checked(check, 'A', 'answer', ackSdp)), { ...answerParams(mOut, mIn), ...receivedFrom(sources.A) }), bSuites);
      },
    },
    inDialog: {
      offer: async (from, sdp) => forSuites(await session!.reoffer(flip(from), scrubSdp(checked(check, from, 'offer', sdp)),
        { ...(from === 'A' ? offerParams(mIn, mOut) : offerParams(mOut, mIn)), ...receivedFrom(sources[from]) }), from === 'A' ? bSuites : aSuites),
      answer: async (from, sdp) => forSuites(await session!.reanswer(flip(from), scrubSdp(checked(check, flip(from), 'answer', sdp)),
        { ...answerParams(mIn, mOut), ...receivedFrom(sources[flip(from)]) }), from === 'A' ? aSuites : bSuites),
    },
    session: { query: () => session?.query() ?? Promise.resolve(undefined) },
  };
}

/** rtpengine's SDP for one side: that side's suites in its order, scrubbed of the other side's names (sdp-scrub.ts). */
function forSuites(sdp: string, suites: readonly string[] | undefined): string {
  const f = filterCrypto(sdp, suites);
  return scrubSdp(f.ok ? f.sdp : sdp);
}

/** The anchored path: the offer through rtpengine now, the answer through it when the B leg answers. */
async function anchor(i: CallSdpInput, offerSdp: string, mIn: TenantMedia, mOut: TenantMedia, toCaller: (sdp: string) => string,
  fallback: CallSdp | undefined, check: CallSdpCheck | undefined): Promise<CallSdpResult> {
  let session: AnchoredMedia;
  let relayed: string;
  const sources: { A?: string | undefined; B?: string | undefined } = { A: i.source };
  try {
    ({ session, sdp: relayed } = await openCallMedia(i.pool!, { callId: i.callId, fromTag: tagOf(i.from) }, offerSdp,
      { ...offerParams(mIn, mOut), ...receivedFrom(sources.A) }, mOut));
  } catch (err) {
    if (isGatewayError(err, 'ERR_MEDIA_UNAVAILABLE')) return fallback ?? { ok: false, refusal: unavailable() };
    const mediaCode = (err as { code?: unknown } | null)?.code;
    return {
      ok: false,
      refusal: {
        status: 503, reason: 'Media relay refused the offer', reasonHeader: sipReason(503, 'Media relay refused the offer'), cause: 'media-unavailable',
        code: 'ERR_MEDIA_REFUSED', detail: { ...(typeof mediaCode === 'string' ? { mediaCode } : {}), err: String(err) },
      },
    };
  }
  const bSuites = mOut.suites ?? i.tenantOut.policy.srtpCrypto;
  const aSuites = mIn.suites ?? i.tenantIn.policy.srtpCrypto;
  const localSdpB = forSuites(relayed, bSuites);
  const inDialog: InDialogMedia = {
    offer: async (from, sdp) => from === 'A'
      ? forSuites(await session.reoffer('A', scrubSdp(checked(check, 'A', 'offer', sdp)), { ...offerParams(mIn, mOut), ...receivedFrom(sources.A) }), bSuites)
      : forSuites(await session.reoffer('B', scrubSdp(checked(check, 'B', 'offer', sdp)), { ...offerParams(mOut, mIn), ...receivedFrom(sources.B) }), aSuites),
    answer: async (from, sdp) => forSuites(await session.reanswer(from, scrubSdp(checked(check, flip(from), 'answer', sdp)), { ...answerParams(mIn, mOut), ...receivedFrom(sources[flip(from)]) }),
      from === 'A' ? aSuites : bSuites),
  };
  return {
    ok: true, anchored: true, end: () => session.delete(), inDialog, session,
    opts: {
      localSdpB,
      localSdpA: async (sdpB, res) => {
        if (!sdpB) return sdpB;
        checked(check, 'B', 'answer', sdpB);
        sources.B = sourceOf(res);
        let answer: string;
        try {
          answer = await session.answer(tagOf(res?.get?.('To')), scrubSdp(sdpB), { ...answerParams(mIn, mOut), ...receivedFrom(sources.B) });
        } catch {
          throw refusal(503, 'Media relay failed on the answer', sipReason(503, 'Media relay failed on the answer'));
        }
        return scrubSdp(toCaller(answer));
      },
    },
  };
}

/**
 * A tenant's media policy with its name, for the checks. Written out rather than spread: a spread followed by a new
 * property costs V8 a map of its own per object, about half a microsecond on every call (docs/performance.md).
 */
function named(m: TenantMedia, name: string, mode = m.mode): NamedMedia {
  return { mode, srtp: m.srtp, suites: m.suites, allowedNetworks: m.allowedNetworks, name };
}

const unavailable = (): OfferRefusal => ({
  status: 503, reason: 'No media relay available', reasonHeader: sipReason(503, 'No media relay available'), cause: 'media-unavailable', code: 'ERR_MEDIA_UNAVAILABLE',
});
const srtpRefusal = (reason: string, reasonHeader: string): OfferRefusal => ({ status: 488, reason, reasonHeader, cause: 'srtp', code: 'ERR_B2BUA_SRTP_REFUSED' });
const offerRefusal = (r: MediaRefusal): OfferRefusal => ({
  status: 488, reason: r.reason, reasonHeader: sipReason(488, r.reason), cause: r.cause, code: r.cause === 'srtp' ? 'ERR_B2BUA_SRTP_REFUSED' : 'ERR_MEDIA_ADDRESS_REFUSED',
});

/** Runs `write` with the call's media figures once rtpengine's session is deleted; at once when nothing was anchored. */
export function afterMedia(media: CallSdp | undefined, write: (m?: MediaTotals) => void): void {
  if (!media?.anchored) write();
  else void media.end().then((m) => write(m));
}
