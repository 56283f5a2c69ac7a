/** Time and timers, injected so that state machines can be tested without waiting. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/**
 * A Node timer as a TimerHandle: one object beside Node's own, no closure. The engine holds tens of thousands of
 * 32 s transaction timers under load; every object one keeps alive is copied by each young-generation collection
 * until it is promoted.
 */
class NodeTimer implements TimerHandle {
  readonly #t: ReturnType<typeof setTimeout>;

  constructor(fn: () => void, ms: number) {
    this.#t = setTimeout(fn, ms);
    this.#t.unref?.();
  }

  cancel(): void {
    clearTimeout(this.#t);
  }
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => new NodeTimer(fn, ms),
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
  const shared: AfterInputShared = { base, backlogMs: o.backlogMs, maxDefer: o.maxDeferMs ?? 2_000 };
  return {
    now: () => base.now(),
    setTimeout: (fn, ms) => new AfterInputTimer(shared, fn, ms),
  };
}

/** What every timer of one afterInputClock uses: one object, referenced by each timer. */
interface AfterInputShared {
  readonly base: Clock;
  readonly backlogMs: (() => number) | undefined;
  readonly maxDefer: number;
}

/** One timer of afterInputClock: its state in fields, so a waiting timer is a few objects, not a web of closures. */
class AfterInputTimer implements TimerHandle {
  #state: 'armed' | 'due' | 'done' = 'armed';
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #deferred = 0;
  #timer: TimerHandle;
  readonly #c: AfterInputShared;
  readonly #fn: () => void;

  constructor(c: AfterInputShared, fn: () => void, ms: number) {
    this.#c = c;
    this.#fn = fn;
    this.#timer = c.base.setTimeout(this.#due, ms);
  }

  readonly #due = (): void => {
    if (this.#state !== 'armed') return;
    const backlog = this.#c.backlogMs?.() ?? 0;
    if (backlog > 0 && this.#deferred < this.#c.maxDefer) {
      const wait = Math.min(backlog, this.#c.maxDefer - this.#deferred);
      this.#deferred += wait;
      this.#timer = this.#c.base.setTimeout(this.#due, wait);
      return;
    }
    this.#state = 'due';
    this.#immediate = setImmediate(runDue, this);
  };

  /** From the check phase: runs the timer unless the input read meanwhile cancelled it. */
  fire(): void {
    if (this.#state !== 'due') return;
    this.#state = 'done';
    this.#fn();
  }

  cancel(): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.#timer.cancel();
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
  }
}

function runDue(t: AfterInputTimer): void {
  t.fire();
}
