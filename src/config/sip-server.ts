import { isIP } from 'node:net';

/** Where a tenant's calls go: a fixed host and port, or a name resolved by RFC 3263. */
export type SipServerTarget =
  | { kind: 'static'; host: string; port: number }
  | { kind: 'dns'; name: string; port: number | undefined };

const NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function port(s: string | undefined): number | undefined | null {
  if (s === undefined) return undefined;
  if (!/^\d{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 65_535 ? n : null;
}

/**
 * `host:port` (host a name, an IPv4 literal or `[IPv6]`), or `dns:name[:port]`: the name is resolved by
 * RFC 3263 NAPTR, SRV, then A/AAAA (the port, when given, skips NAPTR and SRV, §4.2).
 * https://www.rfc-editor.org/rfc/rfc3263#section-4.2
 */
export function parseSipServer(text: string): SipServerTarget | undefined {
  if (text.startsWith('dns:')) {
    const m = /^dns:([^:]+)(?::(\d+))?$/.exec(text);
    if (!m || !NAME.test(m[1]!) || isIP(m[1]!) !== 0) return undefined;
    const p = port(m[2]);
    if (p === null) return undefined;
    return { kind: 'dns', name: m[1]!.replace(/\.$/, ''), port: p };
  }
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const rawHost = m[1]!;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (rawHost.startsWith('[') ? isIP(host) !== 6 : !(isIP(host) === 4 || NAME.test(host))) return undefined;
  const p = port(m[2]);
  if (p === null || p === undefined) return undefined;
  return { kind: 'static', host, port: p };
}
