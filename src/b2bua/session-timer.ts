import type { Clock, TimerHandle } from '../common/index.js';
import { sipErrorStatus } from './sip-error.js';
import { sendReinvite, type InviteLeg } from './leg-reinvite.js';
import { boundSeconds, DEFAULT_MIN_SE, MAX_SESSION_SECONDS, parseMinSe, parseSessionExpires, type SessionExpires } from './session-timer-terms.js';

export * from './session-timer-terms.js';

/**
 * RFC 4028 session timers, one per leg of a connected call. Whoever is the refresher sends a re-INVITE or
 * UPDATE at half the interval; the session ends when no refresh succeeded in time.
 * https://www.rfc-editor.org/rfc/rfc4028
 */

/** What a leg timer needs of a drachtio-srf Dialog: UPDATE by its promise, a re-INVITE through leg-reinvite.ts. */
export interface RefreshLeg extends InviteLeg {
  request(opts: { method: string; headers?: Record<string, string> }): Promise<{ status: number; get(name: string): string | undefined }>;
  request(opts: { method: string; headers?: Record<string, string>; body?: string }, callback: Parameters<InviteLeg['request']>[1]): unknown;
}

/**
 * RFC 3261 §14.1: after a 491 the re-INVITE is tried again "with a randomly chosen value between 2.1 and 4 seconds"
 * by the owner of the Call-ID (the gateway on the B leg), "between 0 and 2 seconds" by the other side (the A leg's
 * caller owns it); a fixed value in each range, and a bounded number of tries before the expiry decides.
 * https://www.rfc-editor.org/rfc/rfc3261#section-14.1
 */
const PENDING_RETRY_MS = { A: 1_000, B: 3_000 } as const;
const RETRIES = 5;
/** A refresh refused for another reason without a Retry-After (a busy 503, a 500) is tried again after this. */
const FAILED_RETRY_MS = 5_000;
/**
 * RFC 3311 §5.2: an UPDATE that meets an offer in progress gets "a 500 response with a Retry-After header field with
 * a randomly chosen value between 0 and 10 seconds"; a Retry-After is followed up to that bound, no further, so a
 * far end asking for an hour cannot outwait the session.
 * https://www.rfc-editor.org/rfc/rfc3311#section-5.2
 */
const MAX_RETRY_AFTER_S = 10;

function retryDelayMs(status: number, retryAfter: string | undefined, name: 'A' | 'B'): number {
  const s = retryAfter === undefined ? null : /^\s*(\d{1,10})/.exec(retryAfter);
  if (s) return Math.min(Number(s[1]), MAX_RETRY_AFTER_S) * 1000;
  return status === 491 ? PENDING_RETRY_MS[name] : FAILED_RETRY_MS;
}

/** The longest delay setTimeout keeps (2^31 - 1 ms); past it Node fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LegTimerOptions {
  leg: RefreshLeg;
  name: 'A' | 'B';
  /** The interval; held to [1, MAX_SESSION_SECONDS]. */
  seconds: number;
  weRefresh: boolean;
  /**
   * The shortest interval the 2xx to our refresh may grant (our Min-SE). Absent: RFC 4028's 90 s, or the interval
   * itself when that is shorter.
   */
  minSeSeconds?: number;
  /** The largest Min-SE the far end named so far (its INVITE, or its 422 to ours); our refreshes carry it on. */
  peerMinSeSeconds?: number | undefined;
  /** UPDATE when the peer allows it (RFC 4028 §7.4 prefers it: no SDP), else re-INVITE. */
  method: 'UPDATE' | 'INVITE';
  clock: Clock;
  /** No refresh succeeded before the session expired. */
  onExpired(name: 'A' | 'B', seconds: number): void;
  /** Our refresh got 408 or 481, or could not be sent (§10: the session is over). */
  onRefreshFailed(name: 'A' | 'B', status: number): void;
}

/**
 * The session timer of one leg. `renegotiate()` when a refresh of the leg was answered 2xx (session-timer-refresh.ts);
 * `stop()` when the call ends.
 */
export class LegSessionTimer {
  readonly #o: LegTimerOptions;
  #seconds: number;
  readonly #minSe: number;
  #peerMinSe: number;
  #refresh: TimerHandle | undefined;
  #expiry: TimerHandle | undefined;
  #stopped = false;
  /** UPDATEs relayed to this leg and not yet answered, and whether a refresh of ours fell due meanwhile. */
  #relayed = 0;
  #due = false;
  /** How many times the timers were armed: a refresh whose answer finds another number was overtaken. */
  #armed = 0;

  constructor(o: LegTimerOptions) {
    this.#o = o;
    this.#seconds = boundSeconds(o.seconds, 1);
    this.#minSe = o.minSeSeconds ?? Math.min(DEFAULT_MIN_SE, this.#seconds);
    this.#peerMinSe = 0;
    this.notePeerMinSe(o.peerMinSeSeconds);
    this.#arm();
  }

  get seconds(): number {
    return this.#seconds;
  }

  /** Whether the gateway refreshes this leg's session (else its far end does). */
  get weRefresh(): boolean {
    return this.#o.weRefresh;
  }

  /**
   * The leg's session was refreshed on new terms (session-timer-refresh.ts: our 2xx to its far end's refresh, or its
   * 2xx to a request relayed to it): the interval, held to [1, MAX_SESSION_SECONDS], and who refreshes from now on.
   */
  renegotiate(seconds: number, weRefresh: boolean): void {
    this.#seconds = boundSeconds(seconds, 1);
    this.#o.weRefresh = weRefresh;
    this.touch();
  }

  /**
   * An UPDATE is relayed to this leg (pass-through.ts) until the function returned is called. An UPDATE refresh of
   * ours does not overlap it (RFC 3311 §5.2 answers one that does with 500): one that falls due waits, and is sent
   * when the relayed UPDATE failed; its 2xx refreshed the session instead (`renegotiate`).
   * https://www.rfc-editor.org/rfc/rfc3311#section-5.2
   */
  relaying(): () => void {
    this.#relayed++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#relayed--;
      if (this.#relayed === 0 && this.#due && !this.#stopped) {
        this.#due = false;
        void this.#sendRefresh();
      }
    };
  }

  /**
   * The interval a request relayed to this leg asks for: the agreed one, raised to the largest Min-SE the far end
   * named since (a 422 to a relayed request); its 2xx then sets the leg's terms (session-timer-refresh.ts).
   */
  get askSeconds(): number {
    return Math.min(Math.max(this.#seconds, this.#peerMinSe), MAX_SESSION_SECONDS);
  }

  /** The Min-SE such a request carries: ours or the far end's, whichever is larger, within the interval asked. */
  get askMinSe(): number {
    return Math.min(Math.max(this.#minSe, this.#peerMinSe), this.askSeconds);
  }

  /** A Min-SE the far end named (in a session refresh request or a 422): the largest is kept. */
  notePeerMinSe(seconds: number | undefined): void {
    if (seconds !== undefined && Number.isFinite(seconds)) this.#peerMinSe = Math.max(this.#peerMinSe, Math.min(seconds, MAX_SESSION_SECONDS));
  }

  /**
   * The Min-SE our requests on this leg carry. §7.4: "The value of the Min-SE header field present in a session
   * refresh request MUST be the largest value among all Min-SE header field values returned in all 422 responses or
   * received in session refresh requests, on the same dialog"; ours counts too, and none exceeds the interval.
   * https://www.rfc-editor.org/rfc/rfc4028#section-7.4
   */
  get minSe(): number {
    return Math.min(Math.max(this.#minSe, this.#peerMinSe), this.#seconds);
  }

  /** The session was refreshed on the terms it had. */
  touch(): void {
    if (!this.#stopped) this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    this.#refresh?.cancel();
    this.#expiry?.cancel();
  }

  #arm(): void {
    this.#armed++;
    this.#due = false;
    this.#refresh?.cancel();
    this.#expiry?.cancel();
    const { clock } = this.#o;
    const ms = Math.min(this.#seconds * 1000, MAX_TIMER_MS);
    if (this.#o.weRefresh) {
      // §7.4 / §10: the refresher sends its refresh at half the interval.
      this.#refresh = clock.setTimeout(() => void this.#sendRefresh(), ms / 2);
      this.#expiry = clock.setTimeout(() => this.#expire(), ms);
    } else {
      // §10: "the side not performing refreshes [sends] a BYE ... one third the session interval or 32 seconds,
      // whichever is less, before the session expiration".
      this.#expiry = clock.setTimeout(() => this.#expire(), ms - Math.min(32_000, ms / 3));
    }
  }

  #expire(): void {
    if (this.#stopped) return;
    this.stop();
    this.#o.onExpired(this.#o.name, this.#seconds);
  }

  async #sendRefresh(retried = false, tries = 0): Promise<void> {
    if (this.#stopped) return;
    if (this.#o.method === 'UPDATE' && this.#relayed > 0) {
      this.#due = true;
      return;
    }
    const { leg } = this.#o;
    const headers = { 'Session-Expires': `${this.#seconds};refresher=uac`, 'Min-SE': String(this.minSe), Supported: 'timer' };
    let status: number;
    let minSe: number | undefined;
    let granted: SessionExpires | undefined;
    let retryAfter: string | undefined;
    let notSent = false;
    // The terms this refresh was sent on: a refresh of the far end's, or a relayed request's 2xx, renegotiated while
    // it was out makes its answer, whatever it is, old news.
    const armed = this.#armed;
    try {
      if (this.#o.method === 'UPDATE') {
        const res = await leg.request({ method: 'UPDATE', headers });
        status = res.status;
        minSe = parseMinSe(res.get('Min-SE'));
        granted = parseSessionExpires(res.get('Session-Expires'));
        retryAfter = res.get('Retry-After');
      } else {
        // The SDP this leg was last sent and accepted, unchanged, so with the same o= version (RFC 3264 §8; kept
        // up to date by relay-reinvite.ts and leg-reinvite.ts).
        const res = await sendReinvite(leg, leg.local?.sdp ?? '', headers);
        status = res.status;
        minSe = parseMinSe(res.res?.get('Min-SE'));
        granted = parseSessionExpires(res.res?.get('Session-Expires'));
        retryAfter = res.res?.get('Retry-After');
      }
    } catch (err) {
      const known = sipErrorStatus(err);
      notSent = known === undefined;
      status = known ?? 503;
    }
    if (this.#stopped || this.#armed !== armed) return;
    if (status >= 200 && status < 300) {
      // §9: the answer may shorten the interval asked for, never below Min-SE.
      if (granted) this.#seconds = Math.min(boundSeconds(granted.seconds, this.#minSe), Math.max(this.#seconds, this.#minSe));
      // §7.2: the 2xx names who refreshes from now on: refresher=uas the far end, else (uac, or no timer there) us.
      this.#o.weRefresh = granted?.refresher !== 'uas';
      this.#arm();
      return;
    }
    // §10: "If the session refresh request transaction times out or generates a 408 or 481 response, then the
    // UAC sends a BYE request." A refresh that could not be sent at all is the same loss.
    if (status === 408 || status === 481 || notSent) {
      this.stop();
      this.#o.onRefreshFailed(this.#o.name, status);
      return;
    }
    // §7.4 / §10: a 422 carries the Min-SE to retry with; a second 422, or one without Min-SE, leaves the session
    // to its expiry.
    if (status === 422) {
      if (minSe !== undefined && !retried) {
        this.notePeerMinSe(minSe);
        this.#seconds = boundSeconds(Math.max(this.#seconds, minSe), 1);
        await this.#sendRefresh(true, tries);
      }
      return;
    }
    // RFC 3261 §8.2.1: "If the UAS recognizes but does not support the method of a request, it MUST generate a 405
    // (Method Not Allowed) response" (501 when it does not know UPDATE at all): this refresh goes as a re-INVITE at
    // once, and every later one too.
    // https://www.rfc-editor.org/rfc/rfc3261#section-8.2.1
    if (this.#o.method === 'UPDATE' && (status === 405 || status === 501)) {
      this.#o.method = 'INVITE';
      await this.#sendRefresh(retried, tries);
      return;
    }
    // Anything else (491 on glare, a 500 with Retry-After, a busy 503) is tried again after the delay it names or a
    // fixed one, a bounded number of times; the expiry decides after that.
    if (tries < RETRIES) {
      this.#refresh = this.#o.clock.setTimeout(() => void this.#sendRefresh(retried, tries + 1), retryDelayMs(status, retryAfter, this.#o.name));
    }
  }
}
