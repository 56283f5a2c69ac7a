import type { B2buaPolicy } from './policy-types.js';
import { SharedRateBuckets } from './app-rate-buckets.js';

/** What a limit counts: the calls with a tenant on either leg, or the B legs routed over a dial peer. */
export type LimitScope = 'tenant' | 'dialPeer';

/** Tenants and dial peers (over all reloads) that get a shared count; past it a name falls back to a share per app. */
export const SHARED_NAMES_MAX = 4_096;

/** What a worker needs to count on the same table: the memory, its column, and the names numbered so far. */
export interface SharedCountsInit {
  buffer: SharedArrayBuffer;
  /** The call-rate buckets, at the same slot numbers (app-rate-buckets.ts). */
  rates: SharedArrayBuffer;
  apps: number;
  app: number;
  names: [string, number][];
}

const key = (scope: LimitScope, name: string): string => `${scope}:${name}`;

/**
 * The calls held per tenant and dial peer by every b2bua app together (gateway.workers N), so a `maxCalls` holds for
 * the gateway as configured, not as a share per app. One Int32 per app and name in shared memory: an app adds to its
 * own column, then reads the sum of all columns, and backs out when the sum is past the limit. Atomics are
 * sequentially consistent, so of two apps taking the last slot at once the one whose read comes last sees both adds:
 * the limit is never passed (at worst both back out, and the caller tries the next target). An app that stops has its
 * column cleared by the pool, since the engine ends the calls it held.
 *
 * The pool numbers the names (append-only, at start and at each reload, before the policy reaches any app); a name
 * past SHARED_NAMES_MAX has no number and is counted per app against ceil(maxCalls / N), as before. The same numbers
 * place each name's call-rate bucket in `rates` (app-rate-buckets.ts).
 */
export class SharedCallCounts {
  readonly #view: Int32Array;
  readonly #index = new Map<string, number>();
  readonly #apps: number;
  readonly #own: number;
  /** Names that asked for a number past SHARED_NAMES_MAX (pool only): limited per app. */
  #unnumbered = new Set<string>();

  /** The call-rate buckets of the same names, shared the same way. */
  readonly rates: SharedRateBuckets;

  private constructor(readonly buffer: SharedArrayBuffer, rates: SharedArrayBuffer, apps: number, readonly app: number) {
    this.#view = new Int32Array(buffer);
    this.rates = new SharedRateBuckets(rates, SHARED_NAMES_MAX);
    this.#apps = apps;
    this.#own = app * SHARED_NAMES_MAX;
  }

  /** The pool's table (app 0 is the main thread's), its names numbered from `policy`. */
  static create(apps: number, policy: B2buaPolicy): SharedCallCounts {
    const t = new SharedCallCounts(new SharedArrayBuffer(apps * SHARED_NAMES_MAX * 4), SharedRateBuckets.create(SHARED_NAMES_MAX).buffer, apps, 0);
    t.number(policy);
    return t;
  }

  /** A worker's view of the pool's table. */
  static attach(init: SharedCountsInit): SharedCallCounts {
    const t = new SharedCallCounts(init.buffer, init.rates, init.apps, init.app);
    t.learn(init.names);
    return t;
  }

  /** What worker `app` is started with. */
  initFor(app: number): SharedCountsInit {
    return { buffer: this.buffer, rates: this.rates.buffer, apps: this.#apps, app, names: [...this.#index] };
  }

  /** Numbers the names of `policy` not numbered yet (pool only); the new entries, for the workers. */
  number(policy: B2buaPolicy): [string, number][] {
    const added: [string, number][] = [];
    const add = (k: string): void => {
      if (this.#index.has(k)) return;
      if (this.#index.size >= SHARED_NAMES_MAX) {
        this.#unnumbered.add(k);
        return;
      }
      const n = this.#index.size;
      this.#index.set(k, n);
      added.push([k, n]);
    };
    for (const name of Object.keys(policy.tenants)) add(key('tenant', name));
    for (const d of policy.dialPeers) add(key('dialPeer', d.id));
    return added;
  }

  /** Names (`scope:name`) the table had no room for so far, counted per app (pool only). */
  get unnumbered(): number {
    return this.#unnumbered.size;
  }

  /** Entries the pool numbered (worker only). */
  learn(entries: [string, number][]): void {
    for (const [k, n] of entries) if (n >= 0 && n < SHARED_NAMES_MAX) this.#index.set(k, n);
  }

  /** The number of a name, or undefined when it has none (counted per app). */
  slotOf(scope: LimitScope, name: string): number | undefined {
    return this.#index.get(key(scope, name));
  }

  /** Adds one to this app's count of slot `i`; the total over all apps after it. */
  add(i: number): number {
    Atomics.add(this.#view, this.#own + i, 1);
    return this.total(i);
  }

  /** Takes one from this app's count of slot `i`. */
  sub(i: number): void {
    Atomics.sub(this.#view, this.#own + i, 1);
  }

  /** Calls held on slot `i` by every app. */
  total(i: number): number {
    let n = 0;
    for (let a = 0; a < this.#apps; a++) n += Atomics.load(this.#view, a * SHARED_NAMES_MAX + i);
    return n;
  }

  /** Forgets what app `app` held (pool only, once that app's worker has stopped). */
  clearApp(app: number): void {
    this.#view.fill(0, app * SHARED_NAMES_MAX, (app + 1) * SHARED_NAMES_MAX);
  }
}
