/** Fields of one bucket in the Float64Array, per slot. */
const TOKENS = 0;
const AT = 1;
const PER_SECOND = 2;
const BURST = 3;
const FIELDS = 4;
/** Spins on a held lock before it waits in the kernel (the section it guards is a few arithmetic operations). */
const SPINS = 64;

/** Bytes of shared memory for `slots` buckets: a lock word and four numbers each. */
export function rateBucketBytes(slots: number): number {
  return slots * (4 + 4) + slots * FIELDS * 8;
}

/**
 * The call-rate token buckets every b2bua app uses together (gateway.workers N), one per tenant or dial peer that
 * has a `maxCallsPerSecond`, in shared memory at the slot numbers of the shared call counts (app-call-counts.ts).
 * A bucket is four numbers (tokens, when they were counted, the rate and the burst) behind a lock word: an app takes
 * the lock with a compare-and-exchange, refills, takes or reads, and lets go. Atomics order the lock, so what one
 * app wrote inside it is what the next one reads. The rate is the whole gateway's, not a share per app: of a burst
 * of 4, the fourth call passes whichever app it reached, and the fifth is refused whichever app it reached.
 *
 * Times are the apps' own clock (Date.now() in service: one time base for every thread). A bucket whose rate is 0 is
 * unset: the next `configure` starts it full, as a new bucket does in one app.
 */
export class SharedRateBuckets {
  readonly #locks: Int32Array;
  readonly #f: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer, readonly slots: number) {
    // Float64 fields first (8-byte aligned), then the lock words.
    this.#f = new Float64Array(buffer, 0, slots * FIELDS);
    this.#locks = new Int32Array(buffer, slots * FIELDS * 8, slots);
  }

  static create(slots: number): SharedRateBuckets {
    return new SharedRateBuckets(new SharedArrayBuffer(rateBucketBytes(slots)), slots);
  }

  /**
   * Gives slot `i` the rate of a policy (each app does, at start and at each reload; doing it twice changes nothing):
   * an unset bucket starts full; one already counting keeps the tokens it earned at its old rate, at most the new burst.
   */
  configure(i: number, perSecond: number, burst: number, now: number): void {
    const o = this.#lock(i);
    try {
      const f = this.#f;
      if (f[o + PER_SECOND]! > 0) {
        this.#refill(o, now);
        f[o + TOKENS] = Math.min(f[o + TOKENS]!, burst);
      } else {
        f[o + TOKENS] = burst;
        f[o + AT] = now;
      }
      f[o + PER_SECOND] = perSecond;
      f[o + BURST] = burst;
    } finally {
      this.#unlock(i);
    }
  }

  /** Slot `i` has no rate any more: unset, so a rate given again later starts full. */
  unset(i: number): void {
    const o = this.#lock(i);
    this.#f[o + PER_SECOND] = 0;
    this.#unlock(i);
  }

  /** Takes a token: false (and none taken) when the bucket is empty. An unset bucket limits nothing. */
  take(i: number, now: number): boolean {
    const o = this.#lock(i);
    try {
      if (this.#f[o + PER_SECOND]! <= 0) return true;
      if (this.#refill(o, now) < 1) return false;
      this.#f[o + TOKENS]! -= 1;
      return true;
    } finally {
      this.#unlock(i);
    }
  }

  /** Takes a token even from an empty bucket: it goes below 0, and the refill pays that back first. */
  spend(i: number, now: number): void {
    const o = this.#lock(i);
    try {
      if (this.#f[o + PER_SECOND]! > 0) {
        this.#refill(o, now);
        this.#f[o + TOKENS]! -= 1;
      }
    } finally {
      this.#unlock(i);
    }
  }

  /** Tokens now, refilled; an unset bucket (which limits nothing) shows its last burst. */
  tokens(i: number, now: number): number {
    const o = this.#lock(i);
    try {
      return this.#f[o + PER_SECOND]! <= 0 ? this.#f[o + BURST]! : this.#refill(o, now);
    } finally {
      this.#unlock(i);
    }
  }

  /** Refills to `now` (never back in time: the apps' clocks are read at slightly different moments). */
  #refill(o: number, now: number): number {
    const f = this.#f;
    if (now > f[o + AT]!) {
      f[o + TOKENS] = Math.min(f[o + BURST]!, f[o + TOKENS]! + ((now - f[o + AT]!) / 1000) * f[o + PER_SECOND]!);
      f[o + AT] = now;
    }
    return f[o + TOKENS]!;
  }

  /**
   * Takes slot `i`'s lock and returns the offset of its fields. The lock word is 0 when free, 1 when held, 2 when held
   * with an app that may be waiting for it, so letting go wakes a waiter only when there may be one (a futex mutex).
   */
  #lock(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.slots) throw new RangeError(`rate bucket ${i} is not one of ${this.slots}`);
    const locks = this.#locks;
    let c = Atomics.compareExchange(locks, i, 0, 1);
    // The holder is between two instructions of a few-operation section: spin a little before sleeping.
    for (let n = 0; c !== 0 && n < SPINS; n++) c = Atomics.compareExchange(locks, i, 0, 1);
    if (c !== 0) {
      if (c !== 2) c = Atomics.exchange(locks, i, 2);
      while (c !== 0) {
        Atomics.wait(locks, i, 2, 1);
        c = Atomics.exchange(locks, i, 2);
      }
    }
    return i * FIELDS;
  }

  #unlock(i: number): void {
    if (Atomics.exchange(this.#locks, i, 0) === 2) Atomics.notify(this.#locks, i, 1);
  }
}
