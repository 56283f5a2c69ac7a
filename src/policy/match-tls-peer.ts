import { canonicalIp, normalizeDnsName, wildcardCovers } from '../common/peer-name.js';
import type { TlsPeer } from './types.js';

export interface TlsPeerMatch {
  /** The TLS peer's configured name. */
  readonly name: string;
  /** The presented identity that matched it. */
  readonly identity: string;
  readonly peer: TlsPeer;
}

const TYPED = /^(sip|dns|cn|ip):/i;

function split(id: string): { type: string | undefined; host: string; ip: boolean } {
  const m = TYPED.exec(id);
  const type = m ? m[1]!.toLowerCase() : undefined;
  const host = normalizeDnsName(m ? id.slice(m[0].length) : id);
  // An address is one text however it was written (`::1`, `0:0:0:0:0:0:0:1`), as the TLS layer reports it.
  const ip = canonicalIp(host);
  return { type, host: ip ?? host, ip: ip !== undefined };
}

/**
 * The TLS peer for a list of certificate identities ('sip:h', 'dns:h', 'cn:h', 'ip:a', as the engine
 * reports them). The first identity that matches any TLS peer wins (sipXbridge order). For one identity an
 * exact name beats a `*.domain` name, and a longer wildcard suffix beats a shorter one. A peer name may be
 * typed ('sip:pbx.example') to match that identity type only; an untyped name matches the host of any type, and a
 * name that is an IP address matches `ip:` identities only.
 * Peers restricted to `tenants` are skipped for calls on other tenants. A presented identity holding a
 * wildcard matches nothing.
 */
export function matchTlsPeer(
  identities: readonly string[],
  tlsPeers: Readonly<Record<string, TlsPeer>>,
  tenant?: string,
): TlsPeerMatch | undefined {
  const names = Object.keys(tlsPeers).filter((n) => {
    const t = tlsPeers[n]!.tenants;
    return !t || t.length === 0 || (tenant !== undefined && t.includes(tenant));
  });
  const parsed = names.map((name) => ({ name, ...split(name) }));
  for (const identity of identities) {
    const id = split(identity);
    // RFC 5922 §7.2: a wildcard in a presented identity is no identity at all.
    // https://www.rfc-editor.org/rfc/rfc5922#section-7.2
    if (id.host === '' || id.host.includes('*')) continue;
    // A peer named by an address is matched by an `ip:` identity only, as the TLS layer's own check does
    // (src/tls/identity.ts, matchIdentity): a CN, DNS name or SIP URI that reads `10.0.0.1` is no address.
    const sameType = (p: { type: string | undefined; ip: boolean }) => (p.type === undefined || p.type === id.type) && (!p.ip || id.type === 'ip');
    const exact = parsed.find((p) => sameType(p) && p.host === id.host);
    if (exact) return { name: exact.name, identity, peer: tlsPeers[exact.name]! };
    let best: (typeof parsed)[number] | undefined;
    for (const p of parsed) {
      // The same wildcard rule as the TLS layer's name checks (src/common/peer-name.ts).
      if (!sameType(p) || !p.host.startsWith('*.') || id.type === 'ip') continue;
      if (wildcardCovers(p.host, id.host) && (!best || p.host.length > best.host.length)) best = p;
    }
    if (best) return { name: best.name, identity, peer: tlsPeers[best.name]! };
  }
  return undefined;
}
