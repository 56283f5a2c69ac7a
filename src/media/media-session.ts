import type { MediaTotals } from './delete-stats.js';
import type { RtpengineAddress } from './ng-transport.js';

/** The two tags of a call's legs towards rtpengine: the A leg's From tag, the B leg's To tag (once answered). */
export interface MediaCallKey {
  callId: string;
  fromTag: string;
}

/** What a session asks of the pool that made it (RtpenginePool): requests to its own instance. */
export interface SessionHost {
  sdpOn(address: RtpengineAddress, command: 'offer' | 'answer', tags: { callId: string; fromTag: string; toTag: string },
    sdp: string, params: Record<string, unknown>): Promise<string>;
  deleteOn(address: RtpengineAddress, key: MediaCallKey, toTag: string | undefined): Promise<MediaTotals | undefined>;
  /** Deletes a session no call will use, at once, as the pool deletes what a failed-over call left (counted as an orphan). */
  discardOn(address: RtpengineAddress, key: MediaCallKey): void;
  /** The call's `query` reply, or undefined when the instance did not answer or refused. */
  queryOn(address: RtpengineAddress, key: MediaCallKey): Promise<Record<string, unknown> | undefined>;
}

/**
 * The one instance an attempt at anchoring a call is on (RtpenginePool.anchor): each offer of the attempt goes there
 * and nowhere else, so every session of the call is on the same instance.
 */
export interface MediaTarget {
  offer(key: MediaCallKey, sdp: string, params: Record<string, unknown>): Promise<{ session: MediaSession; sdp: string }>;
}

/** The caller's leg (`A`, the From tag of the first offer) or the called side's (`B`, the To tag of its answer). */
export type CallSide = 'A' | 'B';

/**
 * One call's media on the instance that took its offer: the answer, later offers and answers in the dialog (a
 * re-INVITE or UPDATE from either side) and the delete all go there.
 */
export class MediaSession {
  readonly #pool: SessionHost;
  readonly instance: RtpengineAddress;
  readonly key: MediaCallKey;
  #toTag: string | undefined;
  #deleted: Promise<MediaTotals | undefined> | undefined;

  constructor(pool: SessionHost, instance: RtpengineAddress, key: MediaCallKey) {
    this.#pool = pool;
    this.instance = instance;
    this.key = key;
  }

  /** Sends the called side's answer; resolves with rtpengine's SDP for the caller. */
  answer(toTag: string, sdp: string, params: Record<string, unknown>): Promise<string> {
    this.#toTag = toTag;
    return this.#pool.sdpOn(this.instance, 'answer', { callId: this.key.callId, fromTag: this.key.fromTag, toTag }, sdp, params);
  }

  /** A new offer in the dialog from side `from`; resolves with rtpengine's SDP for the other side. */
  reoffer(from: CallSide, sdp: string, params: Record<string, unknown>): Promise<string> {
    return this.#pool.sdpOn(this.instance, 'offer', this.#tags(from), sdp, params);
  }

  /** The other side's answer to an offer from `from`; resolves with rtpengine's SDP for `from`. */
  reanswer(from: CallSide, sdp: string, params: Record<string, unknown>): Promise<string> {
    return this.#pool.sdpOn(this.instance, 'answer', this.#tags(from), sdp, params);
  }

  /** rtpengine's view of the call now (`query`); undefined when it did not answer. Never rejects. */
  query(): Promise<Record<string, unknown> | undefined> {
    return this.#pool.queryOn(this.instance, this.key).catch(() => undefined);
  }

  /** Ends the session once (later calls get the same result); never rejects. */
  delete(): Promise<MediaTotals | undefined> {
    this.#deleted ??= this.#pool.deleteOn(this.instance, this.key, this.#toTag).catch(() => undefined);
    return this.#deleted;
  }

  /**
   * Ends a session opened for a call that is already gone (its attempt given up while rtpengine made the offer):
   * deleted at once, without figures, and counted with the sessions no call uses. Later deletes do nothing.
   */
  discard(): void {
    if (this.#deleted) return;
    this.#deleted = Promise.resolve(undefined);
    this.#pool.discardOn(this.instance, this.key);
  }

  #tags(from: CallSide): { callId: string; fromTag: string; toTag: string } {
    const a = this.key.fromTag;
    const b = this.#toTag ?? '';
    return { callId: this.key.callId, fromTag: from === 'A' ? a : b, toTag: from === 'A' ? b : a };
  }
}
