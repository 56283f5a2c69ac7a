import type { B2buaDialPeer, SipTransport, TenantPolicy, UrlScheme } from './policy-types.js';
import { ROUTE_HEADER } from './policy-types.js';
import { userPart } from './caller-id.js';

/** One place a B leg can be sent: a dial peer's tenant at one of its sipServer targets. */
export interface BLegTarget {
  dialPeer: string;
  tenant: string;
  transport: SipTransport;
  scheme: UrlScheme;
  /** host:port as configured. */
  server: string;
  uri: string;
  /** Headers for the engine (X-Trunkgate-Route) on TLS legs with a profile. */
  headers: Record<string, string>;
  /** The dial peer's no-answer timeout (ms), when it sets one. */
  noAnswerMs?: number;
}

/** `host:port`, `[v6]:port` or `dns:name[:port]` → host and optional port; undefined when unreadable. */
export function parseServer(text: string): { host: string; port: number | undefined } | undefined {
  const dns = /^dns:([A-Za-z0-9.-]+?)\.?(?::(\d{1,5}))?$/.exec(text);
  if (dns) return { host: dns[1]!, port: dns[2] !== undefined ? Number(dns[2]) : undefined };
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65_535 ? { host: m[1]!, port } : undefined;
}

/**
 * The B-leg Request-URI on a tenant. `sips` is TLS on every hop and names `transport=tls`, because a sips
 * scheme alone does not pick TLS in a drachtio-compatible engine; `sip` over TLS or TCP names its transport.
 * A `tel` tenant gets a SIP URI holding the telephone number with `user=phone`, since a tel URI has no host
 * to send to. The number is a user part as caller-id.ts writes the From's: UTF-8 percent-encoded, so the far end
 * decodes the very number the policy classified (a code point past U+00FF escaped as one byte named another number).
 *
 * RFC 3261 §19.1.6: "a SIP or SIPS URI is created ... the telephone-subscriber ... with the user parameter
 * set to phone".
 * https://www.rfc-editor.org/rfc/rfc3261#section-19.1.6
 */
export function bLegUri(number: string, server: { host: string; port: number | undefined }, transport: SipTransport, scheme: UrlScheme): string {
  const hostport = server.port !== undefined ? `${server.host}:${server.port}` : server.host;
  const user = number !== '' ? `${userPart(number)}@` : '';
  const tp = transport === 'udp' ? '' : `;transport=${transport}`;
  if (scheme === 'sips') return `sips:${user}${hostport};transport=tls`;
  if (scheme === 'tel') return `sip:${user}${hostport}${tp};user=phone`;
  return `sip:${user}${hostport}${tp}`;
}

/** Every target of the dial peers, in order: each dial peer's own sipServer, else its tenant's list. */
export function bLegTargets(
  number: string,
  dialPeers: readonly B2buaDialPeer[],
  tenants: Readonly<Record<string, TenantPolicy>>,
): BLegTarget[] {
  const out: BLegTarget[] = [];
  for (const dp of dialPeers) {
    const tenant = tenants[dp.tenant];
    if (!tenant) continue;
    const servers = dialPeerServers(dp, tenant);
    const scheme = tenant.url ?? 'sip';
    const transport: SipTransport = scheme === 'sips' ? 'tls' : tenant.transport ?? 'udp';
    for (const s of servers) {
      const server = parseServer(s);
      if (!server) continue;
      const headers: Record<string, string> = {};
      if (transport === 'tls' && tenant.tlsProfile !== undefined) headers[ROUTE_HEADER] = `tenant=${dp.tenant};profile=${tenant.tlsProfile}`;
      out.push({
        dialPeer: dp.id, tenant: dp.tenant, transport, scheme, server: s, uri: bLegUri(number, server, transport, scheme), headers,
        ...(dp.noAnswerTimeoutSeconds !== undefined ? { noAnswerMs: dp.noAnswerTimeoutSeconds * 1000 } : {}),
      });
    }
  }
  return out;
}

/**
 * The targets worth trying: those not known to be down (OPTIONS ping). When every one is down they are all
 * kept, in order: a stale mark must never leave a call with nothing to try.
 */
export function liveTargets<T extends { tenant: string; server: string }>(targets: readonly T[], isDown: ((tenant: string, server: string) => boolean) | undefined): T[] {
  if (!isDown) return [...targets];
  const live = targets.filter((t) => !isDown(t.tenant, t.server));
  return live.length > 0 ? live : [...targets];
}

/** The configured servers of a dial peer: its own sipServer, else its tenant's list. */
export function dialPeerServers(dp: B2buaDialPeer, tenant: TenantPolicy | undefined): string[] {
  if (dp.sipServer !== undefined) return [dp.sipServer];
  if (tenant?.sipServer === undefined) return [];
  return typeof tenant.sipServer === 'string' ? [tenant.sipServer] : [...tenant.sipServer];
}
