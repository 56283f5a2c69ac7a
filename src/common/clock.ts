/** Time and timers, injected so that state machines can be tested without waiting. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock whose time moves only when told to; for unit tests. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return { cancel: () => void this.#timers.delete(id) };
  }

  /** Moves time forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.#timers) {
        if (t.at <= until && (t.at < nextAt || (t.at === nextAt && id < nextId))) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const t = this.#timers.get(nextId)!;
      this.#timers.delete(nextId);
      this.#now = t.at;
      t.fn();
    }
    this.#now = until;
  }

  get pending(): number {
    return this.#timers.size;
  }
}

/**
 * A clock whose timers run after the input already waiting on the event loop. A timer that falls due while the
 * thread was busy fires at the start of the next loop turn, before that turn reads its sockets; a retransmission
 * (Timer A, E, G) or a timeout (B, F, H) would then act although the answer that stops it is already in the socket
 * buffer. Each firing is moved to the check phase of the same turn (setImmediate), after the poll phase has read
 * what arrived, and is dropped if that input cancelled it. Time and ordering of timers are otherwise unchanged.
 */
export function afterInputClock(base: Clock = systemClock): Clock {
  return {
    now: () => base.now(),
    setTimeout(fn, ms) {
      let state: 'armed' | 'due' | 'done' = 'armed';
      let immediate: ReturnType<typeof setImmediate> | undefined;
      const timer = base.setTimeout(() => {
        if (state !== 'armed') return;
        state = 'due';
        immediate = setImmediate(() => {
          if (state !== 'due') return;
          state = 'done';
          fn();
        });
      }, ms);
      return {
        cancel: () => {
          if (state === 'done') return;
          state = 'done';
          timer.cancel();
          if (immediate !== undefined) clearImmediate(immediate);
        },
      };
    },
  };
}
