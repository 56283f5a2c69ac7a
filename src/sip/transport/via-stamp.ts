import type { SipHeader } from '../message/types.js';
import { normalizeAddress } from './address.js';

const HEADER_START = /^\s*SIP\s*\/\s*[^/\s]+\s*\/\s*\S+\s+/i;
const MAY_NEED_EDIT = /rport|received/i;

/**
 * Stamps the top Via of a received request with where it really came from, by editing the header value.
 * Returns false when there is no usable top Via (the request cannot be answered).
 *
 * "When the server transport receives a request over any transport, it MUST examine the value of the
 * "sent-by" parameter in the top Via header field value. If the host portion of the "sent-by" field contains
 * a domain name, or if it contains an IP address that differs from the packet source address, the server
 * MUST add a "received" parameter to that Via header field value."
 * https://www.rfc-editor.org/rfc/rfc3261#section-18.2.1
 *
 * "If this Via header field value contains an "rport" parameter with no value, it MUST set the value of the
 * parameter to the source port of the request. ... the server MUST insert a "received" parameter containing
 * the source IP address that the request came from, even if it is identical to the value of the "sent-by"
 * component."
 * https://www.rfc-editor.org/rfc/rfc3581#section-4
 */
export function stampTopVia(headers: SipHeader[], sourceAddress: string, sourcePort: number): boolean {
  let h: SipHeader | undefined;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]!.name === 'via') {
      h = headers[i];
      break;
    }
  }
  if (!h) return false;
  const value = h.value;
  const end = elementEnd(value);
  const element = value.slice(0, end);
  const m = HEADER_START.exec(element);
  if (!m) return false;
  const semi = element.indexOf(';', m[0].length);
  const sentBy = (semi < 0 ? element.slice(m[0].length) : element.slice(m[0].length, semi)).trim();
  const host = sentByHost(sentBy);
  if (host.length === 0) return false;
  const hostDiffers = normalizeAddress(host) !== sourceAddress;
  if (!hostDiffers && !MAY_NEED_EDIT.test(element)) return true;

  const params = semi < 0 ? [] : splitParams(element.slice(semi + 1));
  let rportEmpty = false;
  let receivedAt = -1;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (name === 'rport' && (eq < 0 || p.slice(eq + 1).trim() === '')) {
      rportEmpty = true;
      params[i] = `rport=${sourcePort}`;
    } else if (name === 'received') {
      receivedAt = i;
    }
  }
  // An existing received parameter is always rewritten with the truth; a client does not get to choose it.
  if (hostDiffers || rportEmpty || receivedAt >= 0) {
    const received = `received=${sourceAddress}`;
    if (receivedAt >= 0) params[receivedAt] = received;
    else params.push(received);
  } else {
    return true;
  }
  const head = (semi < 0 ? element : element.slice(0, semi)).trimEnd();
  h.value = `${head};${params.join(';')}${value.slice(end)}`;
  return true;
}

/** Host part of a sent-by ('host', 'host:port', '[v6]', '[v6]:port'). */
function sentByHost(sentBy: string): string {
  if (sentBy.startsWith('[')) {
    const close = sentBy.indexOf(']');
    return close < 0 ? '' : sentBy.slice(0, close + 1);
  }
  const colon = sentBy.indexOf(':');
  return colon < 0 ? sentBy : sentBy.slice(0, colon);
}

/** End of the first comma-separated Via value, outside quoted strings. */
function elementEnd(v: string): number {
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x5c && quoted) i++;
    else if (c === 0x2c && !quoted) return i;
  }
  return v.length;
}

function splitParams(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x5c && quoted) i++;
    else if (c === 0x3b && !quoted) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out.filter((p) => p.length > 0);
}
