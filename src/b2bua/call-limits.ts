import type { B2buaPolicy } from './policy-types.js';
import type { LimitScope, SharedCallCounts } from './app-call-counts.js';

export type { LimitScope } from './app-call-counts.js';

/** A slot held on a count: `release` gives it back the first time and does nothing after. */
export interface CallSlot {
  release(): void;
}

/** A count found full: its limit as configured and the share of it this app enforces. */
export interface AtLimit {
  scope: LimitScope;
  name: string;
  /** maxCalls as configured, for the whole gateway. */
  max: number;
  /** What this app allows: max when the apps count together (SharedCallCounts), else ceil(max / apps). */
  share: number;
  /** Calls held on it: by every app when they count together, else by this app. */
  held: number;
}

/** The calls held on every tenant and dial peer that has a limit, with that limit (as configured). */
export interface CallLimitsSnapshot {
  tenants: Record<string, { calls: number; max: number }>;
  dialPeers: Record<string, { calls: number; max: number }>;
}

/** One slot on one name of a count; the count's entry goes when its last slot does, so it never goes below 0. */
class HeldSlot implements CallSlot {
  #counts: Map<string, number> | undefined;

  constructor(counts: Map<string, number>, private readonly name: string, private readonly shared?: SharedCallCounts, private readonly i = -1) {
    this.#counts = counts;
  }

  release(): void {
    const counts = this.#counts;
    if (counts === undefined) return;
    this.#counts = undefined;
    this.shared?.sub(this.i);
    const n = counts.get(this.name) ?? 0;
    if (n > 1) counts.set(this.name, n - 1);
    else counts.delete(this.name);
  }
}

/** A B leg's two slots, its dial peer's and its tenant's, given back together. */
class PairSlot implements CallSlot {
  constructor(private readonly a: CallSlot, private readonly b: CallSlot) {}

  release(): void {
    this.a.release();
    this.b.release();
  }
}

/**
 * The concurrent calls of one app, counted per tenant and per dial peer against their `maxCalls`: one map lookup
 * to take a slot and one to give it back. Every call is counted, limited or not, so a limit a reload adds or
 * changes applies at once to the calls already up; counts are kept by name, so the calls of a tenant or dial peer
 * a reload removed still give their slots back when they end. With several apps on the engine (gateway.workers N)
 * they count together in shared memory (SharedCallCounts), so a limit holds for the whole gateway; a name the shared
 * table has no room for is held by each app to ceil(maxCalls / N).
 */
export class CallLimits {
  readonly #held: Record<LimitScope, Map<string, number>> = { tenant: new Map(), dialPeer: new Map() };
  #max: Record<LimitScope, Map<string, number>> = { tenant: new Map(), dialPeer: new Map() };
  readonly #apps: number;

  readonly #shared: SharedCallCounts | undefined;

  constructor(policy?: B2buaPolicy, apps = 1, shared?: SharedCallCounts) {
    this.#apps = Number.isInteger(apps) && apps > 1 ? apps : 1;
    this.#shared = this.#apps > 1 ? shared : undefined;
    if (policy) this.configure(policy);
  }

  /** The limits of a policy (at start and at each reload): they apply to the next slot asked for. */
  configure(policy: B2buaPolicy): void {
    const tenant = new Map<string, number>();
    for (const [name, t] of Object.entries(policy.tenants)) if (t.maxCalls !== undefined) tenant.set(name, t.maxCalls);
    const dialPeer = new Map<string, number>();
    for (const d of policy.dialPeers) if (d.maxCalls !== undefined) dialPeer.set(d.id, d.maxCalls);
    this.#max = { tenant, dialPeer };
  }

  /** Calls this app holds on `name`. */
  held(scope: LimitScope, name: string): number {
    return this.#held[scope].get(name) ?? 0;
  }

  /** The limit on `name` and this app's share of it; undefined when it has none. */
  limitOf(scope: LimitScope, name: string): AtLimit | undefined {
    const max = this.#max[scope].get(name);
    if (max === undefined) return undefined;
    const i = this.#shared?.slotOf(scope, name);
    if (i !== undefined) return { scope, name, max, share: max, held: this.#shared!.total(i) };
    return { scope, name, max, share: Math.ceil(max / this.#apps), held: this.held(scope, name) };
  }

  /** A slot on `name`, or undefined when this app already holds its share of the limit. */
  take(scope: LimitScope, name: string): CallSlot | undefined {
    const counts = this.#held[scope];
    const n = counts.get(name) ?? 0;
    const max = this.#max[scope].get(name);
    const i = this.#shared?.slotOf(scope, name);
    if (i !== undefined) {
      if (this.#shared!.add(i) > (max ?? Infinity)) {
        this.#shared!.sub(i);
        return undefined;
      }
      counts.set(name, n + 1);
      return new HeldSlot(counts, name, this.#shared, i);
    }
    if (max !== undefined && n >= Math.ceil(max / this.#apps)) return undefined;
    counts.set(name, n + 1);
    return new HeldSlot(counts, name);
  }

  /** A B leg's slots on its dial peer and on its tenant, or the first of the two found full (nothing is then held). */
  takeLeg(dialPeer: string, tenant: string): CallSlot | AtLimit {
    const d = this.take('dialPeer', dialPeer);
    if (d === undefined) return this.limitOf('dialPeer', dialPeer)!;
    const t = this.take('tenant', tenant);
    if (t !== undefined) return new PairSlot(d, t);
    d.release();
    return this.limitOf('tenant', tenant)!;
  }

  snapshot(): CallLimitsSnapshot {
    const rows = (scope: LimitScope): Record<string, { calls: number; max: number }> => {
      const out: Record<string, { calls: number; max: number }> = {};
      for (const [name, max] of this.#max[scope]) out[name] = { calls: this.held(scope, name), max };
      return out;
    };
    return { tenants: rows('tenant'), dialPeers: rows('dialPeer') };
  }
}

/** Whether `takeLeg` found a limit rather than taking the slots. */
export function isAtLimit(r: CallSlot | AtLimit): r is AtLimit {
  return (r as Partial<AtLimit>).scope !== undefined;
}

/**
 * Every slot one call holds: its inbound tenant's from admission, and each B leg's while it is attempted (kept
 * once answered). `release` gives them all back once, at the call's end however it ends; a slot added after that
 * is given back at once.
 */
export class CallHold implements CallSlot {
  #slots: CallSlot[] | undefined = [];

  add(slot: CallSlot): void {
    if (this.#slots === undefined) slot.release();
    else this.#slots.push(slot);
  }

  get released(): boolean {
    return this.#slots === undefined;
  }

  release(): void {
    const slots = this.#slots;
    if (slots === undefined) return;
    this.#slots = undefined;
    for (const s of slots) s.release();
  }
}
