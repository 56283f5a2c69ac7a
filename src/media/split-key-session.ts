import type { MediaTotals } from './delete-stats.js';
import type { CallSide, MediaCallKey, MediaSession, MediaTarget } from './media-session.js';
import type { TenantMedia } from './media-policy.js';
import { needsSplitKeys, offersSdes, relayHopParams } from './ng-flags.js';

/** What call-sdp.ts asks of an anchored call's media, whether it is one rtpengine session or two chained. */
export interface AnchoredMedia {
  answer(toTag: string, sdp: string, params: Record<string, unknown>): Promise<string>;
  reoffer(from: CallSide, sdp: string, params: Record<string, unknown>): Promise<string>;
  reanswer(from: CallSide, sdp: string, params: Record<string, unknown>): Promise<string>;
  query(): Promise<Record<string, unknown> | undefined>;
  delete(): Promise<MediaTotals | undefined>;
  /** Deletes at once what was opened for a call that is already gone, counted as sessions no call uses (no figures). */
  discard(): void;
}

/** What the chain needs of the pool: both sessions on one live instance, failing over together (RtpenginePool.anchor). */
export interface SessionOpener {
  anchor<T>(open: (on: MediaTarget) => Promise<T>): Promise<T>;
}

/**
 * A call's rtpengine session for the first offer, from tenant `from` towards tenant `to`: two chained sessions (a key
 * of its own for each side instead of the other side's: SplitKeySession) when both sides may speak SDES SRTP at any
 * time of the call, else one. Neither tenant `srtp: off`: either side may offer SDES, in its first offer or in a
 * re-INVITE or UPDATE of a call that began with plain RTP, and a call cannot move from one session to two. One of
 * them `off`: rtpengine never gives that side keys, so the other side's keys cannot reach it, and the only keys that
 * could cross are those of an offer from the `off` side: such a first offer is split too, such an in-dialog offer on
 * one session is refused (keysWouldCross).
 */
export function openCallMedia(pool: SessionOpener & { offer(key: MediaCallKey, sdp: string, params: Record<string, unknown>): Promise<{ session: AnchoredMedia; sdp: string }> },
  key: MediaCallKey, sdp: string, params: Record<string, unknown>, from: TenantMedia, to: TenantMedia): Promise<{ session: AnchoredMedia; sdp: string }> {
  return keysApart(from, to) || needsSplitKeys(sdp, to) ? SplitKeySession.open(pool, key, sdp, params) : pool.offer(key, sdp, params);
}

/** Whether a call between these tenants is anchored as two sessions whatever its first offer: neither is `srtp: off`. */
export function keysApart(a: TenantMedia, b: TenantMedia): boolean {
  return a.srtp !== 'off' && b.srtp !== 'off';
}

/**
 * Whether an offer in the dialog towards tenant `to` would reach it with the offerer's own SDES keys: the call is one
 * rtpengine session, the offer has `a=crypto` in an active section and `to` is not `off` (rtpengine would copy them).
 */
export function keysWouldCross(session: AnchoredMedia, offerSdp: string, to: TenantMedia): boolean {
  return !(session instanceof SplitKeySession) && needsSplitKeys(offerSdp, to);
}

/** The Call-ID suffix of the second session of a chained call (towards the called side). */
export const SPLIT_KEY_SUFFIX = ';tg-hop2';

/**
 * SRTP on both sides with a key of its own on each (RFC 4568 §6.1: an `a=crypto` key is the one its sender
 * encrypts with, so a key one side sent must not reach the other). rtpengine (10.5 as well as its current
 * source) copies the offerer's keys into the offer for the other side for every suite the offerer listed, and the
 * answerer's key back when it picks one of them, and no ng flag turns that off. So the call is anchored as two
 * sessions on rtpengine, `first` (caller ⇄ plain RTP hop) and `second` (plain RTP hop ⇄ called side), each of
 * which interworks SRTP and RTP and therefore makes its own keys; the hop between them runs on loopback inside
 * rtpengine's host. Both sessions are therefore on the same instance, and every request of the call goes there.
 * Offers and answers go through both in the direction of the message, each side getting the transport of the
 * offer (or its tenant's, outerParams), so a call may begin with plain RTP and take up SRTP in a re-INVITE; the
 * figures of the call are the first session's for the caller's leg and the second's for the called side's.
 * https://www.rfc-editor.org/rfc/rfc4568#section-6.1
 */
export class SplitKeySession implements AnchoredMedia {
  readonly #first: MediaSession;
  readonly #second: MediaSession;
  #deleted: Promise<MediaTotals | undefined> | undefined;

  private constructor(first: MediaSession, second: MediaSession) {
    this.#first = first;
    this.#second = second;
  }

  /**
   * Opens both sessions, on one instance, for an offer from the side with tag `key.fromTag`; `params` are the outer
   * hop's (towards the answerer). Resolves with rtpengine's SDP for the answerer. When the second fails, the pool
   * deletes the first and, if that instance stopped answering, opens both again on the next one.
   */
  static open(pool: SessionOpener, key: MediaCallKey, sdp: string, params: Record<string, unknown>): Promise<{ session: SplitKeySession; sdp: string }> {
    return pool.anchor(async (on) => {
      const first = await on.offer(key, sdp, relayHopParams());
      const second = await on.offer({ callId: key.callId + SPLIT_KEY_SUFFIX, fromTag: key.fromTag }, first.sdp, outerParams(params, sdp));
      return { session: new SplitKeySession(first.session, second.session), sdp: second.sdp };
    });
  }

  async answer(toTag: string, sdp: string, params: Record<string, unknown>): Promise<string> {
    const hop = await this.#second.answer(toTag, sdp, params);
    return this.#first.answer(toTag, hop, params);
  }

  async reoffer(from: CallSide, sdp: string, params: Record<string, unknown>): Promise<string> {
    const [near, far] = from === 'A' ? [this.#first, this.#second] : [this.#second, this.#first];
    const hop = await near.reoffer(from, sdp, relayHopParams());
    return far.reoffer(from, hop, outerParams(params, sdp));
  }

  async reanswer(from: CallSide, sdp: string, params: Record<string, unknown>): Promise<string> {
    // The answer comes from the side that did not offer, so it crosses the sessions the other way.
    const [near, far] = from === 'A' ? [this.#second, this.#first] : [this.#first, this.#second];
    const hop = await near.reanswer(from, sdp, params);
    return far.reanswer(from, hop, params);
  }

  /** The first session's view: it sees the caller's media and, through the hop, the called side's. */
  query(): Promise<Record<string, unknown> | undefined> {
    return this.#first.query();
  }

  discard(): void {
    this.#first.discard();
    this.#second.discard();
    this.#deleted ??= Promise.resolve(undefined);
  }

  /** Deletes both sessions once; the caller's figures from the first, the called side's from the second. */
  delete(): Promise<MediaTotals | undefined> {
    this.#deleted ??= Promise.all([this.#first.delete(), this.#second.delete()])
      .then(([a, b]) => (a && b ? { a: a.a, b: b.b } : undefined));
    return this.#deleted;
  }
}

/**
 * The outer hop's offer parameters for an offer `sdp`: the hop between the sessions is plain RTP, so an answerer
 * whose policy keeps the offer's own transport (`optional`) gets the transport of the offer itself: SRTP when it
 * came with SDES keys, plain RTP when it came without.
 */
function outerParams(params: Record<string, unknown>, sdp: string): Record<string, unknown> {
  return params['transport-protocol'] || !offersSdes(sdp) ? params : { ...params, 'transport-protocol': 'RTP/SAVP' };
}
