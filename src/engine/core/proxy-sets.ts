import type { SipRequest, SipResponse } from '../../sip/message/types.js';
import { header } from '../../sip/message/index.js';
import { refusalResponse } from './reject.js';

/**
 * Targets one proxy run tries at most, the app's destinations and the Contacts of redirects together: a target that
 * redirects to ever new URIs cannot make a run fork without end.
 */
export const MAX_PROXY_TARGETS = 16;

/**
 * Adds URIs to a run's target set and to its queue of targets to try: "A proxy MUST NOT add to the target set a URI
 * that has already been in the target set" (https://www.rfc-editor.org/rfc/rfc3261#section-16.5), and past
 * MAX_PROXY_TARGETS none is added. Returns how many were refused so (the run's host counts and logs them).
 */
export function addTargets(targets: Set<string>, queue: string[], uris: readonly string[]): number {
  let refused = 0;
  for (const uri of uris) {
    if (uri.length === 0 || targets.has(uri)) continue;
    if (targets.size >= MAX_PROXY_TARGETS) {
      refused++;
      continue;
    }
    targets.add(uri);
    queue.push(uri);
  }
  return refused;
}

/**
 * The better of the best final response so far and a new one: "choose the lowest response class", a 6xx ahead of
 * everything (https://www.rfc-editor.org/rfc/rfc3261#section-16.7 step 6).
 */
export function betterResponse(best: SipResponse | undefined, res: SipResponse): SipResponse {
  if (!best) return res;
  if (best.status >= 600) return best;
  return res.status >= 600 || Math.floor(res.status / 100) < Math.floor(best.status / 100) ? res : best;
}

/**
 * The final response a proxy run sends upstream once every branch is done: the best one, or, with none (no branch
 * got as far as a response), 487 when the caller cancelled the run ("the proxy MUST [...] respond to the CANCEL
 * and the original request will be answered with a 487", https://www.rfc-editor.org/rfc/rfc3261#section-16.10)
 * and 408 otherwise.
 */
export function finalUpstream(request: SipRequest, best: SipResponse | undefined, canceled: boolean, toTag: string): SipResponse {
  if (best === undefined) {
    return refusalResponse(request, canceled
      ? { status: 487, phrase: 'Request Terminated', text: 'cancelled before any destination answered' }
      : { status: 408, phrase: 'Request Timeout' }, toTag);
  }
  if (best.status !== 503) return best;
  // "If the selected response is a 503 (Service Unavailable), the proxy MUST convert it to a 500" (§16.7 step 6)
  return {
    ...best, status: 500, reason: 'Server Internal Error',
    headers: best.headers.map((h) => (h.name === 'reason' && h.value.startsWith('SIP;cause=503;') ? header('Reason', h.value.replace('cause=503', 'cause=500')) : h)),
  };
}
