import type { CallControl } from './supervise-legs.js';

/**
 * The connected calls of the b2bua, so a shutdown can end what is left of them. A call leaves the set when it
 * ends; `drained()` resolves when none is left.
 */
export class ActiveCalls {
  readonly #calls = new Set<CallControl>();
  #waiters: Array<() => void> = [];

  get size(): number {
    return this.#calls.size;
  }

  add(call: CallControl): void {
    if (call.ended) return;
    this.#calls.add(call);
    call.onEnd(() => {
      this.#calls.delete(call);
      if (this.#calls.size === 0) for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** Ends every call with a BYE carrying `reason` on each leg. */
  endAll(cause: string, reason: string): number {
    const n = this.#calls.size;
    for (const c of [...this.#calls]) c.end(cause, reason);
    return n;
  }

  /** Resolves when no call is up (at once when none is). */
  drained(): Promise<void> {
    if (this.#calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
