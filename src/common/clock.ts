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

export interface AfterInputOptions {
  /**
   * How long the input already queued for this thread (in the kernel: received, not yet read) will take to read,
   * in ms; 0 when none. A timer that falls due while this is above 0 waits that long again first.
   */
  backlogMs?: () => number;
  /** The most one timer is put off for the backlog in all (default 2,000 ms), so no timer waits without end. */
  maxDeferMs?: number;
}

/**
 * A clock whose timers run after the input already waiting for the thread. A timer that falls due while the
 * thread was busy fires at the start of the next loop turn, before that turn reads its sockets; a retransmission
 * (Timer A, E, G) or a timeout (B, F, H) would then act although the answer that stops it is already received.
 * Each firing moves to the check phase of the same turn (setImmediate), after the poll phase read what arrived,
 * and is dropped if that input cancelled it. With `backlogMs`, a timer that falls due while the kernel still holds
 * unread input (an overloaded engine) first waits that long, up to `maxDeferMs`: the answer may be in that queue,
 * and a retransmission then only adds to the load.
 */
export function afterInputClock(base: Clock = systemClock, o: AfterInputOptions = {}): Clock {
  const maxDefer = o.maxDeferMs ?? 2_000;
  return {
    now: () => base.now(),
    setTimeout(fn, ms) {
      let state: 'armed' | 'due' | 'done' = 'armed';
      let immediate: ReturnType<typeof setImmediate> | undefined;
      let deferred = 0;
      let timer: TimerHandle;
      const due = (): void => {
        if (state !== 'armed') return;
        const backlog = o.backlogMs?.() ?? 0;
        if (backlog > 0 && deferred < maxDefer) {
          const wait = Math.min(backlog, maxDefer - deferred);
          deferred += wait;
          timer = base.setTimeout(due, wait);
          return;
        }
        state = 'due';
        immediate = setImmediate(() => {
          if (state !== 'due') return;
          state = 'done';
          fn();
        });
      };
      timer = base.setTimeout(due, ms);
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
