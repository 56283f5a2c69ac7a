import type { SessionTimerPolicy } from './policy-types.js';
import type { LegSessionTimer } from './session-timer.js';
import { boundSeconds, decideUas, header, parseMinSe, parseSessionExpires, uasResponseHeaders, type HeaderSource } from './session-timer-terms.js';

/**
 * RFC 4028 on the re-INVITEs and UPDATEs a connected call relays (pass-through.ts, relay-reinvite.ts): each one
 * from a leg's far end is a session refresh of that leg, answered on the terms of §9; each one relayed to a leg is a
 * session refresh of ours on that leg (§7.4), whose 2xx sets its terms (§7.2).
 * https://www.rfc-editor.org/rfc/rfc4028
 */

/** A leg's session timer and the policy its far end's refreshes are answered by (connected-call.ts). */
export interface LegSession {
  timer: LegSessionTimer;
  policy: SessionTimerPolicy;
}

/** The answer to a far end's refresh: 422 with our Min-SE, or the headers of our 2xx and what follows once it is sent. */
export type PeerRefresh = { ok: false; minSe: number } | { ok: true; headers: Record<string, string>; answered(): void };

/**
 * §9 as for an initial INVITE (middleware/place-call.ts): a Session-Expires below our Min-SE from a far end that
 * supports timers is refused with 422, any other is answered with the interval held to our bounds and the refresher
 * it named. Only a 2xx refreshes a session (§10), so the leg's timer takes the new terms once our 2xx has gone
 * (`answered`): a refused request refreshes nothing.
 * https://www.rfc-editor.org/rfc/rfc4028#section-9
 */
export function peerRefresh(s: LegSession, req: HeaderSource): PeerRefresh {
  const d = decideUas(req, s.policy);
  if (!d.ok) return d;
  return {
    ok: true,
    headers: uasResponseHeaders(d),
    answered: () => {
      s.timer.notePeerMinSe(parseMinSe(req.get('Min-SE')));
      s.timer.renegotiate(d.seconds, d.refresher === 'uas');
    },
  };
}

/**
 * A request relayed to a leg is a session refresh of ours (§7.4): Supported: timer (§7.1), the leg's Session-Expires
 * and Min-SE as they stand, refresher=uac when the gateway refreshes the leg, uas when its far end does.
 * https://www.rfc-editor.org/rfc/rfc4028#section-7.4
 */
export function relayedRequestHeaders(timer: LegSessionTimer): Record<string, string> {
  return { 'Session-Expires': `${timer.askSeconds};refresher=${timer.weRefresh ? 'uac' : 'uas'}`, 'Min-SE': String(timer.askMinSe), Supported: 'timer' };
}

/**
 * The leg's 2xx to a re-INVITE or UPDATE relayed to it refreshes its session (§10). §7.2: its Session-Expires names
 * the interval (never longer than the one asked, §9) and the refresher. "If the 2xx response did not contain a
 * Session-Expires header field, there is no session expiration. [...] A 2xx without a Session-Expires can come for
 * both initial and subsequent session refresh requests": the far end no longer refreshes, so the gateway refreshes
 * the leg itself from then on, as it does for a B leg that answered the INVITE so (session-timer-terms.ts `decideUac`).
 * https://www.rfc-editor.org/rfc/rfc4028#section-7.2
 */
export function relayedAnswer(timer: LegSessionTimer, res: HeaderSource | undefined): void {
  const se = parseSessionExpires(res ? header(res, 'Session-Expires', 'x') : undefined);
  if (!se) {
    timer.renegotiate(timer.seconds, true);
    return;
  }
  timer.renegotiate(Math.min(boundSeconds(se.seconds, timer.minSe), timer.seconds), se.refresher !== 'uas');
}
