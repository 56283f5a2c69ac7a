import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../common/index.js';
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

/** What the bounds of one resolution cut: counted and logged by the caller (middleware/resolve-target.ts). */
export interface ResolveCaps {
  /** NAPTR or SRV records past maxSrvRecords, not used. */
  records?: number;
  /** A and AAAA addresses past maxAddressesPerName, not used. */
  addresses?: number;
  /** The deadline passed: the targets are those found before it. */
  deadline?: true;
}

export type ResolveResult =
  | { ok: true; targets: ResolvedTarget[]; capped?: ResolveCaps }
  | { ok: false; code: 'ERR_B2BUA_DNS' | 'ERR_B2BUA_DNS_DEADLINE'; reason: string };

/** The bounds of one resolution; each absent: the resolver's own. */
export interface ResolveLimits {
  /** NAPTR records, and SRV records of one name, used (in their order). */
  maxSrvRecords?: number;
  /** A and AAAA addresses used per host name. */
  maxAddressesPerName?: number;
  /** The whole resolution's deadline (ms): past it, the targets found so far, or ERR_B2BUA_DNS_DEADLINE. */
  deadlineMs?: number;
  /** How long a failure (or an answer cut short by the deadline) is reused (ms; 0: never). */
  negativeCacheMs?: number;
}

/** `dns:name[:port]` → where to send, for a tenant's transport, within `limits`; never throws. */
export type SipServerResolver = (name: string, port: number | undefined, transport: SipTransport, limits?: ResolveLimits) => Promise<ResolveResult>;

/** The part of node:dns's promise Resolver the lookup uses (a fake or a Resolver pointed at a test server). */
export interface DnsLookups {
  resolveNaptr(name: string): Promise<Array<{ flags: string; service: string; regexp: string; replacement: string; order: number; preference: number }>>;
  resolveSrv(name: string): Promise<Array<{ priority: number; weight: number; port: number; name: string }>>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

/** The bounds a resolution has when neither the resolver's options nor the call name them (gateway.outbound). */
export const RESOLVE_DEFAULTS = { maxSrvRecords: 8, maxAddressesPerName: 8, deadlineMs: 4_000, negativeCacheMs: 30_000, concurrency: 4 } as const;

export interface Rfc3263Options extends ResolveLimits {
  /** Default: a node:dns Resolver on the system's servers (timeout 2 s, 2 tries). */
  dns?: DnsLookups;
  clock?: Clock;
  /** How long an answer is reused (default 30 s; 0: never). */
  cacheMs?: number;
  /** SRV targets looked up at once (default 4). */
  concurrency?: number;
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

/** Answers kept at most (names come from the configuration; this only bounds a mistake). */
const CACHE_NAMES = 1_024;

/** One resolution under way: its bounds, what they cut, and the addresses of the SRV set being looked up. */
interface Resolution {
  readonly limits: Required<ResolveLimits>;
  readonly caps: ResolveCaps;
  /** Per SRV record in order, its addresses once looked up: what the deadline leaves the call with. */
  partial: Array<ResolvedTarget[] | undefined>;
}

/** Runs `fn` over `items` with at most `limit` at once; `fn` must not throw. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The first `max` of `items`; the number left out is added to `caps[field]`. */
function capped<T>(items: readonly T[], max: number, caps: ResolveCaps, field: 'records' | 'addresses'): readonly T[] {
  if (items.length <= max) return items;
  caps[field] = (caps[field] ?? 0) + items.length - max;
  return items.slice(0, max);
}

/**
 * A resolver for `dns:` sipServer targets, per RFC 3263 §4:
 * - a port given skips NAPTR and SRV: A and AAAA of the name, on that port (§4.2);
 * - else NAPTR records of the name with the transport's service (SIP+D2U, SIP+D2T, SIPS+D2T) and the "s" flag,
 *   by order then preference, each replacement looked up as SRV (§4.1);
 * - with no such NAPTR, SRV of `_sip._udp`, `_sip._tcp`, or for TLS `_sips._tcp` then `_sips._tls` (§4.1);
 * - with no SRV either, A and AAAA of the name on the transport's default port, 5060 or 5061 (§4.2).
 * Each SRV target's A then AAAA addresses follow in the SRV order (§4.3, RFC 2782).
 * https://www.rfc-editor.org/rfc/rfc3263#section-4
 *
 * A DNS answer is the network's, so everything it can make us do is bounded: at most maxSrvRecords NAPTR records
 * and SRV records of a name, maxAddressesPerName addresses of a host, the SRV targets looked up `concurrency` at a
 * time, and one deadline on the whole resolution (past it, the targets found so far). What a bound cut is in the
 * answer's `capped`. Identical queries in flight are asked once, and so are identical resolutions. Answers are
 * cached for `cacheMs`, failures (timeouts, SERVFAIL, nothing found) and answers cut by the deadline for
 * `negativeCacheMs` (default 30 s); failures are values with code ERR_B2BUA_DNS or ERR_B2BUA_DNS_DEADLINE.
 */
export function createRfc3263Resolver(options: Rfc3263Options = {}): SipServerResolver {
  const dns: DnsLookups = options.dns ?? new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
  const clock = options.clock ?? systemClock;
  const cacheMs = options.cacheMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? RESOLVE_DEFAULTS.concurrency);
  const random = options.random ?? Math.random;
  const cache = new Map<string, { until: number; result: ResolveResult }>();
  const queries = new Map<string, Promise<unknown[]>>();
  const resolutions = new Map<string, Promise<ResolveResult>>();

  /** One DNS query; the same query asked while it runs shares it. */
  const ask = <T>(type: string, name: string, run: () => Promise<T[]>): Promise<T[]> => {
    const key = `${type} ${name.toLowerCase()}`;
    let p = queries.get(key) as Promise<T[]> | undefined;
    if (p === undefined) {
      p = orEmpty(run()).finally(() => queries.delete(key));
      queries.set(key, p);
    }
    return p;
  };

  const addresses = async (host: string, port: number, transport: SipTransport, domain: string, r: Resolution): Promise<ResolvedTarget[]> => {
    if (isIP(host) !== 0) return [{ address: host, port, transport, domain }];
    const [v4, v6] = await Promise.all([ask('A', host, () => dns.resolve4(host)), ask('AAAA', host, () => dns.resolve6(host))]);
    return capped([...v4, ...v6], r.limits.maxAddressesPerName, r.caps, 'addresses').map((address) => ({ address, port, transport, domain }));
  };

  /** The SRV records' targets, looked up a few at a time; one that fails counts as none unless all fail. */
  const fromSrv = async (srvName: string, transport: SipTransport, domain: string, r: Resolution): Promise<ResolvedTarget[] | undefined> => {
    const records = (await ask('SRV', srvName, () => dns.resolveSrv(srvName))).filter((x) => x.name !== '' && x.name !== '.');
    if (records.length === 0) return undefined;
    const used = capped(orderSrv(records, random), r.limits.maxSrvRecords, r.caps, 'records');
    const found: Array<ResolvedTarget[] | undefined> = [];
    r.partial = found;
    let failure: unknown;
    await eachLimited(used, concurrency, async (x, i) => {
      try {
        found[i] = await addresses(x.name, x.port, transport, domain, r);
      } catch (err) {
        failure ??= err;
        found[i] = [];
      }
    });
    const out = found.flatMap((t) => t ?? []);
    if (out.length === 0 && failure !== undefined) throw failure;
    return out;
  };

  const lookup = async (name: string, port: number | undefined, transport: SipTransport, r: Resolution): Promise<ResolveResult> => {
    if (port !== undefined) {
      const t = await addresses(name, port, transport, name, r);
      return t.length > 0 ? { ok: true, targets: t } : { ok: false, code: 'ERR_B2BUA_DNS', reason: `${name}: no A or AAAA record` };
    }
    const naptr = (await ask('NAPTR', name, () => dns.resolveNaptr(name)))
      .filter((x) => x.flags.toLowerCase() === 's' && x.service.toUpperCase() === NAPTR_SERVICE[transport] && x.replacement !== '')
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    for (const x of capped(naptr, r.limits.maxSrvRecords, r.caps, 'records')) {
      const t = await fromSrv(x.replacement, transport, name, r);
      if (t && t.length > 0) return { ok: true, targets: t };
    }
    for (const prefix of SRV_PREFIXES[transport]) {
      const t = await fromSrv(`${prefix}.${name}`, transport, name, r);
      if (t && t.length > 0) return { ok: true, targets: t };
    }
    const t = await addresses(name, DEFAULT_PORT[transport], transport, name, r);
    return t.length > 0 ? { ok: true, targets: t } : { ok: false, code: 'ERR_B2BUA_DNS', reason: `${name}: no NAPTR, SRV, A or AAAA record for ${transport}` };
  };

  /** One resolution within its deadline: what it found, or what it had found when the deadline passed. */
  const resolveOnce = async (name: string, port: number | undefined, transport: SipTransport, limits: Required<ResolveLimits>): Promise<ResolveResult> => {
    const r: Resolution = { limits, caps: {}, partial: [] };
    let timer: TimerHandle | undefined;
    const deadline = new Promise<undefined>((done) => {
      timer = clock.setTimeout(() => done(undefined), limits.deadlineMs);
    });
    const work = lookup(name, port, transport, r);
    // Past the deadline the queries still run (node:dns cannot cancel one alone); their end is not awaited.
    work.catch(() => undefined);
    let result: ResolveResult;
    try {
      const won = await Promise.race([work, deadline]);
      if (won === undefined) {
        const found = r.partial.flatMap((t) => t ?? []);
        result = found.length > 0
          ? { ok: true, targets: found, capped: { ...r.caps, deadline: true } }
          : { ok: false, code: 'ERR_B2BUA_DNS_DEADLINE', reason: `${name}: no usable answer within ${limits.deadlineMs} ms` };
      } else {
        result = won.ok && (r.caps.records !== undefined || r.caps.addresses !== undefined) ? { ...won, capped: { ...r.caps } } : won;
      }
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      result = { ok: false, code: 'ERR_B2BUA_DNS', reason: `${name}: ${typeof code === 'string' ? code : (err as Error).message}` };
    } finally {
      timer?.cancel();
    }
    return result;
  };

  return (name, port, transport, limits = {}) => {
    const l: Required<ResolveLimits> = {
      negativeCacheMs: Math.max(0, limits.negativeCacheMs ?? options.negativeCacheMs ?? RESOLVE_DEFAULTS.negativeCacheMs),
      maxSrvRecords: Math.max(1, limits.maxSrvRecords ?? options.maxSrvRecords ?? RESOLVE_DEFAULTS.maxSrvRecords),
      maxAddressesPerName: Math.max(1, limits.maxAddressesPerName ?? options.maxAddressesPerName ?? RESOLVE_DEFAULTS.maxAddressesPerName),
      deadlineMs: Math.max(0, limits.deadlineMs ?? options.deadlineMs ?? RESOLVE_DEFAULTS.deadlineMs),
    };
    const key = `${transport} ${name.toLowerCase()} ${port ?? ''} ${l.maxSrvRecords} ${l.maxAddressesPerName}`;
    const hit = cache.get(key);
    if (hit && clock.now() < hit.until) return Promise.resolve(hit.result);
    // The same name asked again while it resolves (every call to a trunk at once) shares the one resolution.
    const running = resolutions.get(key);
    if (running) return running;
    const p = resolveOnce(name, port, transport, l).then((result) => {
      const ttl = result.ok && result.capped?.deadline !== true ? cacheMs : l.negativeCacheMs;
      cache.delete(key);
      if (ttl > 0) {
        if (cache.size >= CACHE_NAMES) cache.delete(cache.keys().next().value as string);
        cache.set(key, { until: clock.now() + ttl, result });
      }
      return result;
    }).finally(() => resolutions.delete(key));
    resolutions.set(key, p);
    return p;
  };
}
