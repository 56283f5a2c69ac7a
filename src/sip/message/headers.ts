import type { SipHeader, SipMessage } from './types.js';
import { hasEscape, isToken } from './chars.js';
import { ownString } from './own-string.js';

/** Compact forms (RFC 3261 §7.3.3 and the registrations that followed it). */
export const compactForms: Readonly<Record<string, string>> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from',
  s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', r: 'refer-to', b: 'referred-by',
  x: 'session-expires', u: 'allow-events', a: 'accept-contact', j: 'reject-contact', d: 'request-disposition',
  y: 'identity', n: 'identity-info',
};

/** Display names for generated headers whose capitalisation is not simply word-initial. */
const displayNames: Record<string, string> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', rack: 'RAck', rseq: 'RSeq',
  'mime-version': 'MIME-Version', 'p-asserted-identity': 'P-Asserted-Identity', 'p-preferred-identity': 'P-Preferred-Identity',
  'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match', 'min-se': 'Min-SE',
};

/** Headers whose values are comma-separated lists (RFC 3261 §7.3.1); others are never split. */
const listHeaders = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'content-encoding', 'allow-events', 'path', 'service-route',
  'in-reply-to', 'alert-info', 'call-info', 'error-info', 'reason', 'p-asserted-identity', 'accept-contact',
  'reject-contact', 'request-disposition', 'security-client', 'security-server', 'security-verify',
]);

/** Headers that appear at most once (RFC 3261 §7.3.1: only comma-list headers may repeat). */
export const singleValued: ReadonlySet<string> = new Set([
  'call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type', 'content-disposition',
  'mime-version', 'expires', 'min-expires', 'date', 'rseq', 'rack', 'session-expires', 'min-se', 'refer-to',
  'referred-by', 'event', 'subscription-state', 'reply-to', 'priority', 'retry-after', 'timestamp',
]);

/** One bit per single-valued header (fewer than 32), for a parser's duplicate check. */
const singleBits = new Map<string, number>([...singleValued].map((n, i) => [n, 1 << i]));
if (singleBits.size > 31) throw new Error('single-valued headers exceed the bit mask');

/** A header name as written ('Via', 'v', 'CALL-ID'…), read once: its canonical form, what is wrong with it, its bit. */
export interface HeaderName {
  /** The canonical lower-case long form. */
  readonly name: string;
  /** Why a message with this name is refused, naming it (nameProblem), or undefined when the name is fine. */
  readonly problem: string | undefined;
  /** The header's own bit when it is single-valued (singleValued), else 0. */
  readonly singleBit: number;
}

/**
 * What is wrong with a header name as written, or undefined: not a token (RFC 3261 §25.1 header-name), or holding
 * a %-escape (hasEscape). A token may hold `%`, but drachtio-srf unescape()s every name that does not start with
 * `X-` or `P-` before it files the header: to an app `%58-Trunkgate-Peer` is X-Trunkgate-Peer, which the engine's
 * strip of its own headers (comparing names) never saw, and `Content%2DLength` is a second Content-Length. No
 * header name in use holds an escape, so every name that does is refused, whatever it starts with.
 */
function nameProblem(written: string): string | undefined {
  if (!isToken(written)) return `bad header name '${written.slice(0, 40)}'`;
  // RFC 3261 §20.12: `e` is Content-Encoding, but drachtio-srf files it as Contact-Encoding: to the app the body
  // would carry no encoding. The long form reads the same to both.
  if (written === 'e' || written === 'E') return "compact header name 'e' (Content-Encoding), which drachtio-srf reads as another header";
  // drachtio-srf looks a lower-cased name up in a plain object first: `constructor` or `__proto__` there is not a
  // header name but the object's own property, and the app could not find the header.
  if (written.length >= 7 && Object.prototype.hasOwnProperty.call(Object.prototype, written.toLowerCase())) {
    return `header name '${written.slice(0, 40)}' is a property name to drachtio-srf's tables`;
  }
  return hasEscape(written) ? `header name '${written.slice(0, 40)}' holds a %-escape, which drachtio-srf unescapes` : undefined;
}

/** Names kept as written; past this many a name is read afresh each time, so hostile traffic cannot grow the table. */
export const MAX_HEADER_NAMES = 4096;
/** Longer names are read afresh each time: the table holds at most MAX_HEADER_NAMES names of this many characters. */
export const MAX_KEPT_NAME_LENGTH = 64;
const headerNames = new Map<string, HeaderName>();

/**
 * What a header name as written stands for (HeaderName); each name is read once, up to MAX_HEADER_NAMES names of
 * up to MAX_KEPT_NAME_LENGTH characters that are not refused. A name is cut from the text of its message's whole
 * header block, and a kept cut would keep that block alive for good (own-string.ts): the table keeps copies.
 */
export function headerNameOf(written: string): HeaderName {
  const known = headerNames.get(written);
  if (known !== undefined) return known;
  const problem = nameProblem(written);
  const keep = problem === undefined && headerNames.size < MAX_HEADER_NAMES && written.length <= MAX_KEPT_NAME_LENGTH;
  // The key and the canonical name both copies: a name already in lower case is its own lower case.
  const own = keep ? ownString(written) : written;
  const lower = own.toLowerCase();
  const name = lower.length === 1 ? (compactForms[lower] ?? lower) : lower;
  const entry: HeaderName = { name, problem, singleBit: singleBits.get(name) ?? 0 };
  if (keep) headerNames.set(own, entry);
  return entry;
}

/** How many names headerNameOf keeps (at most MAX_HEADER_NAMES). */
export function headerNamesKept(): number {
  return headerNames.size;
}

/** The canonical lower-case long form of a header name. */
export function canonicalName(name: string): string {
  return headerNameOf(name).name;
}

/** The display form used when the engine generates a header: 'Call-ID', 'CSeq', 'Max-Forwards', 'X-Foo'. */
export function displayName(canonical: string): string {
  const d = displayNames[canonical];
  if (d !== undefined) return d;
  return canonical.replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

/**
 * Header names the SIP RFCs define (RFC 3261 §20 and the common extensions). An app's header of one of these
 * names goes out in its usual spelling whatever case or compact form the app wrote ('reason' → 'Reason',
 * 'v' → 'Via'), as drachtio-server's stack prints them; a peer that matches names case-sensitively (sipp's
 * header checks) still finds them. Other names keep the app's spelling.
 */
const standardHeaders = new Set([
  'accept', 'accept-contact', 'accept-encoding', 'accept-language', 'alert-info', 'allow', 'allow-events',
  'authentication-info', 'authorization', 'call-id', 'call-info', 'contact', 'content-disposition',
  'content-encoding', 'content-language', 'content-length', 'content-type', 'cseq', 'date', 'error-info', 'event',
  'expires', 'from', 'history-info', 'identity', 'in-reply-to', 'max-forwards', 'min-expires', 'min-se',
  'mime-version', 'organization', 'p-asserted-identity', 'p-preferred-identity', 'path', 'priority', 'privacy',
  'proxy-authenticate', 'proxy-authorization', 'proxy-require', 'rack', 'reason', 'record-route', 'refer-to',
  'referred-by', 'replaces', 'reply-to', 'require', 'retry-after', 'route', 'rseq', 'server', 'service-route',
  'session-expires', 'sip-etag', 'sip-if-match', 'subject', 'subscription-state', 'supported', 'timestamp', 'to',
  'unsupported', 'user-agent', 'via', 'warning', 'www-authenticate',
]);

/** The usual spelling of each standard name, worked out once (every header of every app message asks). */
const standardSpelling = new Map([...standardHeaders].map((n) => [n, displayName(n)]));

/** How a header an app wrote is spelled on the wire: the usual spelling of a standard name, else as written. */
export function wireName(canonical: string, written: string): string {
  return standardSpelling.get(canonical) ?? written;
}

export function isListHeader(canonical: string): boolean {
  return listHeaders.has(canonical);
}

/** The header lines of one name, in order, as they are (for copying into another message). */
export function headersNamed(msg: SipMessage, name: string): SipHeader[] {
  const n = canonicalName(name);
  return msg.headers.filter((h) => h.name === n);
}

/** First value of a header, or undefined. */
export function getHeader(msg: SipMessage, name: string): string | undefined {
  const n = canonicalName(name);
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) if (hs[i]!.name === n) return hs[i]!.value;
  return undefined;
}

/** Every value of a header, with list headers split at commas outside quotes and angle brackets. */
export function getHeaderValues(msg: SipMessage, name: string): string[] {
  const n = canonicalName(name);
  const out: string[] = [];
  const split = listHeaders.has(n);
  for (const h of msg.headers) {
    if (h.name !== n) continue;
    if (split) for (const v of splitList(h.value)) out.push(v);
    else out.push(h.value);
  }
  return out;
}

/** Splits a comma-separated header value, respecting quoted strings and <...>; empty elements are dropped. */
export function splitList(value: string): string[] {
  return split(value, false);
}

/** As splitList, but an empty element (`a,,b`, a trailing comma) is kept as '' so a caller can refuse it. */
export function splitListKeepingEmpty(value: string): string[] {
  return split(value, true);
}

function split(value: string, keepEmpty: boolean): string[] {
  if (value.indexOf(',') < 0) return value.length > 0 || keepEmpty ? [value] : [];
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const end = listElementEnd(value, start);
    const part = value.slice(start, end).trim();
    if (part.length > 0 || keepEmpty) out.push(part);
    if (end === value.length) return out;
    start = end + 1;
  }
}

/**
 * Where the list element that starts at `from` ends: the index of the next comma outside quoted strings and
 * <...>, or the value's length.
 */
export function listElementEnd(value: string, from = 0): number {
  const end = scanList(value, from, true);
  return end < 0 ? value.length : end;
}

/** `<` or `"` when the value ends inside <...> or a quoted string (RFC 3261 §25.1 name-addr closes both). */
export function leftOpen(value: string): '<' | '"' | undefined {
  const end = scanList(value, 0, false);
  return end === OPEN_QUOTE ? '"' : end === OPEN_ANGLE ? '<' : undefined;
}

const OPEN_ANGLE = -1;
const OPEN_QUOTE = -2;

/**
 * Reads a list value from `from`, past quoted strings and <...>: the index of the first comma outside both (when
 * `atComma`), else at the end the value's length, or OPEN_QUOTE / OPEN_ANGLE when one was left open.
 */
function scanList(value: string, from: number, atComma: boolean): number {
  let depth = 0;
  let quoted = false;
  for (let i = from; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (quoted) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) quoted = false;
    } else if (ch === 34) quoted = true;
    else if (ch === 60 /* < */) depth++;
    else if (ch === 62 /* > */ && depth > 0) depth--;
    else if (ch === 44 /* , */ && depth === 0 && atComma) return i;
  }
  return quoted ? OPEN_QUOTE : depth > 0 ? OPEN_ANGLE : value.length;
}

/**
 * A header to add to a message: the name as given, or its display form when given in lower case or compact
 * form (header('call-id', v) is `Call-ID: v`; header('X-Foo', v) stays `X-Foo`).
 */
export function header(name: string, value: string): SipHeader {
  const n = canonicalName(name);
  return { name: n, raw: name.length === 1 || name === n ? displayName(n) : name, value };
}

/** Replaces every occurrence of a header with one value (or appends it when absent). */
export function setHeader(msg: SipMessage, name: string, value: string): void {
  const h = header(name, value);
  const idx = msg.headers.findIndex((x) => x.name === h.name);
  removeHeader(msg, h.name);
  if (idx < 0) msg.headers.push(h);
  else msg.headers.splice(Math.min(idx, msg.headers.length), 0, h);
}

export function appendHeader(msg: SipMessage, name: string, value: string): void {
  msg.headers.push(header(name, value));
}

/** Inserts a header before the first header of the same name, or at the top when there is none. */
export function prependHeader(msg: SipMessage, name: string, value: string): void {
  const h = header(name, value);
  const idx = msg.headers.findIndex((x) => x.name === h.name);
  msg.headers.splice(idx < 0 ? 0 : idx, 0, h);
}

/** Removes every occurrence of a header; returns how many were removed. */
export function removeHeader(msg: SipMessage, name: string): number {
  const n = canonicalName(name);
  const before = msg.headers.length;
  msg.headers = msg.headers.filter((h) => h.name !== n);
  return before - msg.headers.length;
}
