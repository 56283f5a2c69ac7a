import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { SipHeader, SipRequest } from '../../sip/message/types.js';
import type { DialogInit } from '../../sip/dialog/dialog.js';
import { newBranch } from '../../sip/transaction/index.js';
import type { ListenerInfo, SendTarget, TransportProtocol } from '../../sip/transport/types.js';
import { transportOf, unbracket, withLr, type LocalAddresses } from './addressing.js';
import { ROUTE_HEADER, isInternalHeader, parseRouteHeader, type RouteInfo } from './internal-headers.js';
import { STACK_OWNED, localContactValue, newTag, randomSeq, replaceLocalhost } from './core-util.js';
import { getHeader, header, tagOf, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';
import type { SipUri } from '../../sip/message/index.js';

/** A new request an app sent, completed as drachtio-server completes it, before its destination is resolved. */
export interface NewRequest {
  readonly ok: true;
  readonly request: SipRequest;
  /** Where it goes: the app's route when the command names one, else the Request-URI. */
  readonly dest: SipUri;
  readonly protocol: TransportProtocol;
  /** The listener it leaves from. */
  readonly listener: ListenerInfo;
  /** X-Trunkgate-Route: the app's choice of TLS profile and tenant for this leg; read here, never sent on. */
  readonly route: RouteInfo;
  /** The dialog an INVITE or SUBSCRIBE creates; undefined for other methods. */
  readonly dialog: DialogInit | undefined;
}

/**
 * Completes a new (out-of-dialog) request from an app (docs/control-protocol.md §2.2, §2.8): the stack's own
 * headers, From, To, Call-ID and CSeq filled in when missing, localhost replaced by the listener's address, and a
 * Contact for a dialog-forming request. A request that cannot be sent gives the reason the app is told in its NOK.
 */
export function composeNewRequest(msg: SipRequest, appRouteUri: string | undefined, addr: LocalAddresses): NewRequest | { ok: false; reason: string } {
  const method = msg.method;
  const ruri = uriOrUndefined(msg.uri);
  if (!ruri) return { ok: false, reason: `invalid request-uri: ${msg.uri}` };
  const routeUri = appRouteUri ? uriTextOf(appRouteUri) : undefined;
  const dest = routeUri ? uriOrUndefined(routeUri) : ruri;
  if (!dest) return { ok: false, reason: `invalid route: ${appRouteUri}` };
  const protocol = transportOf(dest);
  const listener = addr.listenerFor(protocol);
  if (!listener) return { ok: false, reason: 'requested protocol/transport not available' };
  const local = addr.hostportOf(listener);
  const contact = addr.contactFor(protocol, local);

  const headers: SipHeader[] = [];
  let from: string | undefined;
  let to: string | undefined;
  let callId: string | undefined;
  let appSeq: number | undefined;
  let hasContact = false;
  let hasMaxForwards = false;
  let hasContentType = false;
  const others: SipHeader[] = [];
  let route: RouteInfo = {};
  for (const h of msg.headers) {
    if (STACK_OWNED.has(h.name)) continue;
    if (isInternalHeader(h.name)) {
      if (h.name === ROUTE_HEADER) route = parseRouteHeader(h.value);
      continue;
    }
    switch (h.name) {
      case 'cseq': {
        // The app may carry on a sequence (srf's digest retry sends the challenged request's CSeq + 1).
        const n = Number.parseInt(h.value, 10);
        if (Number.isInteger(n) && n > 0 && n < 2 ** 31) appSeq = n;
        continue;
      }
      case 'from':
        // For new requests the From is rewritten if it contains localhost anywhere (§2.8).
        from = h.value.includes('localhost') ? replaceLocalhost(h.value, local) : h.value;
        continue;
      case 'to':
        to = replaceLocalhost(h.value, local);
        continue;
      case 'call-id':
        callId = h.value;
        continue;
      case 'contact':
        hasContact = true;
        others.push({ name: h.name, raw: h.raw, value: localContactValue(h.value, local, protocol) });
        continue;
      case 'max-forwards':
        hasMaxForwards = true;
        break;
      case 'content-type':
        hasContentType = true;
        break;
      case 'p-asserted-identity':
        others.push({ name: h.name, raw: h.raw, value: replaceLocalhost(h.value, local) });
        continue;
      default:
        break;
    }
    others.push(h);
  }
  if (msg.body.length > 0 && !hasContentType) {
    if (msg.body.subarray(0, 3).toString('latin1') !== 'v=0') return { ok: false, reason: 'missing content-type' };
    others.push(header('Content-Type', 'application/sdp'));
  }
  from ??= contact;
  let fromTag = tagOf(from);
  if (fromTag === undefined) {
    fromTag = newTag();
    from = `${from};tag=${fromTag}`;
  }
  to ??= `<${msg.uri}>`;
  callId ??= randomUUID();
  const seq = appSeq ?? randomSeq();

  headers.push(header('Via', `SIP/2.0/${protocol.toUpperCase()} ${local};rport;branch=${newBranch()}`));
  if (!hasMaxForwards) headers.push(header('Max-Forwards', '70'));
  if (routeUri) headers.push(header('Route', `<${withLr(routeUri)}>`));
  headers.push(header('From', from), header('To', to), header('Call-ID', callId), header('CSeq', `${seq} ${method}`));
  const dialogForming = method === 'INVITE' || method === 'SUBSCRIBE';
  if (dialogForming && !hasContact) headers.push(header('Contact', contact));
  for (const h of others) headers.push(h);
  const request: SipRequest = { kind: 'request', method, uri: msg.uri, version: 'SIP/2.0', headers, body: msg.body };
  const dialog: DialogInit | undefined = dialogForming ? {
    role: 'uac', callId, localTag: fromTag, localUri: from, remoteUri: to, localSeq: seq,
    secure: msg.uri.startsWith('sips:') && protocol === 'tls', localContact: hasContact ? getHeader(request, 'contact')! : contact,
  } : undefined;
  return { ok: true, request, dest, protocol, listener, route, dialog };
}

/** The send target of a new request whose destination resolved to `address`:`port`. */
export function newRequestTarget(r: NewRequest, address: string, port: number): SendTarget {
  const { protocol, dest, route } = r;
  const target: SendTarget = { protocol, address, port };
  if (protocol === 'udp') target.listenerId = r.listener.id;
  if (protocol === 'tls') {
    // SNI and the RFC 5922 server check name the target's host; an IP address is never sent as SNI (RFC 6066 §3).
    const host = route.domain ?? unbracket(dest.host);
    if (isIP(host) === 0) target.servername = host.toLowerCase();
    if (route.profile !== undefined) target.tlsProfile = route.profile;
    if (route.tenant !== undefined) target.tenant = route.tenant;
  }
  return target;
}
