import type { SipHeader, SipMessage, SipRequest } from '../../sip/message/types.js';
import { newTag } from '../../sip/transaction/index.js';
import type { ClientTransactionUser } from '../../sip/transaction/types.js';
import type { SendTarget } from '../../sip/transport/types.js';
import { isInternalHeader } from './internal-headers.js';
import { getHeader, getHeaderValues, header } from '../../sip/message/index.js';

/** Methods offered to apps when they arrive outside a dialog (docs/control-protocol.md §2.6). */
export const OFFERED = new Set(['INVITE', 'REGISTER', 'MESSAGE', 'OPTIONS', 'INFO', 'NOTIFY', 'SUBSCRIBE', 'PUBLISH']);
/** Headers the stack owns: an app's values are dropped (§2.2). */
export const STACK_OWNED = new Set(['via', 'route', 'record-route', 'rseq', 'content-length']);
/** Headers the core takes from the request or the dialog rather than from the app. */
export const FROM_REQUEST = new Set(['from', 'to', 'call-id', 'cseq']);
export const LOCALHOST_HEADERS = new Set(['from', 'to', 'contact', 'p-asserted-identity']);
export const NOOP_USER: ClientTransactionUser = { onResponse() {}, onTimeout() {}, onTransportError() {} };

export { newTag };

export function randomSeq(): number {
  return 1 + Math.floor(Math.random() * 0x7fff_fff0);
}

export function cseqNumber(msg: SipMessage): number {
  const v = getHeader(msg, 'cseq');
  return v === undefined ? 0 : Number.parseInt(v, 10) || 0;
}

export function cseqMethod(msg: SipMessage): string {
  const v = getHeader(msg, 'cseq') ?? '';
  const sp = v.lastIndexOf(' ');
  return v.slice(sp + 1).trim().toUpperCase();
}

/** The app's headers for an in-dialog request: everything but what the stack and the dialog own. */
export function appHeaders(msg: SipRequest): SipHeader[] {
  const out: SipHeader[] = [];
  for (const h of msg.headers) {
    if (STACK_OWNED.has(h.name) || FROM_REQUEST.has(h.name) || h.name === 'max-forwards' || isInternalHeader(h.name)) continue;
    out.push(h);
  }
  return out;
}

/** The TLS part of a B leg's target, kept on its dialog. */
export function tlsTargetOf(t: SendTarget): Pick<SendTarget, 'tlsProfile' | 'servername' | 'tenant'> {
  return {
    ...(t.tlsProfile !== undefined ? { tlsProfile: t.tlsProfile } : {}),
    ...(t.servername !== undefined ? { servername: t.servername } : {}),
    ...(t.tenant !== undefined ? { tenant: t.tenant } : {}),
  };
}

/**
 * The headers of a response an app sends, completed as drachtio-server completes them: the stack's own and the
 * request's From/To/Call-ID/CSeq are not the app's to set; localhost becomes our address; Record-Route copied for a
 * dialog-creating response; our Contact where one is needed and missing; application/sdp for an untyped SDP body.
 */
export function responseHeaders(msg: SipMessage, request: SipRequest, o: {
  local: string; localContact: string; contactWanted: boolean; copyRecordRoute: boolean; protocol: string;
}): { extra: SipHeader[]; hasContact: boolean } {
  const extra: SipHeader[] = [];
  let hasContact = false;
  let hasContentType = false;
  for (const h of msg.headers) {
    if (STACK_OWNED.has(h.name) || FROM_REQUEST.has(h.name) || isInternalHeader(h.name)) continue;
    if (h.name === 'contact') hasContact = true;
    if (h.name === 'content-type') hasContentType = true;
    if (h.name === 'contact') extra.push({ name: h.name, raw: h.raw, value: localContactValue(h.value, o.local, o.protocol) });
    else extra.push(LOCALHOST_HEADERS.has(h.name) ? { name: h.name, raw: h.raw, value: replaceLocalhost(h.value, o.local) } : h);
  }
  if (o.copyRecordRoute) {
    // "When a UAS responds to a request with a response that establishes a dialog (such as a 2xx to INVITE), the
    // UAS MUST copy all Record-Route header field values from the request into the response"
    // https://www.rfc-editor.org/rfc/rfc3261#section-12.1.1
    for (const rr of getHeaderValues(request, 'record-route')) extra.push(header('Record-Route', rr));
  }
  if (o.contactWanted && !hasContact) extra.push(header('Contact', o.localContact));
  if (msg.body.length > 0 && !hasContentType && msg.body.subarray(0, 3).toString('latin1') === 'v=0') {
    extra.push(header('Content-Type', 'application/sdp'));
  }
  return { extra, hasContact };
}

/**
 * A Contact an app wrote with `localhost` (docs/control-protocol.md: the engine fills in its own address): the
 * listener's host:port, and over TCP or TLS the transport too (`;transport=tls`), so the far end's in-dialog
 * requests come back over the same transport (RFC 3261 §19.1.1; a URI without it means UDP). A Contact with an
 * address of the app's own is left as written.
 */
export function localContactValue(value: string, hostport: string, protocol: 'udp' | 'tcp' | 'tls' | string): string {
  const filled = replaceLocalhost(value, hostport);
  if (filled === value || protocol === 'udp') return filled;
  const start = filled.indexOf('<');
  const end = start >= 0 ? filled.indexOf('>', start) : -1;
  const uri = start >= 0 && end > start ? filled.slice(start + 1, end) : filled.split(';')[0]!;
  if (/;transport=/i.test(uri)) return filled;
  const withTransport = `${uri};transport=${protocol}`;
  return start >= 0 && end > start
    ? `${filled.slice(0, start + 1)}${withTransport}${filled.slice(end)}`
    : `<${withTransport}>${filled.slice(uri.length)}`;
}

/** Replaces `@localhost` (with an optional port) by `@host:port` (docs/control-protocol.md: apps may write localhost). */
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
