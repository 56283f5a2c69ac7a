import type { Logger } from 'pino';
import type { Clock } from '../common/clock.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import { sourceKey } from '../sip/transport/address.js';
import { SourceBuckets, takeToken, type TokenBucket } from '../sip/transport/source-buckets.js';
import type { Flow } from '../sip/transport/types.js';

export interface SourceRateOptions {
  /** New requests a second one source address may send, on average; 0 turns the limit off (default 500). */
  ratePerSecond?: number;
  /** Requests a source may send at once after a quiet spell (the bucket's size; default twice the rate). */
  burst?: number;
  /** Past the rate: a 503 with Retry-After and a Reason (reject, default), or no answer at all (drop). */
  action?: 'reject' | 'drop';
  /** 503s sent to one source a second at most; past it the request is dropped (default 20). */
  rejectsPerSecond?: number;
  /** Sources with a bucket at most; past it the fullest buckets go first (default 50,000). */
  maxSources?: number;
}

export type RateVerdict = 'admit' | 'reject' | 'drop';

export interface SourceRateStats {
  admitted: number;
  /** Answered 503 because the source was over its rate. */
  rejected: number;
  /** Left unanswered: over the rate with `action: drop`, or past the 503s a source may get a second. */
  dropped: number;
  /** Sources holding a bucket now. */
  sources: number;
  /** Buckets forgotten because the table was full. */
  evicted: number;
}

interface Bucket extends TokenBucket {
  /** The second the 503s below were sent in, and how many. */
  second: number;
  rejects: number;
}

/**
 * Requests per second per source (Kamailio's pike, CUBE's `call threshold`): a token bucket per source address,
 * `ratePerSecond` tokens a second up to `burst`. Only new requests are charged (the engine asks for requests outside
 * a dialog that match no transaction); in-dialog requests, ACK, CANCEL and retransmissions never are, so a busy
 * source cannot starve its own calls' BYEs. The verdict costs no transaction: a refused request is answered
 * statelessly or not at all.
 */
export class SourceRate {
  readonly #rate: number;
  readonly #burst: number;
  readonly #action: 'reject' | 'drop';
  readonly #rejectsPerSecond: number;
  readonly #clock: Clock;
  readonly #lines: RateLimitedLog;
  readonly #buckets: SourceBuckets<Bucket>;
  readonly #stats: Omit<SourceRateStats, 'sources' | 'evicted'> = { admitted: 0, rejected: 0, dropped: 0 };

  constructor(options: SourceRateOptions, deps: { log: Logger; clock: Clock }) {
    this.#rate = options.ratePerSecond ?? 500;
    this.#burst = Math.max(1, options.burst ?? this.#rate * 2);
    this.#action = options.action ?? 'reject';
    this.#rejectsPerSecond = options.rejectsPerSecond ?? 20;
    const maxSources = Math.max(1, options.maxSources ?? 50_000);
    this.#clock = deps.clock;
    this.#lines = new RateLimitedLog(deps.log, deps.clock, { intervalMs: 60_000 });
    const burst = this.#burst;
    this.#buckets = new SourceBuckets<Bucket>({
      rate: this.#rate, burst, maxSources, make: (now) => ({ tokens: burst, at: now, second: 0, rejects: 0 }),
      // These sources were still paying off their burst: forgotten, each starts again with a full one.
      onForgotOwing: (forgotten) => this.#lines.line('warn', 'ERR_ENGINE_SOURCE_RATE', { maxSources, forgotten },
        `${maxSources} sources tracked: the oldest tenth is forgotten, their rate starts again`, '-table'),
    });
  }

  /** Whether the limit is on at all. */
  get enabled(): boolean {
    return this.#rate > 0;
  }

  stats(): SourceRateStats {
    return { ...this.#stats, sources: this.#buckets.size, evicted: this.#buckets.evicted };
  }

  /** Charges one new request to the flow's source address. */
  take(flow: Flow): RateVerdict {
    if (this.#rate <= 0) return 'admit';
    const now = this.#clock.now();
    const source = sourceKey(flow.remoteAddress);
    const b = this.#buckets.of(source, now);
    if (takeToken(b)) {
      this.#stats.admitted++;
      return 'admit';
    }
    this.#lines.line('warn', 'ERR_ENGINE_SOURCE_RATE', {
      remote: `${flow.remoteAddress}:${flow.remotePort}`, listener: flow.listenerId, protocol: flow.protocol, rate: this.#rate, burst: this.#burst,
    }, `source ${source} sends new requests faster than ${this.#rate}/s (burst ${this.#burst}); refused with ${this.#action === 'reject' ? '503' : 'no answer'}`, source);
    const second = Math.floor(now / 1000);
    if (b.second !== second) {
      b.second = second;
      b.rejects = 0;
    }
    if (this.#action === 'drop' || ++b.rejects > this.#rejectsPerSecond) {
      this.#stats.dropped++;
      return 'drop';
    }
    this.#stats.rejected++;
    return 'reject';
  }
}
