import { canonicalName, wireName } from './headers.js';
import { splitLines } from './lines.js';
import type { SipHeader, SipMessage } from './types.js';

/**
 * Reads the SIP text an app sends over the control protocol (docs/control-protocol.md §2.2): start line, header
 * lines, body. Apps write looser text than the wire carries (bare LF line ends, no Content-Length, no Via or CSeq),
 * which parseMessage rightly refuses, so this reader only splits; the engine builds and checks what it sends.
 * Undefined when the start line is neither a request line nor a status line.
 */
export function parseAppText(text: string): SipMessage | undefined {
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
  const headers = readHeaderLines(lines);
  const start = lines[0] ?? '';
  if (start.startsWith('SIP/')) {
    const sp1 = start.indexOf(' ');
    if (sp1 < 0) return undefined;
    const sp2 = start.indexOf(' ', sp1 + 1);
    const status = Number(start.slice(sp1 + 1, sp2 < 0 ? undefined : sp2));
    if (!Number.isInteger(status) || status < 100 || status > 699) return undefined;
    const reason = sp2 < 0 ? '' : start.slice(sp2 + 1).trim();
    return { kind: 'response', status, reason, version: 'SIP/2.0', headers, body };
  }
  const parts = start.trim().split(/\s+/);
  if (parts.length < 2 || !/^[A-Za-z]+$/.test(parts[0]!)) return undefined;
  return { kind: 'request', method: parts[0]!.toUpperCase(), uri: parts[1]!, version: 'SIP/2.0', headers, body };
}

/** Header lines after the start line; a line starting with white space continues the one before it. */
function readHeaderLines(lines: string[]): SipHeader[] {
  const headers: SipHeader[] = [];
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
    const name = canonicalName(written);
    headers.push({ name, raw: wireName(name, written), value: line.slice(colon + 1).trim() });
  }
  return headers;
}
