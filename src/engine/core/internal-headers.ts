import { randomBytes } from 'node:crypto';
import type { SipHeader } from '../../sip/message/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { TlsFailure } from '../../tls/failure.js';
import { header, reasonValue } from '../../sip/message/index.js';
import type { ProxyIdentities } from './proxy-identity.js';

/**
 * Headers between the engine and its apps only (docs/control-protocol.md §4.2): X-Trunkgate-Peer (engine → app: who sent a
 * request) and X-Trunkgate-Route (app → engine: the tenant and TLS profile of a B leg). Neither is ever taken
 * from the network nor sent to it.
 */
export const PEER_HEADER = 'x-trunkgate-peer';
export const ROUTE_HEADER = 'x-trunkgate-route';

export function isInternalHeader(name: string): boolean {
  return name === PEER_HEADER || name === ROUTE_HEADER;
}

/** Removes every internal header, in place; the common case (none) allocates nothing. */
export function stripInternal(headers: SipHeader[]): void {
  let w = 0;
  for (let r = 0; r < headers.length; r++) {
    const h = headers[r]!;
    if (isInternalHeader(h.name)) continue;
    headers[w++] = h;
  }
  headers.length = w;
}

/** What X-Trunkgate-Route says about a B leg. */
export interface RouteInfo {
  tenant?: string;
  profile?: string;
  /** The name the TLS server must present and that goes out as SNI (a `dns:` target sent to its resolved address). */
  domain?: string;
  /** The connection (X-Trunkgate-Peer `conn=`) the request must go over, and no other (pinned-flow.ts). */
  conn?: string;
}

/**
 * This engine run's mark on the connection names it gives apps (`conn=`): connection ids count up from 1 again when
 * an engine starts, so a name an app kept from before a restart must not name whatever connection now has that id.
 */
const RUN = randomBytes(6).toString('base64url');

/** `conn=` of a TCP or TLS connection: its id and this run's mark (`tcp-7.Xy3_kP0a`). */
export function connName(connectionId: string): string {
  return `${connectionId}.${RUN}`;
}

/** The connection id `conn=` names, when it is a name this engine run gave; undefined for any other text. */
export function connectionIdOf(conn: string): string | undefined {
  const dot = conn.lastIndexOf('.');
  return dot > 0 && conn.slice(dot + 1) === RUN ? conn.slice(0, dot) : undefined;
}

/** `tenant=<t>;profile=<p>[;domain=<name>][;conn=<connection>]` as the b2bua writes it; unknown parameters are ignored. */
export function parseRouteHeader(value: string): RouteInfo {
  const out: RouteInfo = {};
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (v === '') continue;
    if (name === 'tenant') out.tenant = v;
    else if (name === 'profile') out.profile = v;
    else if (name === 'domain') out.domain = v.toLowerCase().replace(/\.$/, '');
    else if (name === 'conn') out.conn = v;
  }
  return out;
}

/** Visible ASCII without `"`, `,`, `\\` or `;`: what can stand in the quoted, comma-separated identities list. */
const SAFE_IDENTITY = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/;
/** What a TLS version or suite name may be to go into the header unquoted (`TLSv1.3`, `ECDHE-RSA-AES256-GCM-SHA384`). */
const SAFE_TOKEN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The tenant a request that arrived on `flow` belongs to. A TLS connection's own tenant (its listener's, or the
 * profile its SNI picked) counts first only when the peer's certificate verified: an SNI is the client's word, and a
 * connection that showed no certificate is judged by its address (source-trust.ts), which writes the tenant it
 * admitted the request for on `flow.tenant`. The SNI's tenant is left for a flow nothing else names.
 */
export function peerTenant(flow: Flow, listenerTenant: string | undefined): string | undefined {
  const tls = flow.protocol === 'tls' ? flow.tls : undefined;
  return (tls?.authorized === true ? tls.tenant : undefined) ?? flow.tenant ?? tls?.tenant ?? listenerTenant;
}

/**
 * X-Trunkgate-Peer for a request that arrived on `flow` (or a response to an app's INVITE that came over TLS):
 * `tenant=<t>;verified=<0|1>;transport=<udp|tcp|tls>[;tls=<version>;cipher=<suite>];identities="sip:a,dns:b"[;conn=<c>]`.
 * `verified` is 1 only when the peer's certificate chain verified on this TLS connection; identities (RFC 5922
 * §7.1, certificate order) only then. The negotiated version and suite are there for every TLS flow, for the CDR.
 * `conn` names the TCP or TLS connection, which an app may give back in X-Trunkgate-Route to send over it alone.
 */
export function peerHeader(flow: Flow, listenerTenant: string | undefined, proxy?: ProxyIdentities): SipHeader {
  const tls = flow.protocol === 'tls' ? flow.tls : undefined;
  const tenant = peerTenant(flow, listenerTenant);
  if (proxy !== undefined) return proxyPeerHeader(flow, tenant, proxy);
  const verified = tls?.authorized === true;
  let v = tenant !== undefined ? `tenant=${tenant};` : '';
  v += `verified=${verified ? 1 : 0};transport=${flow.protocol}`;
  if (tls && SAFE_TOKEN.test(tls.version) && SAFE_TOKEN.test(tls.cipher)) v += `;tls=${tls.version};cipher=${tls.cipher}`;
  if (verified) {
    // An identity with a character that could end the quoted list or add an entry to it (a DNS SAN may carry any
    // byte) is left out: the app must read exactly the identities the certificate has, never one more.
    const ids = tls.identities.filter((id) => SAFE_IDENTITY.test(id));
    if (ids.length > 0) v += `;identities="${ids.join(',')}"`;
  }
  return header('X-Trunkgate-Peer', v + connParam(flow));
}

/** `;conn=<name>` of a TCP or TLS flow; empty for UDP. */
function connParam(flow: Flow): string {
  return flow.protocol !== 'udp' && flow.connectionId !== undefined ? `;conn=${connName(flow.connectionId)}` : '';
}

/**
 * The names a trusted proxy vouched for (proxy-identity.ts), as if this engine's own TLS had verified them:
 * `verified=1;origin=proxy`, so permissions apply and the CDR says where the identity came from.
 */
function proxyPeerHeader(flow: Flow, tenant: string | undefined, proxy: ProxyIdentities): SipHeader {
  const ids = proxy.identities.filter((id) => SAFE_IDENTITY.test(id));
  let v = tenant !== undefined ? `tenant=${tenant};` : '';
  v += `verified=1;transport=${flow.protocol};origin=proxy`;
  if (ids.length > 0) v += `;identities="${ids.join(',')}"`;
  return header('X-Trunkgate-Peer', v + connParam(flow));
}

/**
 * X-Trunkgate-Peer on a final response the engine made itself for an app's request (Timer B's 408, a transport or
 * TLS failure's 503): `origin=engine`, so the app can tell it from the far end's own answer.
 */
export function engineOriginHeader(protocol: Flow['protocol']): SipHeader {
  return header('X-Trunkgate-Peer', `verified=0;transport=${protocol};origin=engine`);
}

/**
 * The Reason for the 503 an app gets when a request could not be sent because the TLS handshake failed
 * (RFC 3326): the stable code, the classified reason and its details, so the b2bua can fail over or pass it on.
 */
export function tlsFailureReason(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const d = (e as { code?: unknown; details?: Record<string, unknown> }).details;
    if ((e as { code?: unknown }).code === 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE' && d?.['tlsFailure']) {
      const f = d['tlsFailure'] as TlsFailure;
      const sipx = typeof d['sipxText'] === 'string' ? `${d['sipxText']}; ` : '';
      const names = f.expected || f.presented
        ? ` (expected ${(f.expected ?? []).join(' ') || '-'}, presented ${(f.presented ?? []).join(' ') || '-'})`
        : '';
      return reasonValue(503, `TLS_HANDSHAKE_FAILED ${f.reason}: ${sipx}${f.code}${names}`);
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
