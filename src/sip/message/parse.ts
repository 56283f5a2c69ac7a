import type { ParseErrorCode, ParseLimits, ParseResult, SipHeader, SipMessage, SipRequest } from './types.js';
import { headerNameOf } from './headers.js';
import { parseCSeq } from './cseq.js';
import { splitLines } from './lines.js';
import { hasEscape } from './chars.js';
import { appAddressListProblem } from './app-reading.js';
import { appTagProblem, badCharIndex, checkHeaderValue, isSentProtocol, isToken, isUriText, type GrammarProblem } from './grammar.js';

/**
 * Not frozen: a frozen object has a hidden class of its own, and the parser's limit reads would then see two shapes
 * (these defaults and a transport's resolved limits, written in the same order) instead of one.
 */
export const defaultParseLimits: Readonly<ParseLimits> = {
  maxMessageBytes: 65535,
  maxHeaders: 256,
  maxLineBytes: 8192,
};

/** Complete limits as given (no object per message); defaults filled in only for partial ones. */
function resolveLimits(limits: Partial<ParseLimits> | undefined): Readonly<ParseLimits> {
  if (limits === undefined) return defaultParseLimits;
  const { maxMessageBytes, maxHeaders, maxLineBytes } = limits;
  if (maxMessageBytes !== undefined && maxHeaders !== undefined && maxLineBytes !== undefined) return limits as ParseLimits;
  return {
    maxMessageBytes: maxMessageBytes ?? defaultParseLimits.maxMessageBytes,
    maxHeaders: maxHeaders ?? defaultParseLimits.maxHeaders,
    maxLineBytes: maxLineBytes ?? defaultParseLimits.maxLineBytes,
  };
}

/** Exactly `SIP/2.0`: drachtio-srf's start-line expressions are case-sensitive (RFC 3261 §7.1 writes it so). */
const VERSION = 'SIP/2.0';

function fail(code: ParseErrorCode, reason: string, partial?: SipRequest): ParseResult {
  return partial ? { ok: false, code, reason, partial } : { ok: false, code, reason };
}

/** Index of the blank line ending the header block (searched from the start line on), and its terminator's length. */
function headerEnd(buf: Buffer, from: number): [number, number] {
  const crlf = buf.indexOf('\r\n\r\n', from);
  const lf = buf.indexOf('\n\n', from);
  if (crlf >= 0 && (lf < 0 || crlf <= lf - 1)) return [crlf, 4];
  if (lf >= 0) return [lf, 2];
  return [-1, 0];
}

/**
 * Parses one SIP message (RFC 3261 §7). Never throws: every failure is a value with a stable code. Cost is
 * linear in the input, and the limits bound what hostile input can make it do.
 */
export function parseMessage(buf: Buffer, limits?: Partial<ParseLimits>): ParseResult {
  const lim = resolveLimits(limits);
  if (buf.length === 0) return fail('ERR_SIP_PARSE_EMPTY', 'empty message');
  if (buf.length > lim.maxMessageBytes) return fail('ERR_SIP_PARSE_TOO_LARGE', `message of ${buf.length} bytes exceeds ${lim.maxMessageBytes}`);
  let start = 0;
  // RFC 3261 §7.5: implementations SHOULD ignore CRLFs preceding the start line.
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  if (start >= buf.length) return fail('ERR_SIP_PARSE_EMPTY', 'only line breaks');
  let [end, termLen] = headerEnd(buf, start);
  let body: Buffer;
  if (end < 0) {
    // No blank line: a header block with no body and a missing final CRLF is still readable over UDP.
    end = buf.length;
    termLen = 0;
    body = Buffer.alloc(0);
  } else {
    body = buf.subarray(end + termLen);
  }
  const head = buf.toString('utf8', start, end);
  const lines = splitLines(head);
  const startLine = lines[0]!;
  if (startLine.length > lim.maxLineBytes) return fail('ERR_SIP_PARSE_LINE_TOO_LONG', 'start line too long');

  const headers: SipHeader[] = [];
  // The first problem found; `answerable` is false when the problem is in a header the 400 would be addressed by.
  let problem: (GrammarProblem & { answerable: boolean }) | undefined;
  // Single-valued headers seen so far, one bit each (HeaderName.singleBit).
  let seen = 0;
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i]!;
    // RFC 3261 §7.3.1: a line starting with white space continues the previous header (folding).
    while (i + 1 < lines.length && (lines[i + 1]!.charCodeAt(0) === 32 || lines[i + 1]!.charCodeAt(0) === 9)) {
      line += ' ' + lines[++i]!.trim();
      if (line.length > lim.maxLineBytes) break;
    }
    if (line.length > lim.maxLineBytes) return fail('ERR_SIP_PARSE_LINE_TOO_LONG', `header line over ${lim.maxLineBytes} bytes`);
    if (line.length === 0) continue;
    if (headers.length >= lim.maxHeaders) return fail('ERR_SIP_PARSE_TOO_MANY_HEADERS', `more than ${lim.maxHeaders} headers`);
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problem ??= { code: 'ERR_SIP_PARSE_HEADER', reason: `header line without a name: '${line.slice(0, 40)}'`, answerable: true };
      continue;
    }
    const raw = line.slice(0, colon).trimEnd();
    const known = headerNameOf(raw);
    if (known.problem !== undefined) {
      problem ??= { code: 'ERR_SIP_PARSE_HEADER', reason: known.problem, answerable: true };
      continue;
    }
    const h: SipHeader = { name: known.name, raw, value: line.slice(colon + 1).trim() };
    headers.push(h);
    if (problem) continue;
    const g = checkHeaderValue(h);
    if (g) {
      // A 400 goes back by the top Via (RFC 3261 §18.2.2), so a request whose top Via is unusable is dropped.
      const topVia = h.name === 'via' && !headers.some((x) => x !== h && x.name === 'via');
      problem = { ...g, answerable: !topVia || isSentProtocol(h.value) };
    } else {
      const bit = known.singleBit;
      if ((seen & bit) !== 0) {
        // From, To, Call-ID, CSeq and Content-Length keep their own codes below.
        if (!MANDATORY_SINGLE.has(h.name)) problem = { code: 'ERR_SIP_PARSE_DUPLICATE_HEADER', reason: `${h.raw} appears more than once`, answerable: true };
      } else seen |= bit;
    }
  }

  if (!problem) {
    const lists = appAddressListProblem(headers);
    if (lists !== undefined) problem = { code: 'ERR_SIP_PARSE_ADDRESS', reason: lists, answerable: true };
  }

  let msg: SipMessage;
  const sp1 = startLine.indexOf(' ');
  if (startLine.startsWith('SIP/') || /^sip\//i.test(startLine)) {
    const m = /^(\S+) ([0-9]{3})(?: (.*))?$/.exec(startLine);
    if (!m) return fail('ERR_SIP_PARSE_START_LINE', 'bad status line');
    if (m[1] !== VERSION) return fail('ERR_SIP_PARSE_VERSION', `unsupported version '${m[1]!.slice(0, 20)}'`);
    if (m[3] !== undefined && badCharIndex(m[3], false) >= 0) return fail('ERR_SIP_PARSE_START_LINE', 'control character in the reason phrase');
    const status = Number(m[2]);
    if (status < 100 || status > 699) return fail('ERR_SIP_PARSE_START_LINE', `status code ${status} out of range`);
    msg = { kind: 'response', status, reason: m[3] ?? '', version: m[1]!, headers, body };
  } else {
    const sp2 = startLine.lastIndexOf(' ');
    if (sp1 <= 0 || sp2 <= sp1) return fail('ERR_SIP_PARSE_START_LINE', 'bad request line');
    const method = startLine.slice(0, sp1);
    const uri = startLine.slice(sp1 + 1, sp2);
    const version = startLine.slice(sp2 + 1);
    if (!isToken(method)) return fail('ERR_SIP_PARSE_START_LINE', `bad method '${method.slice(0, 20)}'`);
    const req: SipRequest = { kind: 'request', method, uri, version, headers, body };
    msg = req;
    const addressable = hasAddressHeaders(headers);
    // RFC 3261 §7.1: exactly one SP between the elements; the Request-URI holds no white space.
    // A scheme is required ('<sip:...>' is refused, RFC 4475 §3.1.2.15); an empty remainder ('sip:') is left to
    // the UAS checks, because in-dialog requests are routed by their dialog, not by the Request-URI.
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) || !isUriText(uri)) {
      return fail('ERR_SIP_PARSE_URI', 'bad Request-URI', addressable ? req : undefined);
    }
    if (version !== VERSION) return fail('ERR_SIP_PARSE_VERSION', `unsupported version '${version.slice(0, 20)}'`, addressable ? req : undefined);
    // drachtio-srf unescape()s the method: `B%59E` is no method to the engine and BYE to an app.
    if (hasEscape(method)) {
      return fail('ERR_SIP_PARSE_START_LINE', `method '${method.slice(0, 20)}' holds a %-escape, which drachtio-srf unescapes`, addressable ? req : undefined);
    }
  }
  if (problem) {
    return fail(problem.code, problem.reason, problem.answerable && msg.kind === 'request' && hasAddressHeaders(headers) ? msg : undefined);
  }
  if (msg.kind === 'request') {
    for (const h of headers) {
      if (h.name !== 'from' && h.name !== 'to') continue;
      const t = appTagProblem(h.value);
      if (t !== undefined) return fail(h.name === 'from' ? 'ERR_SIP_PARSE_FROM' : 'ERR_SIP_PARSE_TO', `${h.name === 'from' ? 'From' : 'To'} ${t}`, hasAddressHeaders(headers) ? msg : undefined);
    }
  }

  // Mandatory headers (RFC 3261 §8.1.1).
  let via = 0, from = 0, to = 0, callId = 0, cseq: string | undefined, cseqCount = 0, clen: string | undefined, clenCount = 0;
  for (const h of headers) {
    switch (h.name) {
      case 'via': via++; break;
      case 'from': from++; break;
      case 'to': to++; break;
      case 'call-id': callId++; break;
      case 'cseq': cseq = h.value; cseqCount++; break;
      case 'content-length': clen = h.value; clenCount++; break;
    }
  }
  // Still answerable with a 400 when each header a response copies is there; of a repeated single-valued header
  // the response copies the first (RFC 4475 §3.1.2.19 expects a 400 for exactly such a request).
  const partial = msg.kind === 'request' && via > 0 && from > 0 && to > 0 && callId > 0 && cseqCount > 0 ? msg : undefined;
  if (via === 0 || from === 0 || to === 0 || callId === 0 || cseq === undefined) {
    const missing = [via === 0 && 'Via', from === 0 && 'From', to === 0 && 'To', callId === 0 && 'Call-ID', cseq === undefined && 'CSeq']
      .filter(Boolean).join(', ');
    return fail('ERR_SIP_PARSE_MISSING_HEADER', `missing ${missing}`);
  }
  if (from > 1 || to > 1 || callId > 1 || cseqCount > 1) {
    return fail('ERR_SIP_PARSE_HEADER', 'a single-valued header (From, To, Call-ID, CSeq) appears more than once', partial);
  }
  const cs = parseCSeq(cseq);
  if (!cs.ok) return fail('ERR_SIP_PARSE_CSEQ', cs.reason, partial);
  if (msg.kind === 'request' && cs.value.method !== msg.method) {
    return fail('ERR_SIP_PARSE_CSEQ', `CSeq method ${cs.value.method} does not match ${msg.method}`, partial);
  }
  if (clenCount > 1) return fail('ERR_SIP_PARSE_CONTENT_LENGTH', 'Content-Length appears more than once', partial);
  if (clen !== undefined) {
    if (!/^[0-9]{1,10}$/.test(clen)) return fail('ERR_SIP_PARSE_CONTENT_LENGTH', `bad Content-Length '${clen.slice(0, 20)}'`, partial);
    const n = Number(clen);
    if (n > body.length) return fail('ERR_SIP_PARSE_CONTENT_LENGTH', `Content-Length ${n} exceeds the ${body.length} body bytes`, partial);
    if (n < body.length) msg.body = body.subarray(0, n);
  }
  return { ok: true, message: msg };
}

const MANDATORY_SINGLE = new Set(['from', 'to', 'call-id', 'cseq', 'content-length']);


function hasAddressHeaders(headers: SipHeader[]): boolean {
  let v = false, f = false, t = false, c = false, s = false;
  for (const h of headers) {
    if (h.name === 'via') v = true;
    else if (h.name === 'from') f = true;
    else if (h.name === 'to') t = true;
    else if (h.name === 'call-id') c = true;
    else if (h.name === 'cseq') s = true;
  }
  return v && f && t && c && s;
}
