import { refill, type TokenBucket } from '../../common/token-bucket.js';

/** A token bucket: `tokens` as counted at `at` (ms) (common/token-bucket.ts). */
export { refill, takeToken, type TokenBucket } from '../../common/token-bucket.js';

/**
 * Token buckets per source, keyed by the caller (sourceKey: an address, an IPv6 one's /64): `rate` tokens a second
 * up to `burst`, at most `maxSources` buckets. The one table behind the engine's request rate per source
 * (engine/source-rate.ts) and the transport's bound on 400s (bad-request-rate.ts). When the table is full, every
 * bucket that has filled up again is forgotten (a full bucket and none are the same); if that frees nothing, the
 * tenth that came first goes, and `onForgotOwing` hears how many of those were still paying off their burst.
 */
export class SourceBuckets<B extends TokenBucket = TokenBucket> {
  readonly #buckets = new Map<string, B>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxSources: number;
  readonly #make: (now: number) => B;
  readonly #onForgotOwing: ((forgotten: number) => void) | undefined;
  /** Buckets forgotten because the table was full. */
  evicted = 0;

  constructor(o: { rate: number; burst: number; maxSources: number; make: (now: number) => B; onForgotOwing?: (forgotten: number) => void }) {
    this.#rate = o.rate;
    this.#burst = o.burst;
    this.#maxSources = Math.max(1, o.maxSources);
    this.#make = o.make;
    this.#onForgotOwing = o.onForgotOwing;
  }

  /** Sources holding a bucket now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** The bucket of `source`, refilled up to `now`; a new one starts full. */
  of(source: string, now: number): B {
    let b = this.#buckets.get(source);
    if (b) {
      refill(b, this.#rate, this.#burst, now);
    } else {
      if (this.#buckets.size >= this.#maxSources) this.#evict(now);
      b = this.#make(now);
      this.#buckets.set(source, b);
    }
    return b;
  }

  #evict(now: number): void {
    const before = this.#buckets.size;
    for (const [source, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) * this.#rate) / 1000 >= this.#burst) this.#buckets.delete(source);
    }
    if (this.#buckets.size === before) {
      let n = Math.max(1, Math.floor(before / 10));
      for (const source of this.#buckets.keys()) {
        if (n-- <= 0) break;
        this.#buckets.delete(source);
      }
      this.#onForgotOwing?.(before - this.#buckets.size);
    }
    this.evicted += before - this.#buckets.size;
  }
}

