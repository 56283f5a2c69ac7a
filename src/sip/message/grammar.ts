import type { ParseErrorCode, SipHeader } from './types.js';
import { leftOpen, splitListKeepingEmpty } from './headers.js';
import { parseVia } from './via.js';
import { tagParamText } from './name-addr.js';
import { appTag } from './app-reading.js';
import { TOKEN, allIn, charTable, isToken } from './chars.js';

export { isToken };

/**
 * The header grammar the engine enforces before a message reaches an app. An app on drachtio-srf parses what the
 * engine hands it with srf's own regular expressions and throws (leaking the transaction) on what they do not
 * match, and the Call-ID and tags travel inside the control protocol's `|`-separated meta line. So every value
 * is free of control characters, and each header srf parses, or that reaches a meta line, matches its grammar.
 * Plain loops over lookup tables: this runs on every message.
 */

export interface GrammarProblem {
  code: ParseErrorCode;
  reason: string;
}

/** RFC 3261 §25.1 word: token characters and ( ) < > : \ DQUOTE / [ ] ? { }. */
const WORD = charTable("-.!%*_+`'~()<>:\\\"/[]?{}");

/** RFC 3261 §25.1 callid = word [ "@" word ]: no white space, `;`, `|` or control character. */
export function isCallId(s: string): boolean {
  const at = s.indexOf('@');
  if (at < 0) return allIn(s, WORD);
  return allIn(s, WORD, 0, at) && allIn(s, WORD, at + 1);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/;

/**
 * Index of the first character no header value may hold, or -1: C0 controls other than HTAB (so NUL, a bare CR
 * or LF), DEL, C1 controls, and U+2028/U+2029, which JavaScript's `.` treats as line ends. Inside a quoted string
 * a quoted-pair may escape any of them but CR and LF (RFC 3261 §25.1, RFC 4475 §3.1.1.2).
 */
export function badCharIndex(s: string, quotedPairs = true): number {
  // One native scan answers the common case; the quote-aware walk runs only when there is something to judge.
  if (!CONTROL.test(s)) return -1;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 /* " */) quoted = quotedPairs && !quoted;
    else if (c === 92 /* \ */ && quoted && i + 1 < s.length) {
      const e = s.charCodeAt(i + 1);
      if (e !== 13 && e !== 10 && e !== 0x2028 && e !== 0x2029) {
        i++;
        continue;
      }
    }
    if (c < 0x20) {
      if (c !== 9) return i;
    } else if (c >= 0x7f && (c <= 0x9f || c === 0x2028 || c === 0x2029)) return i;
  }
  return -1;
}

/** Request-URI: visible ASCII only (RFC 3986 escapes everything else), so no white space of any alphabet. */
export function isUriText(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

const isSpace = (c: number) => c === 32 || c === 9;

/**
 * `name = value *( "," name = value )`, value a quoted string or a run of visible ASCII other than `,` and `"`:
 * RFC 3261 §25.1 auth-param, as far as drachtio-srf's credential and challenge parsers read it.
 */
function authParams(s: string, start: number): boolean {
  let i = start;
  const n = s.length;
  for (;;) {
    const nameStart = i;
    while (i < n && s.charCodeAt(i) < 128 && TOKEN[s.charCodeAt(i)] === 1) i++;
    if (i === nameStart) return false;
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 61 /* = */) return false;
    i++;
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) === 34 /* " */) {
      i++;
      while (i < n && s.charCodeAt(i) !== 34) i += s.charCodeAt(i) === 92 /* \ */ ? 2 : 1;
      if (i >= n) return false;
      i++;
    } else {
      const valueStart = i;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c <= 0x20 || c >= 0x7f || c === 44 || c === 34) break;
      }
      if (i === valueStart) return false;
    }
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (i === n) return true;
    if (s.charCodeAt(i) !== 44 /* , */) return false;
    i++;
    while (i < n && isSpace(s.charCodeAt(i))) i++;
  }
}

/** RFC 3261 §25.1 credentials / challenge: auth-scheme LWS auth-param *(COMMA auth-param). */
export function isCredentials(s: string): boolean {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) < 128 && TOKEN[s.charCodeAt(i)] === 1) i++;
  if (i === 0 || !isSpace(s.charCodeAt(i))) return false;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return authParams(s, i);
}

/**
 * The tag of a From or To value is a token (RFC 3261 §25.1 tag-param), and the one drachtio-srf reads: the engine
 * keys dialogs and writes the control protocol's meta line by its reading (tagOf), an app's dialog by srf's.
 * Undefined when both agree, on a tag or on none.
 */
function tagProblem(value: string): string | undefined {
  const tag = tagParamText(value);
  if (tag !== undefined && !isToken(tag)) return 'tag is not a token';
  return appTag(value) === null ? 'address is not one drachtio-srf reads' : undefined;
}

/**
 * A request's From or To whose tag drachtio-srf reads otherwise (a second tag, which srf takes, or parameters it
 * stops at before the tag): the app would key the dialog the request makes or names by another tag than the
 * engine. Not applied to responses: an app's dialogs go by the dialog id the engine hands it, and peers answer with
 * a second tag appended to the To they were sent (sipp's `[last_To:];tag=`), which must not cost the call.
 */
export function appTagProblem(value: string): string | undefined {
  return appTag(value) === tagParamText(value) ? undefined : 'tag is not the one drachtio-srf reads';
}

/**
 * A name-addr list as drachtio-srf reads it: no element empty or starting with `;` (its parser throws on both
 * after a comma), no `<` or `"` left open, and none inside <...> (insideAngleProblem). The list is split at commas outside <...> and quoted strings;
 * with one left open that split and drachtio-srf's disagree (`<sip:a@b;x=y ,` is one element here, and to
 * drachtio-srf an address `<sip:a@b` followed by an empty one, on which it throws). The full name-addr grammar
 * is the UAS checks' (validate.ts), on new requests only.
 */
function addressListProblem(value: string): string | undefined {
  const open = unclosed(value) ?? insideAngleProblem(value);
  if (open !== undefined) return open;
  if (value.indexOf(',') < 0) return value.charCodeAt(0) === 59 ? 'element without an address' : undefined;
  for (const p of splitListKeepingEmpty(value)) {
    if (p.length === 0) return 'empty list element';
    if (p.charCodeAt(0) === 59 /* ; */) return 'element without an address';
  }
  return undefined;
}

/** `missing >` or `unclosed quote` when a value ends inside <...> or a quoted string. */
function unclosed(value: string): string | undefined {
  const open = leftOpen(value);
  return open === undefined ? undefined : open === '<' ? 'missing >' : 'unclosed quote';
}

/**
 * A `<` or `"` inside an address's <...> (outside a quoted display name), which no URI holds (RFC 3261 §25.1
 * escapes both). drachtio-srf closes <...> at the first `>` whatever comes before it, where the engine's list split
 * counts nested brackets and steps over quoted strings: `<sip:b@h;x=<y>,;z>` is one Contact to the engine and to
 * srf `<sip:b@h;x=<y>` and then `;z>`, on which it throws when an app's dialog reads the Contact.
 */
function insideAngleProblem(value: string): string | undefined {
  let angle = false;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) quoted = false;
    } else if (angle) {
      if (c === 62 /* > */) angle = false;
      else if (c === 60 /* < */) return '< inside <...>';
      else if (c === 34) return 'quote inside <...>';
    } else if (c === 34) quoted = true;
    else if (c === 60) angle = true;
  }
  return undefined;
}

const SENT_PROTOCOL = /^SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*[A-Za-z0-9.!%*_+`'~-]+[ \t]+[^ \t;:,]/;

/** Whether one Via element starts `SIP/2.0/transport sent-by`, as drachtio-srf's Via expression needs. */
export function isSentProtocol(via: string): boolean {
  return SENT_PROTOCOL.test(via);
}

/** Checks one header value; the problem names the header. */
export function checkHeaderValue(h: SipHeader): GrammarProblem | undefined {
  const v = h.value;
  const bad = badCharIndex(v);
  if (bad >= 0) {
    return {
      code: 'ERR_SIP_PARSE_CONTROL_CHARACTER',
      reason: `${h.raw}: character 0x${v.charCodeAt(bad).toString(16).padStart(2, '0')} in the value`,
    };
  }
  switch (h.name) {
    case 'call-id':
      return isCallId(v) ? undefined : { code: 'ERR_SIP_PARSE_CALL_ID', reason: 'Call-ID is not word[@word]' };
    case 'from':
    case 'to': {
      const code = h.name === 'from' ? 'ERR_SIP_PARSE_FROM' : 'ERR_SIP_PARSE_TO';
      const label = h.name === 'from' ? 'From' : 'To';
      if (v.length === 0 || v.charCodeAt(0) === 59 /* ; */) return { code, reason: `${label} has no address` };
      const open = unclosed(v) ?? insideAngleProblem(v);
      if (open !== undefined) return { code, reason: `${label}: ${open}` };
      const t = tagProblem(v);
      return t === undefined ? undefined : { code, reason: `${label} ${t}` };
    }
    case 'contact':
    case 'route':
    case 'record-route':
    case 'path': {
      if (v === '*' && h.name === 'contact') return undefined;
      if (v.length === 0) return { code: 'ERR_SIP_PARSE_ADDRESS', reason: `${h.raw} is empty` };
      const p = addressListProblem(v);
      return p === undefined ? undefined : { code: 'ERR_SIP_PARSE_ADDRESS', reason: `${h.raw}: ${p}` };
    }
    case 'refer-to':
    case 'referred-by':
    case 'p-asserted-identity':
    case 'remote-party-id': {
      if (v.length === 0 || v.charCodeAt(0) === 59) return { code: 'ERR_SIP_PARSE_ADDRESS', reason: `${h.raw} has no address` };
      const p = insideAngleProblem(v);
      return p === undefined ? undefined : { code: 'ERR_SIP_PARSE_ADDRESS', reason: `${h.raw}: ${p}` };
    }
    case 'via':
      for (const part of splitListKeepingEmpty(v)) {
        if (!SENT_PROTOCOL.test(part)) return { code: 'ERR_SIP_PARSE_VIA', reason: 'Via is not SIP/2.0/transport sent-by' };
      }
      // The whole value too: a quote or comma in a sent-by host makes srf's Via expression stop and read on (fuzz).
      return parseVia(v).ok ? undefined : { code: 'ERR_SIP_PARSE_VIA', reason: 'Via is not SIP/2.0/transport sent-by;params' };
    case 'max-forwards':
      return /^[0-9]{1,10}$/.test(v) ? undefined : { code: 'ERR_SIP_PARSE_MAX_FORWARDS', reason: 'Max-Forwards is not a number' };
    case 'authorization':
    case 'proxy-authorization':
    case 'www-authenticate':
    case 'proxy-authenticate':
      return isCredentials(v) ? undefined : { code: 'ERR_SIP_PARSE_AUTH', reason: `${h.raw} is not scheme name=value, …` };
    case 'authentication-info':
      return authParams(v, 0) ? undefined : { code: 'ERR_SIP_PARSE_AUTH', reason: 'Authentication-Info is not name=value, …' };
    default:
      return undefined;
  }
}
