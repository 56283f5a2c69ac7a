import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { TransportProtocol } from '../../sip/transport/types.js';
import type { UriLite } from './sip-text.js';

/** `[v6]` for IPv6 literals written in a hostport, anything else as it is. */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** The transport a URI asks for with `;transport=` (udp when absent; `sips:` alone does not force TLS). */
export function transportOf(u: UriLite): TransportProtocol {
  const t = u.params.get('transport');
  if (t) {
    const l = t.toLowerCase();
    if (l === 'tcp' || l === 'tls' || l === 'udp') return l;
  }
  return 'udp';
}

/** A route URI with the loose-routing `lr` parameter (https://www.rfc-editor.org/rfc/rfc3261#section-16.6). */
export function withLr(uri: string): string {
  return /;lr\b/i.test(uri) ? uri : `${uri};lr`;
}

/** The default port of a transport (https://www.rfc-editor.org/rfc/rfc3261#section-19.1.2). */
export function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'tls' ? 5061 : 5060;
}

/** An IP literal as it is; a name through the system resolver. */
export async function resolveHost(host: string): Promise<string> {
  const h = unbracket(host);
  if (isIP(h) !== 0) return h;
  const r = await lookup(h);
  return r.address;
}
