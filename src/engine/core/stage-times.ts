/** Buckets per doubling, and how many: 1 µs to about 17 s. */
const PER_OCTAVE = 4;
const BUCKETS = 24 * PER_OCTAVE + 1;

/** Upper bound (µs) of bucket `i`: bucket 0 holds under 1 µs, bucket i holds up to 2^(i/4) µs. */
export function bucketUpperUs(i: number): number {
  return i === 0 ? 1 : 2 ** (i / PER_OCTAVE);
}

export interface DurationSummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Count per bucket (bucketUpperUs), so that two readings can be subtracted for a window of their own. */
  buckets: number[];
}

/** Durations on a log scale, 4 buckets per doubling (each within 19% of its value); recording allocates nothing. */
export class DurationHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sumUs = 0;
  #maxUs = 0;

  record(us: number): void {
    const i = us < 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log2(us) * PER_OCTAVE));
    this.#counts[i]!++;
    this.#count++;
    this.#sumUs += us;
    if (us > this.#maxUs) this.#maxUs = us;
  }

  summary(): DurationSummary {
    const buckets = Array.from(this.#counts);
    return {
      count: this.#count, meanMs: this.#count === 0 ? 0 : this.#sumUs / this.#count / 1000,
      p50Ms: quantileMs(buckets, 0.5), p90Ms: quantileMs(buckets, 0.9), p99Ms: quantileMs(buckets, 0.99),
      maxMs: this.#maxUs / 1000, buckets,
    };
  }
}

/** The upper bound (ms) of the bucket holding quantile `q` of the counts (0 when empty). */
export function quantileMs(buckets: readonly number[], q: number): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const want = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= want) return bucketUpperUs(i) / 1000;
  }
  return bucketUpperUs(buckets.length - 1) / 1000;
}

/** The stages of one call through the engine that are timed. */
export type StageName =
  /** A message in hand (datagram read, or framed off a stream) → parsed. */
  | 'parse'
  /** A new INVITE parsed → handed to the app (its control frame written). */
  | 'ingress'
  /** A new INVITE handed to the app → the app's first answer to it arrives (the app and the control connection). */
  | 'app'
  /** An app's command arrives → the SIP message it asked for is on the socket (serialize, route, send). */
  | 'egress'
  /** A new INVITE in hand → the engine's own 100 Trying on the socket. */
  | 'trying';

export const STAGES: readonly StageName[] = ['parse', 'ingress', 'app', 'egress', 'trying'];

export interface StageSummary {
  stages: Record<StageName, DurationSummary>;
}

/**
 * Per-stage timings of the engine thread (one instance per thread: the timestamps it keeps are the message in hand
 * on this thread right now). The transport marks when a message is in hand and parsed; the core marks the rest. Each
 * mark is a `performance.now()` and a histogram increment.
 */
export class StageTimes {
  readonly #h: Record<StageName, DurationHistogram> = {
    parse: new DurationHistogram(), ingress: new DurationHistogram(), app: new DurationHistogram(),
    egress: new DurationHistogram(), trying: new DurationHistogram(),
  };
  /** When the message being handled arrived and was parsed (0: none in hand). */
  #inHandAt = 0;
  #parsedAt = 0;
  /** A message is in hand (the transport, before it parses). */
  received(): void {
    this.#inHandAt = performance.now();
    this.#parsedAt = 0;
  }

  /** The message in hand is parsed. */
  parsed(): void {
    if (this.#inHandAt === 0) return;
    this.#parsedAt = performance.now();
    this.#h.parse.record((this.#parsedAt - this.#inHandAt) * 1000);
  }

  /** The engine's 100 Trying to the INVITE in hand is on the socket. */
  trying(): void {
    if (this.#inHandAt !== 0) this.#h.trying.record((performance.now() - this.#inHandAt) * 1000);
  }

  /** The new INVITE in hand was handed to the app; returns the time, for `answered`. */
  handedToApp(): number {
    const now = performance.now();
    if (this.#parsedAt !== 0) this.#h.ingress.record((now - this.#parsedAt) * 1000);
    return now;
  }

  /** The app's first answer to a new INVITE handed to it at `handedAt` arrived. */
  answered(handedAt: number): void {
    this.#h.app.record((performance.now() - handedAt) * 1000);
  }

  /** An app command that arrived at `arrivedAt` (performance.now()) has its message on the socket. */
  sent(arrivedAt: number): void {
    this.#h.egress.record((performance.now() - arrivedAt) * 1000);
  }

  summary(): StageSummary {
    const stages = {} as Record<StageName, DurationSummary>;
    for (const s of STAGES) stages[s] = this.#h[s].summary();
    return { stages };
  }
}
