import type { Clock } from '../../common/clock.js';
import { sourceKey } from './address.js';

/** 400s one source may be sent a second on average (the trusted-source check's 403s have the same default). */
export const DEFAULT_BAD_REQUESTS_PER_SECOND = 5;
/** 400s one source may be sent at once after a quiet spell. */
export const DEFAULT_BAD_REQUEST_BURST = 10;
/** Sources with a bucket at most; past it the buckets that filled up again go, else the oldest tenth. */
const MAX_SOURCES = 10_000;

interface Bucket {
  tokens: number;
  /** When the tokens were last counted (ms). */
  at: number;
}

/**
 * The bound on 400s answered per source: a token bucket per source (sourceKey: the address, an IPv6 one's /64). A
 * request that cannot be parsed is answered before anything judged its source, and a UDP source may be forged, so
 * without a bound every bad datagram would send a 400 to whoever its source names.
 */
export class BadRequestRate {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #buckets = new Map<string, Bucket>();

  constructor(clock: Pick<Clock, 'now'>, ratePerSecond = DEFAULT_BAD_REQUESTS_PER_SECOND, burst = DEFAULT_BAD_REQUEST_BURST) {
    this.#clock = clock;
    this.#rate = ratePerSecond;
    this.#burst = Math.max(1, burst);
  }

  /** Sources holding a bucket now. */
  get sources(): number {
    return this.#buckets.size;
  }

  /** Whether one more 400 may go to `address`; takes its token when so. */
  take(address: string): boolean {
    const now = this.#clock.now();
    const source = sourceKey(address);
    let b = this.#buckets.get(source);
    if (b) {
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) * this.#rate) / 1000);
      b.at = now;
    } else {
      if (this.#buckets.size >= MAX_SOURCES) this.#evict(now);
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(source, b);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #evict(now: number): void {
    const before = this.#buckets.size;
    for (const [source, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) * this.#rate) / 1000 >= this.#burst) this.#buckets.delete(source);
    }
    if (this.#buckets.size < before) return;
    let n = Math.max(1, Math.floor(before / 10));
    for (const source of this.#buckets.keys()) {
      if (n-- <= 0) break;
      this.#buckets.delete(source);
    }
  }
}
