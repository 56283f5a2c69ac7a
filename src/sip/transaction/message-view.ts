/**
 * The few reads and writes of a SIP message the transaction layer needs (top Via, branch, sent-by, CSeq,
 * tags, Call-ID). Header lookup, lists, CSeq and tags are the message layer's; the top-Via reader stays here
 * (it reads only the first entry, without building the whole Via list) and so does the serialiser, which keeps
 * the headers' order and spelling byte for byte.
 */
import {
  cseqOf as messageCseqOf, fromTagOf as messageFromTagOf, getHeader, splitList as messageSplitList, tagOf as messageTagOf,
  toTagOf as messageToTagOf,
} from '../message/index.js';
import type { SipHeader, SipMessage, SipRequest, SipResponse, Via, CSeq } from '../message/types.js';

/** RFC 3261 §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin with the characters "z9hG4bK"." */
export const MAGIC_COOKIE = 'z9hG4bK';

export function headerValue(msg: SipMessage, name: string): string | undefined {
  return getHeader(msg, name);
}

export function headersNamed(msg: SipMessage, name: string): SipHeader[] {
  return msg.headers.filter((h) => h.name === name);
}

/** Splits a comma list at top level (outside quotes and angle brackets): the message layer's. */
export const splitList = messageSplitList;

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
  return messageCseqOf(msg);
}

/** The `tag` parameter of a From or To value (parameters after the name-addr or addr-spec). */
export function tagOfValue(value: string | undefined): string | undefined {
  return messageTagOf(value);
}

export function toTagOf(msg: SipMessage): string | undefined {
  return messageToTagOf(msg);
}

export function fromTagOf(msg: SipMessage): string | undefined {
  return messageFromTagOf(msg);
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
