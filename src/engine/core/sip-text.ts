import { splitList as messageSplitList, tagOf as messageTagOf } from '../../sip/message/index.js';
import type { SipHeader, SipMessage, SipRequest, SipResponse } from '../../sip/message/types.js';

/**
 * The small amount of SIP text handling the core needs for the minimal messages apps send (docs/control-protocol.md
 * §2.2): start line, header lines, body; and serialisation of what the core sends and echoes. Apps' text is looser
 * than the wire (bare LF, no Content-Length, no Via or CSeq), which the message layer's parser rightly refuses, so
 * the reader stays here; comma lists and tags are the message layer's.
 */

const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', f: 'from', t: 'to', v: 'via', l: 'content-length', c: 'content-type', k: 'supported',
  s: 'subject', e: 'content-encoding', o: 'event', r: 'refer-to', b: 'referred-by', x: 'session-expires',
  u: 'allow-events', a: 'accept-contact', j: 'reject-contact', d: 'request-disposition', y: 'identity',
};

const DISPLAY: Record<string, string> = {
  via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq', contact: 'Contact', route: 'Route',
  'record-route': 'Record-Route', 'max-forwards': 'Max-Forwards', 'content-type': 'Content-Type',
  'content-length': 'Content-Length', rseq: 'RSeq', rack: 'RAck', reason: 'Reason', require: 'Require',
  supported: 'Supported', 'p-asserted-identity': 'P-Asserted-Identity', event: 'Event', 'refer-to': 'Refer-To',
};

export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

export function hdr(name: string, value: string): SipHeader {
  const lower = name.toLowerCase();
  return { name: lower, raw: DISPLAY[lower] ?? name, value };
}

/** Parses SIP text (request or response); undefined when the start line is not SIP. */
export function parseSipText(text: string): SipMessage | undefined {
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
  const head = text.slice(0, end);
  const body = end + sepLen <= text.length ? text.slice(end + sepLen) : '';
  const lines = head.split(/\r?\n/);
  const start = lines[0] ?? '';
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
    const raw = line.slice(0, colon).trim();
    headers.push({ name: canonicalName(raw), raw, value: line.slice(colon + 1).trim() });
  }
  const bodyBuf = Buffer.from(body, 'utf8');
  if (start.startsWith('SIP/')) {
    const sp1 = start.indexOf(' ');
    if (sp1 < 0) return undefined;
    const sp2 = start.indexOf(' ', sp1 + 1);
    const status = Number(start.slice(sp1 + 1, sp2 < 0 ? undefined : sp2));
    if (!Number.isInteger(status) || status < 100 || status > 699) return undefined;
    const reason = sp2 < 0 ? '' : start.slice(sp2 + 1).trim();
    return { kind: 'response', status, reason, version: 'SIP/2.0', headers, body: bodyBuf };
  }
  const parts = start.trim().split(/\s+/);
  if (parts.length < 2 || !/^[A-Za-z]+$/.test(parts[0]!)) return undefined;
  return { kind: 'request', method: parts[0]!.toUpperCase(), uri: parts[1]!, version: 'SIP/2.0', headers, body: bodyBuf };
}

/** Serialises a message with a Content-Length equal to the body (RFC 3261 §20.14). */
export function serializeSip(msg: SipMessage): string {
  let text = msg.kind === 'request'
    ? `${msg.method} ${msg.uri} ${msg.version}\r\n`
    : `${msg.version} ${msg.status} ${msg.reason}\r\n`;
  for (const h of msg.headers) {
    if (h.name === 'content-length') continue;
    text += `${h.raw || h.name}: ${h.value}\r\n`;
  }
  text += `Content-Length: ${msg.body.length}\r\n\r\n`;
  return msg.body.length === 0 ? text : text + msg.body.toString('utf8');
}

export function getHeader(msg: SipMessage, name: string): string | undefined {
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) if (hs[i]!.name === name) return hs[i]!.value;
  return undefined;
}

export function getHeaders(msg: SipMessage, name: string): string[] {
  const out: string[] = [];
  for (const h of msg.headers) if (h.name === name) out.push(h.value);
  return out;
}

/** Splits a comma list at top level (outside quotes and angle brackets): the message layer's. */
export const splitList = messageSplitList;

/** The `tag` parameter of a From or To value: the message layer's. */
export const tagOf = messageTagOf;

export function withTag(value: string, tag: string): string {
  return `${value};tag=${tag}`;
}

/** The URI of a name-addr or addr-spec value (`"A" <sip:a@b>;tag=x` → `sip:a@b`). */
export function uriOf(value: string): string {
  const lt = value.indexOf('<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    return value.slice(lt + 1, gt < 0 ? undefined : gt).trim();
  }
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim();
}

export interface UriLite {
  scheme: string;
  user: string | undefined;
  host: string;
  port: number | undefined;
  params: Map<string, string | null>;
}

/** Scheme, host, port and parameters of a SIP URI; enough to choose a transport and a destination. */
export function parseUriLite(uri: string): UriLite | undefined {
  const colon = uri.indexOf(':');
  if (colon <= 0) return undefined;
  const scheme = uri.slice(0, colon).toLowerCase();
  let rest = uri.slice(colon + 1);
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  const at = rest.lastIndexOf('@');
  const user = at >= 0 ? rest.slice(0, at) : undefined;
  if (at >= 0) rest = rest.slice(at + 1);
  const semi = rest.indexOf(';');
  const hostport = semi < 0 ? rest : rest.slice(0, semi);
  const params = new Map<string, string | null>();
  if (semi >= 0) {
    for (const p of rest.slice(semi + 1).split(';')) {
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 0) params.set(p.toLowerCase(), null);
      else params.set(p.slice(0, eq).toLowerCase(), p.slice(eq + 1));
    }
  }
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) return undefined;
    host = hostport.slice(0, end + 1);
    if (hostport[end + 1] === ':') portText = hostport.slice(end + 2);
  } else {
    const c = hostport.indexOf(':');
    host = c < 0 ? hostport : hostport.slice(0, c);
    if (c >= 0) portText = hostport.slice(c + 1);
  }
  if (host.length === 0) return undefined;
  let port: number | undefined;
  if (portText !== undefined && portText.length > 0) {
    port = Number(portText);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  }
  return { scheme, user, host, port, params };
}

/** Replaces `@localhost` (with an optional port) by `@host:port`. */
export function replaceLocalhost(value: string, hostport: string): string {
  const i = value.indexOf('@localhost');
  if (i < 0) return value;
  let j = i + '@localhost'.length;
  if (value[j] === ':') {
    j++;
    while (j < value.length && value.charCodeAt(j) >= 0x30 && value.charCodeAt(j) <= 0x39) j++;
  }
  return `${value.slice(0, i)}@${hostport}${value.slice(j)}`;
}

export function isRequest(m: SipMessage): m is SipRequest {
  return m.kind === 'request';
}

export function isResponse(m: SipMessage): m is SipResponse {
  return m.kind === 'response';
}
