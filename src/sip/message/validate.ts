import type { SipRequest } from './types.js';
import { getHeader, getHeaderValues } from './headers.js';
import { parseNameAddr } from './name-addr.js';
import { parseUri } from './uri.js';
import { parseVia } from './via.js';

export interface RequestProblem {
  status: number;
  reason: string;
}

const unsupported = (reason: string) => reason.startsWith('unsupported scheme');

/**
 * The checks a UAS makes after a request parsed (RFC 3261 §8.2, RFC 4475 §3.1.2 and §3.3): the status to answer
 * when the request must be refused, or undefined. Unknown URI schemes in From/To/Contact are accepted (RFC 4475
 * §3.3.4); an unknown Request-URI scheme gets 416 (§8.2.2.1).
 */
export function checkRequest(req: SipRequest): RequestProblem | undefined {
  const ruri = parseUri(req.uri);
  if (!ruri.ok) {
    return unsupported(ruri.reason)
      ? { status: 416, reason: 'Unsupported URI Scheme' }
      : { status: 400, reason: `Bad Request-URI: ${ruri.reason}` };
  }
  // RFC 3261 §19.1.5: headers are not allowed in a Request-URI.
  if (Object.keys(ruri.value.headers).length > 0) return { status: 400, reason: 'Bad Request-URI: escaped headers' };
  for (const name of ['from', 'to'] as const) {
    const v = getHeader(req, name);
    const na = v === undefined ? undefined : parseNameAddr(v);
    if (na && !na.ok && !unsupported(na.reason)) return { status: 400, reason: `Bad ${name === 'from' ? 'From' : 'To'}: ${na.reason}` };
  }
  for (const c of getHeaderValues(req, 'contact')) {
    if (c === '*') continue;
    const na = parseNameAddr(c);
    if (!na.ok && !unsupported(na.reason)) return { status: 400, reason: `Bad Contact: ${na.reason}` };
  }
  for (const v of getHeaderValues(req, 'via')) {
    const r = parseVia(v);
    if (!r.ok) return { status: 400, reason: `Bad Via: ${r.reason}` };
  }
  const mf = getHeader(req, 'max-forwards');
  if (mf !== undefined && !/^[0-9]{1,10}$/.test(mf)) return { status: 400, reason: 'Bad Max-Forwards' };
  // RFC 3261 §20.17: SIP-date is always GMT.
  const date = getHeader(req, 'date');
  if (date !== undefined && !/ GMT$/.test(date)) return { status: 400, reason: 'Bad Date: not GMT' };
  return undefined;
}
