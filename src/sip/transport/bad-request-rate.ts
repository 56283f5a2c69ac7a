import type { Clock } from '../../common/clock.js';
import { sourceKey } from './address.js';
import { SourceBuckets, takeToken } from './source-buckets.js';

/** 400s one source may be sent a second on average (the trusted-source check's 403s have the same default). */
export const DEFAULT_BAD_REQUESTS_PER_SECOND = 5;
/** 400s one source may be sent at once after a quiet spell. */
export const DEFAULT_BAD_REQUEST_BURST = 10;
/** Sources with a bucket at most; past it the buckets that filled up again go, else the oldest tenth. */
const MAX_SOURCES = 10_000;

/**
 * The bound on 400s answered per source: a token bucket per source (sourceKey: the address, an IPv6 one's /64). A
 * request that cannot be parsed is answered before anything judged its source, and a UDP source may be forged, so
 * without a bound every bad datagram would send a 400 to whoever its source names.
 */
export class BadRequestRate {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #buckets: SourceBuckets;

  constructor(clock: Pick<Clock, 'now'>, ratePerSecond = DEFAULT_BAD_REQUESTS_PER_SECOND, burst = DEFAULT_BAD_REQUEST_BURST) {
    this.#clock = clock;
    const full = Math.max(1, burst);
    this.#buckets = new SourceBuckets({ rate: ratePerSecond, burst: full, maxSources: MAX_SOURCES, make: (now) => ({ tokens: full, at: now }) });
  }

  /** Sources holding a bucket now. */
  get sources(): number {
    return this.#buckets.size;
  }

  /** Whether one more 400 may go to `address`; takes its token when so. */
  take(address: string): boolean {
    return takeToken(this.#buckets.of(sourceKey(address), this.#clock.now()));
  }
}
