import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import type { Flow, SendTarget, TlsPeerInfo, TransportProtocol } from '../../sip/transport/types.js';
import { isIP } from 'node:net';
import { normalizeDnsName } from '../../common/peer-name.js';
import { defaultPort, transportOf, unbracket } from './addressing.js';
import type { NameLookups } from './name-lookups.js';
import { getHeader, getHeaderValues, header, ownString, splitList, tagOf, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';

/** A response as it goes back upstream: our own top Via removed (https://www.rfc-editor.org/rfc/rfc3261#section-16.7). */
export function withoutTopVia(res: SipResponse): SipResponse {
  const headers: SipHeader[] = [];
  let removed = false;
  for (const h of res.headers) {
    if (!removed && h.name === 'via') {
      removed = true;
      const rest = splitList(h.value).slice(1);
      if (rest.length > 0) headers.push(header('Via', rest.join(', ')));
      continue;
    }
    headers.push(h);
  }
  return { ...res, headers };
}

/** Where a request goes: its first Route, else its Request-URI (https://www.rfc-editor.org/rfc/rfc3261#section-16.6 step 7). */
export async function nextHop(request: SipRequest, names: Pick<NameLookups, 'resolve'>, flowHint?: Flow): Promise<SendTarget> {
  const route = getHeaderValues(request, 'route')[0];
  const uri = route !== undefined ? uriTextOf(route) : request.uri;
  const u = uriOrUndefined(uri);
  if (!u) throw new Error(`invalid destination: ${uri}`);
  const protocol = transportOf(u);
  const t: SendTarget = { protocol, address: await names.resolve(u.host), port: u.port ?? defaultPort(protocol) };
  if (flowHint?.listenerId && flowHint.protocol === protocol && protocol === 'udp') t.listenerId = flowHint.listenerId;
  if (protocol === 'tls') {
    const servername = tlsNameOf(u.host);
    if (servername !== undefined) t.servername = servername;
  }
  return t;
}

/**
 * The name a TLS connection to `host` sends as SNI and checks the server's certificate against (RFC 5922 §7.3: the
 * client compares the domain of the URI it is sending to with the server's identities, src/tls/identity.ts), or
 * undefined for an IP address: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"."
 * https://www.rfc-editor.org/rfc/rfc6066#section-3
 * Lower case, without a trailing dot.
 */
export function tlsNameOf(host: string): string | undefined {
  const h = unbracket(host);
  if (isIP(h) !== 0) return undefined;
  const name = normalizeDnsName(h);
  return name === '' ? undefined : name;
}

/** A proxy command's timeout: '5s', '500ms' or a bare number of seconds; undefined when empty or unreadable. */
export function parseTimeout(v: string): number | undefined {
  const m = /^\s*(\d+)\s*(ms|s)?\s*$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 'ms' ? n : n * 1000;
}

/** Where one side of a proxied dialog was heard from: the flow of the caller's INVITE, or of the callee's response. */
export interface SideSource {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /** TCP/TLS: the connection it came on; TLS: what its certificate showed; the tenant its request was admitted for. */
  connectionId?: string | undefined;
  tls?: TlsPeerInfo | undefined;
  tenant?: string | undefined;
}

/**
 * Where the in-dialog requests of a dialog we proxied may go, as `host:port`: from the caller (its From tag) to the
 * hop below us toward the callee, from the callee to the hop above us toward the caller. Each hop is the Record-Route
 * entry next to ours in the 2xx, else that side's Contact (https://www.rfc-editor.org/rfc/rfc3261#section-12.1).
 * A From tag is only the sender's word for its side, so each side's source is kept too (`sentBy`).
 */
export interface ProxiedEnds {
  callerTag: string;
  toCaller: string | undefined;
  toCallee: string | undefined;
  caller: SideSource;
  callee: SideSource;
}

export function proxiedEnds(invite: SipRequest, inviteFlow: Flow, ok: SipResponse, okFlow: Flow, isOurs: (uri: string) => boolean): ProxiedEnds {
  // The 2xx lists the Record-Route entries as the callee got them: those nearer the callee first.
  const rr = getHeaderValues(ok, 'record-route').map(uriTextOf);
  let first = rr.findIndex(isOurs);
  let last = first;
  while (first >= 0 && last + 1 < rr.length && isOurs(rr[last + 1]!)) last++;
  if (first < 0) first = last = rr.length;
  const contact = (m: SipRequest | SipResponse) => {
    const c = getHeader(m, 'contact');
    return c === undefined ? undefined : uriTextOf(c);
  };
  const below = first > 0 ? rr[first - 1] : contact(ok);
  const above = last + 1 < rr.length ? rr[last + 1] : contact(invite);
  return {
    callerTag: ownString(tagOf(getHeader(invite, 'from')) ?? ''),
    toCallee: below === undefined ? undefined : hostportOf(below),
    toCaller: above === undefined ? undefined : hostportOf(above),
    caller: sourceOf(inviteFlow),
    callee: sourceOf(okFlow),
  };
}

function sourceOf(flow: Flow): SideSource {
  return {
    protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, connectionId: flow.connectionId, tls: flow.tls, tenant: flow.tenant,
  };
}

/**
 * Whether a request that came on `flow` may be from the side its From tag names (`fromCaller`). It must come from
 * where that side was heard (its address; the very flow when both sides share one address), or from the host of
 * that side's hop, which is where a side behind a proxy that did not record-route sends from. A request from the
 * other side's address never counts as this side's: else either party, swapping the tags, had us send its
 * requests to the address it put in its own Contact.
 */
export function sentBy(ends: ProxiedEnds, fromCaller: boolean, flow: Flow): boolean {
  const me = fromCaller ? ends.caller : ends.callee;
  const other = fromCaller ? ends.callee : ends.caller;
  const a = flow.remoteAddress;
  if (a === me.address && flow.remotePort === me.port && flow.protocol === me.protocol) return true;
  if (a === other.address) return false;
  if (a === me.address) return true;
  const hop = fromCaller ? ends.toCaller : ends.toCallee;
  return hop !== undefined && hop.slice(0, hop.lastIndexOf(':')) === a.toLowerCase();
}

/** `host:port` of a SIP URI (the port its transport defaults to when absent), lower case; undefined when unreadable. */
export function hostportOf(uri: string): string | undefined {
  const u = uriOrUndefined(uri);
  if (!u) return undefined;
  return ownString(`${u.host.replace(/^\[|\]$/g, '').toLowerCase()}:${u.port ?? defaultPort(transportOf(u))}`);
}

/** Whether a URI names one of our listeners. */
export function isOurUri(host: { isLocal(address: string, port: number): boolean }, uri: string): boolean {
  const u = uriOrUndefined(uri);
  return u !== undefined && host.isLocal(u.host.replace(/^\[|\]$/g, ''), u.port ?? defaultPort(transportOf(u)));
}
