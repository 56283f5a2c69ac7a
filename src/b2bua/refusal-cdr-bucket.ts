import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import { RateLimitedLog } from '../log/index.js';
import { refill, takeToken, type TokenBucket } from '../common/token-bucket.js';
import type { B2buaLogCode } from './errors.js';

/** Refusal CDRs a second for the whole gateway when gateway.limits.refusalCdrsPerSecond is not given (the engine's default). */
export const DEFAULT_REFUSAL_CDRS_PER_SECOND = 50;

export interface RefusalCdrBucketOptions {
  /**
   * CDRs a second, for the whole gateway, of calls the b2bua refuses before any B leg was tried: the same
   * gateway.limits.refusalCdrsPerSecond that bounds the engine's refusal records (burst twice that; 0: none). Default 50.
   */
  perSecond?: number;
  /** Apps taking calls (gateway.workers): each holds its share, perSecond / apps, burst ceil(2 · perSecond / apps). Default 1. */
  apps?: number;
  clock: Clock;
  log: Logger;
}

/** Refusals before any B leg, by whether they got their CDR and `cdr` line (/stats b2bua.refusalCdrs, summed over the apps). */
export interface RefusalCdrCounts {
  written: number;
  /** Past the bucket: answered and counted as any refusal, but no CDR and no `cdr` line. */
  dropped: number;
}

/** What a call's CDR asks before it is written, when the call was refused before any B leg (cdr.ts). */
export interface RefusalCdrGate {
  /** True when this refusal may have its CDR (a token taken); false when it is past the rate (counted, no CDR). */
  admit(): boolean;
}

/**
 * The CDRs of calls the b2bua refuses before any B leg (call rate, call limit, no route, permissions, media policy,
 * Min-SE, draining, …), bounded as the engine bounds its own (src/engine/refusal-records.ts): a token bucket of
 * `perSecond` a second up to twice that, full at the start. The call-rate limiter sheds a flood by refusing it, and
 * a CDR and a log line for each call it sheds would be the flood again, in the log and the CDR store. A refusal past
 * the bucket is answered and counted as before; it is counted here as dropped, and one warn line a minute with
 * ERR_B2BUA_REFUSAL_CDR_RATE says so. Calls that reached a B leg never come here: their CDRs are not capped.
 *
 * With several apps each keeps a bucket of its share (the engine hands new calls to the apps in turn), as a call rate
 * does past the shared table (call-rates.ts): the sum of the shares is the gateway's rate.
 */
export class RefusalCdrBucket implements RefusalCdrGate {
  /** The rate and burst for the whole gateway, as configured. */
  readonly perSecond: number;
  /** This app's share: what its bucket refills at and holds at most. */
  readonly sharePerSecond: number;
  readonly shareBurst: number;
  readonly #clock: Clock;
  readonly #lines: RateLimitedLog;
  readonly #b: TokenBucket;
  readonly #counts: RefusalCdrCounts = { written: 0, dropped: 0 };

  constructor(o: RefusalCdrBucketOptions) {
    this.perSecond = Math.max(0, o.perSecond ?? DEFAULT_REFUSAL_CDRS_PER_SECOND);
    const apps = Math.max(1, o.apps ?? 1);
    this.sharePerSecond = this.perSecond / apps;
    this.shareBurst = Math.ceil((2 * this.perSecond) / apps);
    this.#clock = o.clock;
    this.#lines = new RateLimitedLog(o.log, o.clock, { intervalMs: 60_000, perCode: 1 });
    this.#b = { tokens: this.shareBurst, at: o.clock.now() };
  }

  admit(): boolean {
    const now = this.#clock.now();
    if (now > this.#b.at) refill(this.#b, this.sharePerSecond, this.shareBurst, now);
    if (takeToken(this.#b)) {
      this.#counts.written++;
      return true;
    }
    this.#counts.dropped++;
    // 0 turns these CDRs off: the operator asked for none, so there is nothing to warn about (the count still says how many).
    if (this.perSecond > 0) {
      const code: B2buaLogCode = 'ERR_B2BUA_REFUSAL_CDR_RATE';
      this.#lines.line('warn', code, { refusalCdrsDropped: this.#counts.dropped, perSecond: this.perSecond, sharePerSecond: this.sharePerSecond },
        `b2bua: more than ${this.perSecond} calls a second refused before any B leg: those past it get no CDR and no cdr line (counted in refusalCdrs.dropped)`);
    }
    return false;
  }

  counts(): RefusalCdrCounts {
    return { ...this.#counts };
  }
}
