import { lookup } from 'node:dns/promises';
import { systemClock, type Clock } from '../../common/clock.js';
import { GatewayError } from '../../common/gateway-error.js';
import { ipLiteral, unbracket } from './addressing.js';
import type { CoreErrorCode } from './errors.js';

/** Lookups in flight at once for the configuration's names (a trunk's host:port sipServer): half of libuv's pool of four. */
export const DEFAULT_MAX_NAME_LOOKUPS = 2;
/** Lookups in flight at once for names a peer supplied (a Contact, a Record-Route): one more thread of the pool, no more. */
export const DEFAULT_MAX_PEER_NAME_LOOKUPS = 1;
/** How long one ask waits for its lookup before it fails (or takes the last answer known). */
export const DEFAULT_NAME_LOOKUP_TIMEOUT_MS = 3_000;
/** How long an answer is used as it is (dns.lookup gives no TTL), how long it may stand in while a refresh fails, how many names are kept. */
const CACHE_MS = 10_000;
const STALE_MS = 300_000;
const CACHE_NAMES = 1_024;

/** Whose name it is: the configuration's, or one a peer supplied. Each has its own bound on lookups in flight. */
export type NamePool = 'configured' | 'peer';

export interface NameLookupsOptions {
  /** Lookups in flight at once for names a peer supplied (default 1). */
  max?: number;
  /** Lookups in flight at once for names `isConfigured` holds (default 2). */
  maxConfigured?: number;
  /** Whether a name (lower case) is one of the configuration's; default none is. */
  isConfigured?: (name: string) => boolean;
  /** How long an ask waits for its lookup (default 3 s). */
  timeoutMs?: number;
  /** A name was not looked up because its pool was full (for the owner's rate-limited line; counted here). */
  onRefused?: (host: string, max: number, pool: NamePool) => void;
  /** An ask gave up waiting for a lookup (counted here). */
  onTimeout?: (host: string, ms: number) => void;
  /** The resolver (default: the system's, dns.lookup). */
  lookup?: (host: string) => Promise<string>;
  /** Milliseconds now, for the cache of answers (default: the clock's). */
  now?: () => number;
  /** The timers of the timeout (default: the system's). */
  clock?: Clock;
}

/**
 * The engine's lookups of host names it must send to: a Contact, a Route or a Request-URI that names a host
 * instead of an address. The system resolver (dns.lookup) runs on libuv's thread pool, four threads by default and
 * shared with file writes (the log, the CDR file), and a name whose servers do not answer holds a thread for seconds.
 * So:
 * - the configuration's names and the names peers supplied each have their own bound on lookups in flight (2 and
 *   1): a peer's slow names cannot keep a trunk's name from being looked up. Past its bound an ask fails at once
 *   with ERR_ENGINE_DNS_LIMIT. A slot is held until its lookup ends, since until then it holds a thread;
 * - an ask waits at most `timeoutMs` (ERR_ENGINE_DNS_TIMEOUT);
 * - an answer is used again for 10 s (at most 1,024 names). After that the next ask looks the name up again, and
 *   while that refresh runs every other ask gets the last answer at once; so does any ask whose refresh failed,
 *   timed out or found its pool full, for up to 5 minutes (RFC 8767 "serve stale").
 * An IP literal needs no lookup. Asks for a name being looked up share that lookup.
 */
export class NameLookups {
  readonly #pools: Record<NamePool, { max: number; inFlight: number }>;
  readonly #isConfigured: (name: string) => boolean;
  readonly #timeoutMs: number;
  readonly #onRefused: NameLookupsOptions['onRefused'];
  readonly #onTimeout: NameLookupsOptions['onTimeout'];
  readonly #lookup: (host: string) => Promise<string>;
  readonly #clock: Clock;
  readonly #now: () => number;
  /** name → address and when it was looked up; oldest first. */
  readonly #cache = new Map<string, { address: string; at: number }>();
  /** Lookups in flight by name: a second ask for the same name shares the first (and keeps its order). */
  readonly #pending = new Map<string, Promise<string>>();
  #refused = 0;
  #timeouts = 0;
  #stale = 0;

  constructor(o: NameLookupsOptions = {}) {
    this.#pools = {
      configured: { max: Math.max(1, o.maxConfigured ?? DEFAULT_MAX_NAME_LOOKUPS), inFlight: 0 },
      peer: { max: Math.max(1, o.max ?? DEFAULT_MAX_PEER_NAME_LOOKUPS), inFlight: 0 },
    };
    this.#isConfigured = o.isConfigured ?? (() => false);
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_NAME_LOOKUP_TIMEOUT_MS;
    this.#onRefused = o.onRefused;
    this.#onTimeout = o.onTimeout;
    this.#lookup = o.lookup ?? (async (host) => (await lookup(host)).address);
    this.#clock = o.clock ?? systemClock;
    this.#now = o.now ?? (() => this.#clock.now());
  }

  /** An IP literal as it is (brackets off); a name through the resolver, within its pool's bound and the timeout. */
  async resolve(host: string): Promise<string> {
    const ip = ipLiteral(host);
    if (ip !== undefined) return ip;
    const name = unbracket(host).toLowerCase();
    const hit = this.#cache.get(name);
    const age = hit === undefined ? Infinity : this.#now() - hit.at;
    if (hit !== undefined && age < CACHE_MS) return hit.address;
    const stale = hit !== undefined && age < STALE_MS ? hit.address : undefined;
    let pending = this.#pending.get(name);
    if (pending !== undefined && stale !== undefined) return this.#served(stale);
    if (pending === undefined) {
      const poolName: NamePool = this.#isConfigured(name) ? 'configured' : 'peer';
      const pool = this.#pools[poolName];
      if (pool.inFlight >= pool.max) {
        if (stale !== undefined) return this.#served(stale);
        this.#refused++;
        this.#onRefused?.(host, pool.max, poolName);
        throw new GatewayError<CoreErrorCode>('ERR_ENGINE_DNS_LIMIT', `${pool.max} name lookups in flight: ${host.slice(0, 255)} was not looked up`);
      }
      pending = this.#start(name, pool);
    }
    try {
      return await this.#within(pending, host);
    } catch (err) {
      if (stale !== undefined) return this.#served(stale);
      throw err;
    }
  }

  #served(stale: string): string {
    this.#stale++;
    return stale;
  }

  #start(name: string, pool: { inFlight: number }): Promise<string> {
    pool.inFlight++;
    const looking = this.#lookup(name).then((address) => {
      this.#cache.delete(name);
      if (this.#cache.size >= CACHE_NAMES) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(name, { address, at: this.#now() });
      return address;
    }).finally(() => {
      pool.inFlight--;
      this.#pending.delete(name);
    });
    // Every ask may have given up on it (timeout) by the time it fails: its failure is theirs, never unhandled.
    looking.catch(() => undefined);
    this.#pending.set(name, looking);
    return looking;
  }

  /** The lookup's answer, or ERR_ENGINE_DNS_TIMEOUT once `timeoutMs` passes first. */
  #within(looking: Promise<string>, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const ms = this.#timeoutMs;
      const timer = this.#clock.setTimeout(() => {
        this.#timeouts++;
        this.#onTimeout?.(host, ms);
        reject(new GatewayError<CoreErrorCode>('ERR_ENGINE_DNS_TIMEOUT', `${host.slice(0, 255)} not resolved within ${ms} ms`));
      }, ms);
      looking.then(resolve, reject).finally(() => timer.cancel());
    });
  }

  /** Lookups in flight and refused; timeouts and stale answers served once there were any. */
  stats(): { nameLookupsInFlight: number; nameLookupsRefused: number; nameLookupTimeouts?: number; nameLookupsStale?: number } {
    return {
      nameLookupsInFlight: this.#pending.size, nameLookupsRefused: this.#refused,
      ...(this.#timeouts > 0 ? { nameLookupTimeouts: this.#timeouts } : {}), ...(this.#stale > 0 ? { nameLookupsStale: this.#stale } : {}),
    };
  }
}
