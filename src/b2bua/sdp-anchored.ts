import { isGatewayError } from '../common/index.js';
import {
  answerParams, keysWouldCross, offerParams, openCallMedia, receivedFrom, scrubSdp,
  type AnchoredMedia, type CallSdpCheck, type NamedMedia, type RtpenginePool,
} from '../media/index.js';
import type { CallSdp, CallSdpInput, CallSdpResult, InDialogMedia } from './sdp-call-types.js';
import { sipReason } from './reason.js';
import { filterCrypto } from './sdp-crypto.js';
import { givenUp, policyRefused, refusal, unavailable } from './sdp-refusal.js';

/** What both anchored paths are given by prepareCallSdp (call-sdp.ts). */
export interface Anchoring {
  i: CallSdpInput;
  pool: RtpenginePool;
  /** The caller's tenant (`A`) and the called side's (`B`), with their names. */
  mIn: NamedMedia;
  mOut: NamedMedia;
  /** The called side's SDP made fit for the caller (its tenant's a=crypto filter); throws a 488 refusal. */
  toCaller: (sdp: string) => string;
  check: CallSdpCheck | undefined;
}

/** The SDP body leg `from` sent, when the call's media policy takes it; else throws its refusal (488). */
export function checked(check: CallSdpCheck | undefined, from: 'A' | 'B', part: 'offer' | 'answer', sdp: string): string {
  const bad = check?.(from, part, sdp);
  if (bad) throw policyRefused(bad);
  return sdp;
}

const tagOf = (header: string | undefined): string => /;\s*tag=([^;>\s]+)/i.exec(header ?? '')?.[1] ?? '';
export const flip = (side: 'A' | 'B'): 'A' | 'B' => (side === 'A' ? 'B' : 'A');
/** The address a response came from (drachtio-srf's Response), for rtpengine's `received-from`. */
const sourceOf = (res: unknown): string | undefined => (res as { source_address?: string } | undefined)?.source_address;

/**
 * The Call-ID of one B-leg attempt's rtpengine session: the call's own for the first attempt, a suffix of the
 * attempt's number for the others. Every attempt reuses the caller's Call-ID and From tag, so without it the
 * session of an attempt given up (a delete on its way, an answer that crossed its CANCEL) would be the next
 * attempt's session as well.
 */
export function attemptCallId(i: CallSdpInput): string {
  return i.attempt ? `${i.callId};tg-try${i.attempt + 1}` : i.callId;
}

/** rtpengine's SDP for one side: that side's suites in its order, scrubbed of the other side's names (sdp-scrub.ts). */
function forSuites(sdp: string, suites: readonly string[] | undefined): string {
  const f = filterCrypto(sdp, suites);
  return scrubSdp(f.ok ? f.sdp : sdp);
}

/**
 * An in-dialog offer on a call anchored as one rtpengine session that carries SDES keys towards a tenant that is not
 * `srtp: off`: rtpengine would copy them into the other side's SDP (split-key-session.ts), so it is refused, 488.
 * RFC 4568 §6.1: the key of an `a=crypto` attribute is the one its sender encrypts with.
 * https://www.rfc-editor.org/rfc/rfc4568#section-6.1
 */
function keysKeptApart(session: AnchoredMedia, sdp: string, to: NamedMedia): void {
  if (!keysWouldCross(session, sdp, to)) return;
  throw policyRefused({
    status: 488, cause: 'srtp',
    reason: `SRTP (SDES) cannot be offered towards tenant ${to.name} in this call: its media relay session has no key of its own for that side`,
  });
}

/**
 * Later offers and answers in the dialog (re-INVITE, UPDATE) through the call's session. `sideOf` gives the side of
 * the session a leg of the call is (a late-offer call's session was opened by the called side).
 */
function inDialog(a: Anchoring, session: () => AnchoredMedia, sideOf: (leg: 'A' | 'B') => 'A' | 'B',
  sources: { A?: string | undefined; B?: string | undefined }): InDialogMedia {
  const { mIn, mOut, check } = a;
  const suitesA = mIn.suites ?? a.i.tenantIn.policy.srtpCrypto;
  const suitesB = mOut.suites ?? a.i.tenantOut.policy.srtpCrypto;
  return {
    offer: async (from, sdp) => {
      const body = checked(check, from, 'offer', sdp);
      keysKeptApart(session(), body, from === 'A' ? mOut : mIn);
      const params = from === 'A' ? offerParams(mIn, mOut) : offerParams(mOut, mIn);
      return forSuites(await session().reoffer(sideOf(from), scrubSdp(body), { ...params, ...receivedFrom(sources[from]) }), from === 'A' ? suitesB : suitesA);
    },
    answer: async (from, sdp) => forSuites(await session().reanswer(sideOf(from), scrubSdp(checked(check, flip(from), 'answer', sdp)),
      { ...answerParams(mIn, mOut), ...receivedFrom(sources[flip(from)]) }), from === 'A' ? suitesA : suitesB),
  };
}

/**
 * The anchored path: the offer through rtpengine now, the answer through it when the B leg answers. An answer that
 * comes after the attempt was given up (end(): a CANCEL or the no-answer timer crossed it) goes nowhere near
 * rtpengine: the session is deleted, and an answer would open it again with nobody to delete it.
 */
export async function anchor(a: Anchoring, offerSdp: string, fallback: CallSdp | undefined): Promise<CallSdpResult> {
  const { i, mIn, mOut, check, toCaller } = a;
  let session: AnchoredMedia;
  let relayed: string;
  let ended = false;
  const sources: { A?: string | undefined; B?: string | undefined } = { A: i.source };
  try {
    ({ session, sdp: relayed } = await openCallMedia(a.pool, { callId: attemptCallId(i), fromTag: tagOf(i.from) }, offerSdp,
      { ...offerParams(mIn, mOut), ...receivedFrom(sources.A) }, mIn, mOut));
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
  return {
    ok: true, anchored: true, session,
    end: () => {
      ended = true;
      return session.delete();
    },
    inDialog: inDialog(a, () => session, (leg) => leg, sources),
    opts: {
      localSdpB: forSuites(relayed, mOut.suites ?? i.tenantOut.policy.srtpCrypto),
      localSdpA: async (sdpB, res) => {
        if (!sdpB) return sdpB;
        if (ended) throw givenUp();
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
 * An INVITE without SDP (late offer, RFC 3261 §13.2.1): the called side's 200 carries the offer, which goes through
 * rtpengine's `offer` (with the B leg's tag as from-tag) before the caller's 200, and the caller's ACK carries the
 * answer, which goes through `answer` before the B leg's ACK (createB2BUA's localSdpB as a function). The session's
 * sides are the other way round, so in-dialog offers and the delete figures are turned back for the call. A 200
 * that comes after the attempt was given up (end(): a CANCEL or the no-answer timer crossed it) opens nothing, and a
 * session opened while it was given up is deleted at once (MediaSession.discard), so none is left behind. Until the
 * 200 the call has no session, yet will need the pool when it comes: it holds the pool open (RtpenginePool.hold).
 * https://www.rfc-editor.org/rfc/rfc3261#section-13.2.1
 */
export function lateOffer(a: Anchoring): CallSdp {
  const { i, pool, mIn, mOut, check, toCaller } = a;
  let session: AnchoredMedia | undefined;
  let toA: string | undefined;
  let ended = false;
  const release = pool.hold();
  const sources: { A?: string | undefined; B?: string | undefined } = { A: i.source };
  return {
    ok: true, anchored: true,
    end: async () => {
      ended = true;
      release();
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
          opened = await openCallMedia(pool, { callId: attemptCallId(i), fromTag: tagOf(res?.get?.('To')) }, scrubSdp(sdpB),
            { ...offerParams(mOut, mIn), ...receivedFrom(sources.B) }, mOut, mIn);
        } catch {
          throw refusal(503, 'No media relay available', sipReason(503, 'No media relay available'));
        }
        if (ended) {
          opened.session.discard();
          throw givenUp();
        }
        session = opened.session;
        release();
        toA = scrubSdp(toCaller(opened.sdp));
        return toA;
      },
      localSdpB: async (ackSdp) => {
        if (!session || !ackSdp) return ackSdp;
        return forSuites(await session.answer(tagOf(i.from), scrubSdp(checked(check, 'A', 'answer', ackSdp)), { ...answerParams(mOut, mIn), ...receivedFrom(sources.A) }),
          mOut.suites ?? i.tenantOut.policy.srtpCrypto);
      },
    },
    inDialog: inDialog(a, () => session!, flip, sources),
    session: { query: () => session?.query() ?? Promise.resolve(undefined) },
  };
}
