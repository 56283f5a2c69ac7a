import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../common/index.js';
import type { SipTransport } from './policy-types.js';

/** One address a `dns:` target resolved to, in the order to try it. */
export interface ResolvedTarget {
  /** An IP address (IPv6 without brackets). */
  address: string;
  port: number;
  transport: SipTransport;
  /** The name the administrator configured: the identity a TLS server must present (RFC 5922 §4.1). */
  domain: string;
}

export type ResolveResult =
  | { ok: true; targets: ResolvedTarget[] }
  | { ok: false; code: 'ERR_B2BUA_DNS'; reason: string };

/** `dns:name[:port]` → where to send, for a tenant's transport; never throws. */
export type SipServerResolver = (name: string, port: number | undefined, transport: SipTransport) => Promise<ResolveResult>;

/** The part of node:dns's promise Resolver the lookup uses (a fake or a Resolver pointed at a test server). */
export interface DnsLookups {
  resolveNaptr(name: string): Promise<Array<{ flags: string; service: string; regexp: string; replacement: string; order: number; preference: number }>>;
  resolveSrv(name: string): Promise<Array<{ priority: number; weight: number; port: number; name: string }>>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface Rfc3263Options {
  /** Default: a node:dns Resolver on the system's servers (timeout 2 s, 2 tries). */
  dns?: DnsLookups;
  clock?: Clock;
  /** How long an answer is reused (default 30 s; 0: never). */
  cacheMs?: number;
  /** For RFC 2782's weighted choice among SRV records of one priority (default Math.random). */
  random?: () => number;
}

/** NAPTR services per transport (RFC 3263 §4.1, RFC 3261 §26.2 for SIPS over TCP). */
const NAPTR_SERVICE: Record<SipTransport, string> = { udp: 'SIP+D2U', tcp: 'SIP+D2T', tls: 'SIPS+D2T' };

/**
 * SRV names tried without NAPTR. For TLS `_sips._tcp` is the standard name (RFC 3263 §4.1, RFC 5630 §3.1.3);
 * `_sips._tls` is what some carriers publish instead, so it is the fallback.
 */
const SRV_PREFIXES: Record<SipTransport, string[]> = { udp: ['_sip._udp'], tcp: ['_sip._tcp'], tls: ['_sips._tcp', '_sips._tls'] };

const DEFAULT_PORT: Record<SipTransport, number> = { udp: 5060, tcp: 5060, tls: 5061 };

/** "no such name" and "no record of that type" are answers, not failures. */
function isNoData(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ENODATA' || code === 'ENOTFOUND' || code === 'ENONAME' || code === 'NXDOMAIN';
}

async function orEmpty<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (err) {
    if (isNoData(err)) return [];
    throw err;
  }
}

/**
 * RFC 2782: lowest priority first; within one priority, a weighted random order (a record of weight 0 has
 * a small chance, others in proportion to their weight).
 */
export function orderSrv<T extends { priority: number; weight: number }>(records: readonly T[], random: () => number = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: T[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Zero-weight records first, so they keep a small chance (RFC 2782, "Usage rules").
    const left = [...byPriority.get(p)!].sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (left.length > 0) {
      const total = left.reduce((s, r) => s + r.weight, 0);
      const pick = random() * total;
      let sum = 0;
      let i = 0;
      for (; i < left.length - 1; i++) {
        sum += left[i]!.weight;
        if (sum > pick || (total === 0)) break;
      }
      out.push(left.splice(i, 1)[0]!);
    }
  }
  return out;
}

/**
 * A resolver for `dns:` sipServer targets, per RFC 3263 §4:
 * - a port given skips NAPTR and SRV: A and AAAA of the name, on that port (§4.2);
 * - else NAPTR records of the name with the transport's service (SIP+D2U, SIP+D2T, SIPS+D2T) and the "s" flag,
 *   by order then preference, each replacement looked up as SRV (§4.1);
 * - with no such NAPTR, SRV of `_sip._udp`, `_sip._tcp`, or for TLS `_sips._tcp` then `_sips._tls` (§4.1);
 * - with no SRV either, A and AAAA of the name on the transport's default port, 5060 or 5061 (§4.2).
 * Each SRV target's A then AAAA addresses follow in the SRV order (§4.3, RFC 2782). Answers are cached for
 * `cacheMs`. Failures (timeouts, SERVFAIL, nothing found) are values with code ERR_B2BUA_DNS.
 * https://www.rfc-editor.org/rfc/rfc3263#section-4
 */
export function createRfc3263Resolver(options: Rfc3263Options = {}): SipServerResolver {
  const dns: DnsLookups = options.dns ?? new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
  const clock = options.clock ?? systemClock;
  const cacheMs = options.cacheMs ?? 30_000;
  const random = options.random ?? Math.random;
  const cache = new Map<string, { at: number; result: ResolveResult }>();

  const addresses = async (host: string, port: number, transport: SipTransport, domain: string): Promise<ResolvedTarget[]> => {
    if (isIP(host) !== 0) return [{ address: host, port, transport, domain }];
    const [v4, v6] = await Promise.all([orEmpty(dns.resolve4(host)), orEmpty(dns.resolve6(host))]);
    return [...v4, ...v6].map((address) => ({ address, port, transport, domain }));
  };

  const fromSrv = async (srvName: string, transport: SipTransport, domain: string): Promise<ResolvedTarget[] | undefined> => {
    const records = (await orEmpty(dns.resolveSrv(srvName))).filter((r) => r.name !== '' && r.name !== '.');
    if (records.length === 0) return undefined;
    const out: ResolvedTarget[] = [];
    for (const r of orderSrv(records, random)) out.push(...(await addresses(r.name, r.port, transport, domain)));
    return out;
  };

  const lookup = async (name: string, port: number | undefined, transport: SipTransport): Promise<ResolveResult> => {
    if (port !== undefined) {
      const t = await addresses(name, port, transport, name);
      return t.length > 0 ? { ok: true, targets: t } : { ok: false, code: 'ERR_B2BUA_DNS', reason: `${name}: no A or AAAA record` };
    }
    const naptr = (await orEmpty(dns.resolveNaptr(name)))
      .filter((r) => r.flags.toLowerCase() === 's' && r.service.toUpperCase() === NAPTR_SERVICE[transport] && r.replacement !== '')
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    for (const r of naptr) {
      const t = await fromSrv(r.replacement, transport, name);
      if (t && t.length > 0) return { ok: true, targets: t };
    }
    for (const prefix of SRV_PREFIXES[transport]) {
      const t = await fromSrv(`${prefix}.${name}`, transport, name);
      if (t && t.length > 0) return { ok: true, targets: t };
    }
    const t = await addresses(name, DEFAULT_PORT[transport], transport, name);
    return t.length > 0 ? { ok: true, targets: t } : { ok: false, code: 'ERR_B2BUA_DNS', reason: `${name}: no NAPTR, SRV, A or AAAA record for ${transport}` };
  };

  return async (name, port, transport) => {
    const key = `${transport} ${name.toLowerCase()} ${port ?? ''}`;
    const hit = cache.get(key);
    if (hit && clock.now() - hit.at < cacheMs) return hit.result;
    let result: ResolveResult;
    try {
      result = await lookup(name, port, transport);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      result = { ok: false, code: 'ERR_B2BUA_DNS', reason: `${name}: ${typeof code === 'string' ? code : (err as Error).message}` };
    }
    // Only answers are kept: a timeout is retried on the next call.
    if (result.ok && cacheMs > 0) cache.set(key, { at: clock.now(), result });
    return result;
  };
}
