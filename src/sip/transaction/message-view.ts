/**
 * The few reads and writes of a SIP message the transaction layer needs (top Via, branch, sent-by, CSeq,
 * tags, Call-ID), kept private to this folder so the layer depends only on the message types.
 */
import type { SipHeader, SipMessage, SipRequest, SipResponse, Via, CSeq } from '../message/types.js';

/** RFC 3261 §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin with the characters "z9hG4bK"." */
export const MAGIC_COOKIE = 'z9hG4bK';

export function headerValue(msg: SipMessage, name: string): string | undefined {
  for (const h of msg.headers) if (h.name === name) return h.value;
  return undefined;
}

export function headersNamed(msg: SipMessage, name: string): SipHeader[] {
  return msg.headers.filter((h) => h.name === name);
}

/** Splits a comma list at top level (outside quotes and angle brackets). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x5c /* \ */ && quoted) i++;
    else if (c === 0x22 /* " */) quoted = !quoted;
    else if (!quoted && c === 0x3c /* < */) angle++;
    else if (!quoted && c === 0x3e /* > */ && angle > 0) angle--;
    else if (!quoted && angle === 0 && c === 0x2c /* , */) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((s) => s.length > 0);
}

/** The text of the top-most Via value (the first entry of the first Via header). */
export function topViaText(msg: SipMessage): string | undefined {
  const first = headerValue(msg, 'via');
  if (first === undefined) return undefined;
  const comma = first.indexOf(',');
  return comma < 0 ? first.trim() : splitList(first)[0];
}

const VIA_RE = /^\s*([^\s/]+)\s*\/\s*([^\s/]+)\s*\/\s*(\S+)\s+([^;]+?)\s*(;.*)?$/;

export function parseViaText(text: string): Via | undefined {
  const m = VIA_RE.exec(text);
  if (!m) return undefined;
  const hostport = m[4]!.trim();
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) return undefined;
    host = hostport.slice(0, end + 1);
    const rest = hostport.slice(end + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
    else if (rest.length > 0) return undefined;
  } else {
    const colon = hostport.indexOf(':');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    if (colon >= 0) portText = hostport.slice(colon + 1);
  }
  const params: Record<string, string | null> = {};
  if (m[5]) {
    for (const part of m[5].split(';')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 0) params[p.toLowerCase()] = null;
      else params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
  }
  const via: Via = { protocolName: m[1]!, protocolVersion: m[2]!, transport: m[3]!.toUpperCase(), host, params };
  if (portText !== undefined) {
    const port = Number(portText.trim());
    if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
    via.port = port;
  }
  return via;
}

export function topVia(msg: SipMessage): Via | undefined {
  const t = topViaText(msg);
  return t === undefined ? undefined : parseViaText(t);
}

/** sent-by as compared by §17.2.3: host (case-insensitive) and port as written. */
export function sentByOf(via: Via): string {
  return via.port === undefined ? via.host.toLowerCase() : `${via.host.toLowerCase()}:${via.port}`;
}

export function cseqOf(msg: SipMessage): CSeq | undefined {
  const v = headerValue(msg, 'cseq');
  if (v === undefined) return undefined;
  const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(v);
  if (!m) return undefined;
  return { seq: Number(m[1]), method: m[2]! };
}

/** The `tag` parameter of a From or To value (parameters after the name-addr or addr-spec). */
export function tagOfValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let i = 0;
  let quoted = false;
  let paramsAt = -1;
  const lt = value.indexOf('<');
  if (lt >= 0) {
    for (; i < value.length; i++) {
      const c = value[i];
      if (c === '\\' && quoted) i++;
      else if (c === '"') quoted = !quoted;
      else if (!quoted && c === '>') {
        paramsAt = i + 1;
        break;
      }
    }
  } else {
    paramsAt = value.indexOf(';');
  }
  if (paramsAt < 0) return undefined;
  const m = /;\s*tag\s*=\s*([^;\s,]+)/i.exec(value.slice(paramsAt));
  return m ? m[1] : undefined;
}

export function toTagOf(msg: SipMessage): string | undefined {
  return tagOfValue(headerValue(msg, 'to'));
}

export function fromTagOf(msg: SipMessage): string | undefined {
  return tagOfValue(headerValue(msg, 'from'));
}

export function callIdOf(msg: SipMessage): string | undefined {
  return headerValue(msg, 'call-id');
}

/** Display names for headers this layer generates. */
const DISPLAY: Record<string, string> = {
  via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq', route: 'Route',
  'max-forwards': 'Max-Forwards', 'content-length': 'Content-Length', 'record-route': 'Record-Route',
  timestamp: 'Timestamp',
};

export function header(name: string, value: string): SipHeader {
  const lower = name.toLowerCase();
  return { name: lower, raw: DISPLAY[lower] ?? name, value };
}

/**
 * Serialises a message: start line, headers in order, Content-Length set to the body's length (RFC 3261 §20.14),
 * blank line, body.
 */
export function serialize(msg: SipMessage): Buffer {
  let text = msg.kind === 'request'
    ? `${msg.method} ${msg.uri} ${msg.version}\r\n`
    : `${msg.version} ${msg.status} ${msg.reason}\r\n`;
  let sawLength = false;
  for (const h of msg.headers) {
    if (h.name === 'content-length') {
      if (sawLength) continue;
      sawLength = true;
      text += `${h.raw || 'Content-Length'}: ${msg.body.length}\r\n`;
    } else {
      text += `${h.raw || h.name}: ${h.value}\r\n`;
    }
  }
  if (!sawLength) text += `Content-Length: ${msg.body.length}\r\n`;
  text += '\r\n';
  const head = Buffer.from(text, 'utf8');
  return msg.body.length === 0 ? head : Buffer.concat([head, msg.body]);
}

export function isRequest(msg: SipMessage): msg is SipRequest {
  return msg.kind === 'request';
}

export function isResponse(msg: SipMessage): msg is SipResponse {
  return msg.kind === 'response';
}
