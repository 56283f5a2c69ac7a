import { lookup } from 'node:dns/promises';
import { GatewayError } from '../../common/gateway-error.js';
import { ipLiteral, unbracket } from './addressing.js';
import type { CoreErrorCode } from './errors.js';

/** Name lookups in flight at once by default: half of libuv's default pool of four threads. */
export const DEFAULT_MAX_NAME_LOOKUPS = 2;
/** How long an answer is used again (dns.lookup gives no TTL), and how many names are kept. */
const CACHE_MS = 10_000;
const CACHE_NAMES = 1_024;

export interface NameLookupsOptions {
  max?: number;
  /** A name was not looked up because `max` were in flight (for the owner's counter and rate-limited line). */
  onRefused?: (host: string, max: number) => void;
  /** The resolver (default: the system's, dns.lookup). */
  lookup?: (host: string) => Promise<string>;
  /** Milliseconds now, for the cache of answers (default Date.now). */
  now?: () => number;
}

/**
 * The engine's lookups of host names it must send to: a Contact, a Route or a Request-URI that names a host
 * instead of an address, often taken from what a peer sent. The system resolver (dns.lookup) runs on libuv's
 * thread pool, four threads by default and shared with file writes (the log, the CDR file), and a name whose
 * servers do not answer holds a thread for seconds; so at most `max` are in flight, and past that a lookup fails at
 * once with ERR_ENGINE_DNS_LIMIT (the request is answered as a failed send). An IP literal needs none, and an
 * answer is used again for 10 s (at most 1,024 names), so a trunk named by host does not take a lookup per call.
 */
export class NameLookups {
  readonly #max: number;
  readonly #onRefused: ((host: string, max: number) => void) | undefined;
  readonly #lookup: (host: string) => Promise<string>;
  readonly #now: () => number;
  /** name → address and when it was looked up; oldest first. */
  readonly #cache = new Map<string, { address: string; at: number }>();
  /** Lookups in flight by name: a second ask for the same name shares the first (and keeps its order). */
  readonly #pending = new Map<string, Promise<string>>();
  #refused = 0;

  constructor(o: NameLookupsOptions = {}) {
    this.#max = Math.max(1, o.max ?? DEFAULT_MAX_NAME_LOOKUPS);
    this.#onRefused = o.onRefused;
    this.#lookup = o.lookup ?? (async (host) => (await lookup(host)).address);
    this.#now = o.now ?? Date.now;
  }

  /** An IP literal as it is (brackets off); a name through the resolver, within the bound. */
  async resolve(host: string): Promise<string> {
    const ip = ipLiteral(host);
    if (ip !== undefined) return ip;
    const name = unbracket(host).toLowerCase();
    const hit = this.#cache.get(name);
    if (hit !== undefined && this.#now() - hit.at < CACHE_MS) return hit.address;
    const pending = this.#pending.get(name);
    if (pending !== undefined) return pending;
    if (this.#pending.size >= this.#max) {
      this.#refused++;
      this.#onRefused?.(host, this.#max);
      throw new GatewayError<CoreErrorCode>('ERR_ENGINE_DNS_LIMIT', `${this.#max} name lookups in flight: ${host.slice(0, 255)} was not looked up`);
    }
    const looking = this.#lookup(name).then((address) => {
      this.#cache.delete(name);
      if (this.#cache.size >= CACHE_NAMES) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(name, { address, at: this.#now() });
      return address;
    }).finally(() => this.#pending.delete(name));
    this.#pending.set(name, looking);
    return looking;
  }

  stats(): { nameLookupsInFlight: number; nameLookupsRefused: number } {
    return { nameLookupsInFlight: this.#pending.size, nameLookupsRefused: this.#refused };
  }
}
