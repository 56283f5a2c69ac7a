/**
 * RFC 4028 session-timer terms: the header fields read and written, and the interval each side of a leg agrees on.
 * The timers that run on those terms are in session-timer.ts.
 * https://www.rfc-editor.org/rfc/rfc4028
 */
import type { SessionTimerPolicy } from './policy-types.js';

/** A parsed Session-Expires value: `delta-seconds [;refresher=uac|uas]` (RFC 4028 §4). */
export interface SessionExpires {
  seconds: number;
  refresher?: 'uac' | 'uas';
}

export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})\s*((?:;[^;]*)*)$/.exec(value);
  if (!m) return undefined;
  const seconds = Number(m[1]);
  if (!Number.isSafeInteger(seconds) || seconds < 1) return undefined;
  const r = /;\s*refresher\s*=\s*(uac|uas)\s*(?:;|$)/i.exec(m[2] ?? '');
  return { seconds, ...(r ? { refresher: r[1]!.toLowerCase() as 'uac' | 'uas' } : {}) };
}

/** `Min-SE: delta-seconds` (RFC 4028 §5), or undefined. */
export function parseMinSe(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^\s*(\d{1,10})\s*(?:;.*)?$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** Whether an option tag list (Supported, Require) names `timer`. */
export function hasTimerTag(value: string | undefined): boolean {
  return value !== undefined && value.split(',').some((t) => t.trim().toLowerCase() === 'timer');
}

export interface HeaderSource {
  get(name: string): string | undefined;
}

export const header = (m: HeaderSource, long: string, compact: string) => m.get(long) ?? m.get(compact);

/** The longest session interval taken from a far end: the maximum the config schema allows (CallsSchema). */
export const MAX_SESSION_SECONDS = 86_400;

/** RFC 4028 §4: a request without Min-SE allows any interval down to 90 s. */
export const DEFAULT_MIN_SE = 90;

/** An interval a far end named, held to [min, MAX_SESSION_SECONDS]. */
export function boundSeconds(seconds: number, min: number): number {
  const floor = Math.min(Math.max(min, 1), MAX_SESSION_SECONDS);
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, floor), MAX_SESSION_SECONDS) : MAX_SESSION_SECONDS;
}

/** The A leg's (UAS side) answer to an INVITE: refuse with 422, or the interval and who refreshes. */
export type UasSessionDecision =
  | { ok: false; minSe: number }
  | { ok: true; seconds: number; refresher: 'uac' | 'uas'; uacSupportsTimer: boolean };

/**
 * RFC 4028 §9: a Session-Expires below our Min-SE from a UAC that supports the extension gets 422 with our
 * Min-SE; otherwise the interval is ours or the UAC's, whichever is shorter, never below the request's Min-SE.
 * The request's Min-SE counts only up to MAX_SESSION_SECONDS, so no caller sets an interval past it.
 * The UAC's refresher choice is kept; with none, a UAC that supports timers refreshes, else we do.
 * https://www.rfc-editor.org/rfc/rfc4028#section-9
 */
export function decideUas(req: HeaderSource, policy: SessionTimerPolicy): UasSessionDecision {
  const se = parseSessionExpires(header(req, 'Session-Expires', 'x'));
  const reqMinSe = parseMinSe(req.get('Min-SE')) ?? 0;
  const uacSupportsTimer = hasTimerTag(header(req, 'Supported', 'k')) || hasTimerTag(req.get('Require'));
  if (se && se.seconds < policy.minSeSeconds && uacSupportsTimer) return { ok: false, minSe: policy.minSeSeconds };
  const asked = se ? Math.max(se.seconds, policy.minSeSeconds) : policy.expiresSeconds;
  const seconds = boundSeconds(Math.max(Math.min(asked, policy.expiresSeconds), reqMinSe), policy.minSeSeconds);
  const refresher = se?.refresher ?? (uacSupportsTimer ? 'uac' : 'uas');
  return { ok: true, seconds, refresher: uacSupportsTimer ? refresher : 'uas', uacSupportsTimer };
}

/** Headers of our 2xx to the A leg for a decision (§9: Require: timer when the UAC supports it). */
export function uasResponseHeaders(d: Extract<UasSessionDecision, { ok: true }>): Record<string, string> {
  return {
    'Session-Expires': `${d.seconds};refresher=${d.refresher}`,
    ...(d.uacSupportsTimer ? { Require: 'timer' } : {}),
  };
}

/**
 * Headers of our INVITE on the B leg (§7.1): we support timers and ask for the configured interval. Retried after a
 * 422, it asks for `retried` (the 422's Min-SE, raised to ours) and carries it as its Min-SE, the largest seen (§7.4:
 * "The value of the Min-SE header field present in a session refresh request MUST be the largest value among all
 * Min-SE header field values returned in all 422 responses or received in session refresh requests, on the same
 * dialog"; the initial INVITE is a session refresh request too).
 * https://www.rfc-editor.org/rfc/rfc4028#section-7.4
 */
export function uacRequestHeaders(policy: SessionTimerPolicy, retried?: number): Record<string, string> {
  const seconds = Math.min(retried ?? policy.expiresSeconds, MAX_SESSION_SECONDS);
  const minSe = Math.max(policy.minSeSeconds, retried ?? 0);
  return { 'Session-Expires': String(seconds), 'Min-SE': String(Math.min(minSe, seconds)), Supported: 'timer' };
}

/**
 * The B leg's 2xx (§7.2): its Session-Expires says the interval and who refreshes. Without one the far end
 * does not take part; we refresh it ourselves at the interval we asked for, so a dead B leg is still found. Its
 * interval is held to [our Min-SE, what we asked]: `asked` is the interval our INVITE carried (the one retried
 * after a 422, else the configured one).
 */
export function decideUac(res: HeaderSource, policy: SessionTimerPolicy, asked = policy.expiresSeconds): { seconds: number; weRefresh: boolean } {
  const se = parseSessionExpires(header(res, 'Session-Expires', 'x'));
  const ceiling = boundSeconds(asked, policy.minSeSeconds);
  if (!se) return { seconds: ceiling, weRefresh: true };
  // §9: "The UAS MUST NOT increase the value of the Session-Expires header field."
  // https://www.rfc-editor.org/rfc/rfc4028#section-9
  if (se.seconds > ceiling) return { seconds: ceiling, weRefresh: se.refresher !== 'uas' };
  return { seconds: boundSeconds(se.seconds, policy.minSeSeconds), weRefresh: se.refresher !== 'uas' };
}
