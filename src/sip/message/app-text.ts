import { appTagProblem, badCharIndex, checkHeaderValue } from './grammar.js';
import { appAddressListProblem } from './app-reading.js';
import { headerNameOf, wireName } from './headers.js';
import { splitLines } from './lines.js';
import type { SipHeader, SipMessage } from './types.js';

/**
 * Reads the SIP text an app sends over the control protocol (docs/control-protocol.md §2.2): start line, header
 * lines, body. Apps write looser text than the wire carries (bare LF line ends, no Content-Length, no Via or CSeq),
 * which parseMessage rightly refuses, so this reader splits them. What no message on the wire may hold it refuses,
 * by the wire parser's own checks: a header name that is not a token (RFC 3261 §25.1), a single-valued header
 * twice with two values (Content-Type and `c`), a header value with a control character (a bare CR, NUL) or
 * outside its grammar (grammar.ts: a Contact missing its '>', a Via without sent-by), a control character in the
 * start line. The far end's parser and drachtio-srf's would refuse what the engine built from it, and its echo.
 * Undefined when refused, or when the start line is neither a request line nor a status line; `onProblem`, when
 * given, hears why.
 */
export function parseAppText(text: string, onProblem?: (reason: string) => void): SipMessage | undefined {
  let end = text.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (end < 0) {
    const lf = text.indexOf('\n\n');
    if (lf >= 0) {
      end = lf;
      sepLen = 2;
    } else {
      end = text.length;
      sepLen = 0;
    }
  }
  const lines = splitLines(text.slice(0, end));
  const body = Buffer.from(end + sepLen <= text.length ? text.slice(end + sepLen) : '', 'utf8');
  const headers = readHeaderLines(lines, onProblem);
  if (!headers) return undefined;
  const start = lines[0] ?? '';
  if (badCharIndex(start, false) >= 0) {
    onProblem?.('a control character in the start line');
    return undefined;
  }
  if (start.startsWith('SIP/')) {
    const sp1 = start.indexOf(' ');
    if (sp1 < 0) return undefined;
    const sp2 = start.indexOf(' ', sp1 + 1);
    const status = Number(start.slice(sp1 + 1, sp2 < 0 ? undefined : sp2));
    if (!Number.isInteger(status) || status < 100 || status > 699) {
      onProblem?.(`bad status line '${start.slice(0, 40)}'`);
      return undefined;
    }
    const reason = sp2 < 0 ? '' : start.slice(sp2 + 1).trim();
    return { kind: 'response', status, reason, version: 'SIP/2.0', headers, body };
  }
  const parts = start.trim().split(/\s+/);
  if (parts.length < 2 || !/^[A-Za-z]+$/.test(parts[0]!)) {
    onProblem?.(`bad start line '${start.slice(0, 40)}'`);
    return undefined;
  }
  for (const h of headers) {
    const t = h.name === 'from' || h.name === 'to' ? appTagProblem(h.value) : undefined;
    if (t !== undefined) {
      onProblem?.(`${h.raw} ${t}`);
      return undefined;
    }
  }
  return { kind: 'request', method: parts[0]!.toUpperCase(), uri: parts[1]!, version: 'SIP/2.0', headers, body };
}

/**
 * Header lines after the start line; a line starting with white space continues the one before it, a line without
 * a name is skipped. Undefined when a name is not a token, a single-valued header comes again with another value,
 * or a value fails its grammar (checkHeaderValue).
 */
function readHeaderLines(lines: string[], onProblem: ((reason: string) => void) | undefined): SipHeader[] | undefined {
  const headers: SipHeader[] = [];
  let seen = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const c0 = line.charCodeAt(0);
    if ((c0 === 0x20 || c0 === 0x09) && headers.length > 0) {
      const last = headers[headers.length - 1]!;
      last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const written = line.slice(0, colon).trim();
    const known = headerNameOf(written);
    if (known.problem !== undefined) {
      onProblem?.(known.problem);
      return undefined;
    }
    const value = line.slice(colon + 1).trim();
    // A single-valued header twice would go out twice (the wire parser refuses that): the same value again is
    // dropped (drachtio-srf's digest retry writes Call-ID under two spellings), another value refuses the text.
    // Content-Length is the engine's to write (serializeMessageText), whatever the app wrote.
    if (known.singleBit !== 0 && known.name !== 'content-length') {
      if ((seen & known.singleBit) !== 0) {
        if (headers.some((h) => h.name === known.name && h.value === value)) continue;
        onProblem?.(`${written.slice(0, 40)} appears more than once`);
        return undefined;
      }
      seen |= known.singleBit;
    }
    headers.push({ name: known.name, raw: wireName(known.name, written), value });
  }
  for (const h of headers) {
    const g = checkHeaderValue(h);
    if (g) {
      onProblem?.(g.reason);
      return undefined;
    }
  }
  // Address lists as drachtio-srf and our own parser read them: the engine sends these lines on (app-reading.ts).
  const lists = appAddressListProblem(headers);
  if (lists !== undefined) {
    onProblem?.(lists);
    return undefined;
  }
  return headers;
}
