import { refill as refillBucket } from '../common/token-bucket.js';
import type { Clock } from '../common/index.js';
import type { LimitScope } from './call-limits.js';
import type { SharedCallCounts } from './app-call-counts.js';
import type { SharedRateBuckets } from './app-rate-buckets.js';
import type { B2buaPolicy } from './policy-types.js';

/** A rate as configured, for the whole gateway: `maxCallsPerSecond` and `callBurst`. */
export interface CallRate {
  /** New calls a second, refilled continuously (fractions allowed). */
  perSecond: number;
  /** Tokens the bucket holds at most: callBurst, or max(1, ceil(perSecond)) when absent. */
  burst: number;
}

/** A bucket found empty: its rate as configured and the share of it this app enforces. */
export interface OverRate {
  scope: LimitScope;
  name: string;
  /** maxCallsPerSecond as configured, for the whole gateway. */
  perSecond: number;
  /** callBurst as configured (or its default), for the whole gateway. */
  burst: number;
  /** What this app allows: perSecond when the apps share the bucket, else perSecond / apps. */
  sharePerSecond: number;
  /** What the bucket this app takes from holds at most: burst when shared, else ceil(burst / apps). */
  shareBurst: number;
}

/** Each tenant's and dial peer's rate as configured and the tokens its bucket holds now (/stats). */
export interface CallRatesSnapshot {
  tenants: Record<string, CallRateRow>;
  dialPeers: Record<string, CallRateRow>;
}

/**
 * perSecond and burst as configured (for the whole gateway); tokens: calls that may start now without waiting, refilled
 * to this instant (below 0 while a debt from calls that raced for the last token is paid back; rounded to 1/1000).
 */
export interface CallRateRow extends CallRate {
  tokens: number;
  /** The apps take from one bucket (app-rate-buckets.ts): these tokens are the gateway's, counted once, not summed. */
  shared?: boolean;
}

/** The burst of a rate: callBurst when given, else max(1, ceil(maxCallsPerSecond)). */
export function burstOf(perSecond: number, callBurst: number | undefined): number {
  return callBurst ?? Math.max(1, Math.ceil(perSecond));
}

/** A bucket as CallRates uses it: this app's own, or one slot of the buckets all apps share. */
interface Bucket {
  rate: CallRate;
  /** What it refills at and holds at most: this app's share, or the whole rate when shared. */
  perSecond: number;
  burst: number;
  readonly shared: boolean;
  /** Tokens now, refilled. */
  refill(now: number): number;
  take(now: number): boolean;
  spend(now: number): void;
}

/** This app's own token bucket: `tokens` as of `at` (clock ms), refilled at `perSecond` up to `burst`. */
class OwnBucket implements Bucket {
  readonly shared = false;
  tokens: number;
  at: number;

  constructor(public rate: CallRate, public perSecond: number, public burst: number, now: number) {
    this.tokens = burst;
    this.at = now;
  }

  /** Tokens now: what was left plus the refill since `at`, at most `burst`. */
  refill(now: number): number {
    if (now > this.at) refillBucket(this, this.perSecond, this.burst, now);
    return this.tokens;
  }

  take(now: number): boolean {
    if (this.refill(now) < 1) return false;
    this.tokens -= 1;
    return true;
  }

  spend(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }
}

/** The gateway's bucket of a name, in shared memory: the whole rate, whichever app takes from it. */
class SharedBucket implements Bucket {
  readonly shared = true;

  constructor(public rate: CallRate, private readonly store: SharedRateBuckets, readonly slot: number, now: number) {
    store.configure(slot, rate.perSecond, rate.burst, now);
  }

  get perSecond(): number {
    return this.rate.perSecond;
  }

  get burst(): number {
    return this.rate.burst;
  }

  refill(now: number): number {
    return this.store.tokens(this.slot, now);
  }

  take(now: number): boolean {
    return this.store.take(this.slot, now);
  }

  spend(now: number): void {
    this.store.spend(this.slot, now);
  }

  unset(): void {
    this.store.unset(this.slot);
  }
}

/**
 * The rate of new calls of one app, a token bucket per tenant (the calls it sends us) and per dial peer (the B-leg
 * attempts placed over it) that has a `maxCallsPerSecond`: a bucket holds `callBurst` tokens and is refilled at
 * maxCallsPerSecond; a call takes one token, and an empty bucket refuses it. One map lookup and a few operations per
 * check. With several apps on the engine (gateway.workers N) they take from one bucket per name in shared memory
 * (app-rate-buckets.ts, numbered with the shared call counts), so a rate holds for the gateway as configured; a name
 * the shared table has no room for gets a bucket in each app that refills at maxCallsPerSecond / N and holds at most
 * ceil(callBurst / N). A reload applies its rates to the buckets already there, keeping their tokens (at most the new
 * burst); a new bucket starts full, and the bucket of a name that no longer has a rate goes.
 */
export class CallRates {
  #buckets: Record<LimitScope, Map<string, Bucket>> = { tenant: new Map(), dialPeer: new Map() };
  readonly #apps: number;
  readonly #shared: SharedCallCounts | undefined;

  constructor(private readonly clock: Clock, policy?: B2buaPolicy, apps = 1, shared?: SharedCallCounts) {
    this.#apps = Number.isInteger(apps) && apps > 1 ? apps : 1;
    this.#shared = this.#apps > 1 ? shared : undefined;
    if (policy) this.configure(policy);
  }

  /** The rates of a policy (at start and at each reload): they apply to the next call. */
  configure(policy: B2buaPolicy): void {
    const now = this.clock.now();
    const scope = (kind: LimitScope, old: Map<string, Bucket>, rates: Iterable<[string, number | undefined, number | undefined]>): Map<string, Bucket> => {
      const out = new Map<string, Bucket>();
      for (const [name, perSecond, callBurst] of rates) {
        if (perSecond === undefined) continue;
        const rate = { perSecond, burst: burstOf(perSecond, callBurst) };
        const slot = this.#shared?.slotOf(kind, name);
        if (slot !== undefined) {
          // Configuring the shared slot again keeps its tokens (at most the new burst), whichever app does it first.
          out.set(name, new SharedBucket(rate, this.#shared!.rates, slot, now));
          continue;
        }
        const share = perSecond / this.#apps;
        const shareBurst = Math.ceil(rate.burst / this.#apps);
        const b = old.get(name);
        if (!(b instanceof OwnBucket)) {
          out.set(name, new OwnBucket(rate, share, shareBurst, now));
          continue;
        }
        // Tokens earned at the old rate up to now are kept, at most the new burst.
        b.refill(now);
        b.rate = rate;
        b.perSecond = share;
        b.burst = shareBurst;
        b.tokens = Math.min(b.tokens, shareBurst);
        out.set(name, b);
      }
      for (const [name, b] of old) if (b instanceof SharedBucket && !out.has(name)) b.unset();
      return out;
    };
    this.#buckets = {
      tenant: scope('tenant', this.#buckets.tenant, Object.entries(policy.tenants).map(([n, t]) => [n, t.maxCallsPerSecond, t.callBurst])),
      dialPeer: scope('dialPeer', this.#buckets.dialPeer, policy.dialPeers.map((d) => [d.id, d.maxCallsPerSecond, d.callBurst])),
    };
  }

  /** Whether `name` has a token now (none is taken); true when it has no rate. */
  allows(scope: LimitScope, name: string): boolean {
    const b = this.#buckets[scope].get(name);
    return b === undefined || b.refill(this.clock.now()) >= 1;
  }

  /** Takes a token from `name`: false (and nothing taken) when its bucket is empty; true when it has no rate. */
  take(scope: LimitScope, name: string): boolean {
    const b = this.#buckets[scope].get(name);
    return b === undefined || b.take(this.clock.now());
  }

  /**
   * Takes a token from `name` even when another call took the last one since `allows` said yes (while that call's
   * offer was prepared): the bucket then goes below zero and the refill pays the debt before the next call passes.
   */
  spend(scope: LimitScope, name: string): void {
    this.#buckets[scope].get(name)?.spend(this.clock.now());
  }

  /** Tokens this app's bucket of `name` holds now; undefined when it has no rate. */
  tokens(scope: LimitScope, name: string): number | undefined {
    return this.#buckets[scope].get(name)?.refill(this.clock.now());
  }

  /** Every bucket's rate as configured and its tokens now, refilled (an app's own bucket: its share of them). */
  snapshot(): CallRatesSnapshot {
    const now = this.clock.now();
    const rows = (scope: LimitScope): Record<string, CallRateRow> => {
      const out: Record<string, CallRateRow> = {};
      for (const [name, b] of this.#buckets[scope]) {
        out[name] = { ...b.rate, tokens: Math.round(b.refill(now) * 1000) / 1000, ...(b.shared ? { shared: true } : {}) };
      }
      return out;
    };
    return { tenants: rows('tenant'), dialPeers: rows('dialPeer') };
  }

  /** The rate of `name` and this app's share of it; undefined when it has none. */
  rateOf(scope: LimitScope, name: string): OverRate | undefined {
    const b = this.#buckets[scope].get(name);
    return b === undefined ? undefined
      : { scope, name, perSecond: b.rate.perSecond, burst: b.rate.burst, sharePerSecond: b.perSecond, shareBurst: b.burst };
  }
}
