import type { SipHeader, SipRequest } from '../../sip/message/types.js';
import type { Refusal } from './reject.js';
import { getHeader, header, splitList, uriTextOf } from '../../sip/message/index.js';

/** The Max-Forwards a request gets when it has none (https://www.rfc-editor.org/rfc/rfc3261#section-16.6 step 3). */
export const DEFAULT_MAX_FORWARDS = 70;

export const TOO_MANY_HOPS: Refusal = { status: 483, phrase: 'Too Many Hops', text: 'Max-Forwards reached 0' };

/** The request's Max-Forwards as a number; undefined when absent or not a number (then it counts as absent). */
export function maxForwardsOf(request: SipRequest): number | undefined {
  const v = getHeader(request, 'max-forwards')?.trim();
  return v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : undefined;
}

export interface ForwardSpec {
  /** The copy's Request-URI (step 2); the request's own when absent (loose routing inside a dialog). */
  uri?: string;
  /** Whether a Route URI names this engine: our entries at the top of the Route set are removed (§16.4). */
  isOurs(uri: string): boolean;
  /**
   * Keep the Route entries left after ours (an in-dialog request follows its route set), or drop them all (a new
   * request goes where the app said, never where a Route from the network points).
   */
  keepRoutes: boolean;
  /** The most Max-Forwards the copy may carry, whatever the request came with (none: its value less one). */
  maxForwardsAtMost?: number;
  /** Headers that replace those of the same name (an app's extra headers for a request it proxies). */
  extra?: readonly SipHeader[];
}

export type ForwardResult = { ok: true; request: SipRequest } | { ok: false; refusal: Refusal };

/**
 * The one implementation of RFC 3261 §16.3 step 2 and §16.6 steps 1-3 and 5 for every proxy path: the copy of a
 * request as it is forwarded, or the 483 it gets instead. Via (step 8) and Record-Route (step 4) depend on the
 * transport chosen and are added by `stampHop` once the target is known.
 */
export function forwardCopy(request: SipRequest, spec: ForwardSpec): ForwardResult {
  const mf = maxForwardsOf(request);
  // "If the request contains a Max-Forwards header field with a field value of zero (0), the element MUST NOT
  // forward the request. [...] the element MUST return a 483 (Too many hops) response."
  // https://www.rfc-editor.org/rfc/rfc3261#section-16.3
  if (mf === 0) return { ok: false, refusal: TOO_MANY_HOPS };
  let routes: string[] = [];
  if (spec.keepRoutes) {
    for (const h of request.headers) if (h.name === 'route') routes.push(...splitList(h.value));
    // "If the first value in the Route header field indicates this proxy, the proxy MUST remove that value"
    // https://www.rfc-editor.org/rfc/rfc3261#section-16.4
    let ours = 0;
    while (ours < routes.length && spec.isOurs(uriTextOf(routes[ours]!))) ours++;
    routes = routes.slice(ours);
  }
  const replaced = new Set((spec.extra ?? []).map((h) => h.name));
  const headers: SipHeader[] = [];
  let routeDone = false;
  let mfDone = false;
  for (const h of request.headers) {
    if (h.name === 'route') {
      if (!routeDone) for (const r of routes) headers.push(header('Route', r));
      routeDone = true;
      continue;
    }
    if (h.name === 'max-forwards') {
      if (mfDone) continue;
      mfDone = true;
      // "If the copy contains a Max-Forwards header field, the proxy MUST decrement its value by one (1). If the
      // copy does not contain a Max-Forwards header field, the proxy MUST add one with a field value, which
      // SHOULD be 70." (§16.6 step 3) An unreadable value counts as none.
      const next = mf === undefined ? DEFAULT_MAX_FORWARDS : mf - 1;
      headers.push(header('Max-Forwards', String(spec.maxForwardsAtMost === undefined ? next : Math.min(next, spec.maxForwardsAtMost))));
      continue;
    }
    if (replaced.has(h.name)) continue;
    headers.push(h);
  }
  if (!mfDone) headers.push(header('Max-Forwards', String(DEFAULT_MAX_FORWARDS)));
  for (const h of spec.extra ?? []) headers.push(h);
  // "The proxy MUST place the URI into the Request-URI of the copy." (§16.6 step 2)
  return { ok: true, request: { ...request, uri: spec.uri ?? request.uri, headers } };
}

/** Our Via on top (§16.6 step 8) and, when we stay in the dialog, our Record-Route (step 4). In place. */
export function stampHop(request: SipRequest, via: string, recordRoute?: string): void {
  if (recordRoute !== undefined) request.headers.unshift(header('Record-Route', recordRoute));
  request.headers.unshift(header('Via', via));
}
