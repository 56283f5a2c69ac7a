import { isIP, type BlockList } from 'node:net';
import { addressList } from '../../common/address-list.js';
import type { SipRequest } from '../../sip/message/types.js';

/**
 * A tenant behind a SIP proxy that terminates the carrier's mutual TLS (Kamailio with its dispatcher in front of
 * several gateways): the proxy puts the certificate's verified names in `header`, and the engine takes them as
 * the TLS peer's identities only when the request comes from one of `trustedFrom` (addresses or CIDRs).
 */
export interface ProxyIdentityTenant {
  tenant: string;
  /** Header name as configured (`X-Carrier-Identity`); matched without case. */
  header: string;
  trustedFrom: string[];
}

export interface ProxyIdentityStats {
  /** Requests whose identities were taken from a trusted proxy. */
  taken: number;
  /** Copies of a proxy identity header removed because the source or the tenant does not allow it. */
  ignored: number;
}

/** What the proxy vouched for: the names to treat as verified TLS identities (origin `proxy`). */
export interface ProxyIdentities {
  identities: string[];
}

/** A name the proxy may put in the list: `dns:`/`sip:` forms of SAN DNS names, SAN URIs, or a CN. */
const NAME = /^[A-Za-z0-9*][A-Za-z0-9.*:@_+-]{0,252}$/;

/** `sip:a.example, dns:b.example` or `b.example` (bare names are DNS names): at most 16, each checked. */
export function parseIdentityList(value: string): string[] {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const s = raw.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (s === '' || !NAME.test(s)) continue;
    const id = s.startsWith('sip:') || s.startsWith('dns:') ? s : `dns:${s}`;
    if (!out.includes(id)) out.push(id);
    if (out.length === 16) break;
  }
  return out;
}

interface Rules {
  byTenant: Map<string, { header: string; from: BlockList }>;
  /** Every configured header name, lower case. */
  headers: Set<string>;
}

function rules(tenants: ProxyIdentityTenant[]): Rules {
  const byTenant = new Map<string, { header: string; from: BlockList }>();
  for (const t of tenants) byTenant.set(t.tenant, { header: t.header.toLowerCase(), from: addressList(t.trustedFrom) });
  return { byTenant, headers: new Set([...byTenant.values()].map((t) => t.header)) };
}

/**
 * Reads and removes every configured proxy identity header of a request before an app sees it. The names are
 * returned only for the tenant that configured the header and only from its trusted proxy addresses; from any
 * other source the header is dropped and counted (`onIgnored` logs it, rate-limited, as ERR_ENGINE_PROXY_IDENTITY_UNTRUSTED).
 */
export class ProxyIdentity {
  readonly stats: ProxyIdentityStats = { taken: 0, ignored: 0 };
  /** The rules in force, read once per request: replace() swaps all of them at once. */
  #rules: Rules;
  readonly #onIgnored: ((source: string, tenant: string | undefined) => void) | undefined;

  constructor(tenants: ProxyIdentityTenant[], onIgnored?: (source: string, tenant: string | undefined) => void) {
    this.#rules = rules(tenants);
    this.#onIgnored = onIgnored;
  }

  get empty(): boolean {
    return this.#rules.headers.size === 0;
  }

  /** New rules (a configuration reload), built whole before the swap; the counters go on. */
  replace(tenants: ProxyIdentityTenant[]): void {
    this.#rules = rules(tenants);
  }

  take(request: SipRequest, source: string, tenant: string | undefined): ProxyIdentities | undefined {
    const { byTenant, headers } = this.#rules;
    if (headers.size === 0 || !request.headers.some((h) => headers.has(h.name))) return undefined;
    const own = tenant !== undefined ? byTenant.get(tenant) : undefined;
    const family = isIP(source);
    const trusted = own !== undefined && family !== 0 && own.from.check(source, family === 4 ? 'ipv4' : 'ipv6');
    const values: string[] = [];
    let w = 0;
    for (const h of request.headers) {
      if (!headers.has(h.name)) { request.headers[w++] = h; continue; }
      if (trusted && h.name === own.header) values.push(h.value);
    }
    request.headers.length = w;
    if (!trusted) {
      this.stats.ignored++;
      this.#onIgnored?.(source, tenant);
      return undefined;
    }
    const identities = parseIdentityList(values.join(','));
    if (identities.length === 0) return undefined;
    this.stats.taken++;
    return { identities };
  }
}
