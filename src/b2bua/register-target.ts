import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { bLegUri, parseServer } from './b-leg-target.js';
import { ROUTE_HEADER } from './policy-types.js';
import type { RegistrationSpec } from './register-types.js';
import { allowedAddresses, type ResolvedAddressPolicy } from './resolved-address.js';
import type { ResolvedTarget, SipServerResolver } from './rfc3263.js';

/**
 * Where one REGISTER goes: its Request-URI, the address it is sent to when the Request-URI does not name it (an
 * outbound proxy to the engine: docs/control-protocol.md §2.2), the headers that steer the engine, and the address
 * for the status.
 */
export interface RegistrarTarget {
  uri: string;
  proxy?: string;
  headers: Record<string, string>;
  at: string;
}

/** An outbound proxy as the engine reads it: in angle brackets, or its `;transport=` would be taken for a header parameter. */
const routeOf = (uri: string): string => `<${uri}>`;

/**
 * The Request-URI of a REGISTER: "The Request-URI names the domain of the location service for which the
 * registration is meant (for example, "sip:chicago.com"). The "userinfo" and "@" components of the SIP URI MUST
 * NOT be present." The configured domain when there is one, else the registrar as configured.
 * https://www.rfc-editor.org/rfc/rfc3261#section-10.2
 */
function registerUri(s: RegistrationSpec, parsed: { host: string; port: number | undefined }): string {
  if (s.domain !== undefined) return `${s.scheme}:${s.domain}`;
  return `${s.scheme}:${parsed.port !== undefined ? `${parsed.host}:${parsed.port}` : parsed.host}`;
}

/** Whether a resolved registrar address may be sent to, and what to do with one that may not. */
export interface ResolvedScreen {
  policy: ResolvedAddressPolicy;
  refused(target: ResolvedTarget, why: string): void;
}

/**
 * The registrar address for an attempt, or why there is none: a `dns:` registrar's RFC 3263 targets in turn (`next`
 * moves on after a failure), each the gateway may not send to (resolved-address.ts) skipped and handed to
 * `screen.refused`; else its host:port.
 */
export async function registrarTarget(s: RegistrationSpec, next: number, resolve: SipServerResolver | undefined, screen: ResolvedScreen): Promise<RegistrarTarget | string> {
  const parsed = parseServer(s.registrar);
  if (!parsed) return 'the registrar has no address';
  const headers: Record<string, string> = {};
  if (s.transport === 'tls' && s.tlsProfile !== undefined) headers[ROUTE_HEADER] = `tenant=${s.tenant};profile=${s.tlsProfile}`;
  if (s.registrar.startsWith('dns:') && resolve) {
    const r = await resolve(parsed.host, parsed.port, s.transport);
    if (!r.ok || r.targets.length === 0) return 'the registrar has no address';
    const list = allowedAddresses(r.targets, screen.policy, (t, why) => screen.refused(t, why));
    if (list.length === 0) return 'the registrar resolves to no address the gateway may register at';
    const t = list[next % list.length]!;
    const host = t.address.includes(':') ? `[${t.address}]` : t.address;
    if (headers[ROUTE_HEADER] !== undefined) headers[ROUTE_HEADER] += `;domain=${t.domain}`;
    return { uri: registerUri(s, parsed), proxy: routeOf(bLegUri('', { host, port: t.port }, t.transport, s.scheme)), headers, at: `${host}:${t.port}` };
  }
  // A registrar named by host name is sent to at its address, the name kept as the identity its certificate must carry
  // and the SNI (RFC 5922 §4.1). An address with no domain configured is the Request-URI itself.
  const port = parsed.port ?? (s.transport === 'tls' ? 5061 : 5060);
  const bare = parsed.host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) !== 0) {
    const direct = bLegUri('', parsed, s.transport, s.scheme);
    return s.domain === undefined ? { uri: direct, headers, at: `${parsed.host}:${port}` } : { uri: registerUri(s, parsed), proxy: routeOf(direct), headers, at: `${parsed.host}:${port}` };
  }
  const address = await lookup(bare).then((a) => a.address, () => undefined);
  if (address === undefined) return 'the registrar has no address';
  if (headers[ROUTE_HEADER] !== undefined) headers[ROUTE_HEADER] += `;domain=${bare}`;
  const host = address.includes(':') ? `[${address}]` : address;
  return { uri: registerUri(s, parsed), proxy: routeOf(bLegUri('', { host, port }, s.transport, s.scheme)), headers, at: `${host}:${port}` };
}
