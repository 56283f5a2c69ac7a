import type { Logger } from 'pino';
import type { Clock } from '../common/clock.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';

export interface OverloadOptions {
  /**
   * The engine thread's event-loop delay (the worst in each 100 ms window) past which new INVITEs are shed
   * (default 100 ms; 0: not watched).
   */
  maxEventLoopDelayMs?: number;
  /** New INVITEs handed to an app that has not answered them at all yet, past which new ones are shed (default 400; 0: not watched). */
  maxUnansweredInvites?: number;
  /** A shed INVITE gets 503 with Retry-After and a Reason (reject, default) or no answer (drop). */
  action?: 'reject' | 'drop';
  /** 503s sent a second while shedding; past it a shed INVITE is dropped (default 1,000). */
  rejectsPerSecond?: number;
  /** Once shedding, it goes on at least this long after the last sign of overload (default 1,000 ms). */
  holdMs?: number;
}

/** What the guard reads on each new INVITE; both are cheap (a cached figure, a counter). */
export interface OverloadSignals {
  eventLoopDelayMs(): number;
  unansweredInvites(): number;
}

export type OverloadVerdict = 'admit' | 'reject' | 'drop';
export type OverloadCause = 'event-loop-delay' | 'unanswered-invites';

export interface OverloadStats {
  /** New INVITEs are being shed now. */
  shedding: boolean;
  /** Times shedding started. */
  episodes: number;
  /** Shed with 503, and shed with no answer (drop, or past the 503s a second). */
  rejected: number;
  dropped: number;
  /** Shed INVITEs by what started their episode. */
  byCause: Record<OverloadCause, number>;
  eventLoopDelayMs: number;
  unansweredInvites: number;
}

/**
 * Overload control for new calls (CUBE's `call threshold cpu-avg`, Kamailio's ratelimit on load): when the engine's
 * event loop falls behind, or the app has more new INVITEs than it keeps up with, new INVITEs are shed before any
 * state is made, so that calls in progress (their ACKs, re-INVITEs and BYEs are never shed) keep their latency and
 * are torn down properly. Shedding lasts `holdMs` past the last sign, so that a backlog drains before new calls come.
 */
export class OverloadGuard {
  readonly #maxDelay: number;
  readonly #maxUnanswered: number;
  readonly #action: 'reject' | 'drop';
  readonly #rejectsPerSecond: number;
  readonly #holdMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #signals: OverloadSignals;
  readonly #lines: RateLimitedLog;
  readonly #log: Logger;
  #until = 0;
  #cause: OverloadCause | undefined;
  #shedThisEpisode = 0;
  #second = 0;
  #rejectsThisSecond = 0;
  readonly #stats = { episodes: 0, rejected: 0, dropped: 0, byCause: { 'event-loop-delay': 0, 'unanswered-invites': 0 } };

  constructor(options: OverloadOptions, deps: { log: Logger; clock: Pick<Clock, 'now'>; signals: OverloadSignals }) {
    this.#maxDelay = options.maxEventLoopDelayMs ?? 100;
    this.#maxUnanswered = options.maxUnansweredInvites ?? 400;
    this.#action = options.action ?? 'reject';
    this.#rejectsPerSecond = options.rejectsPerSecond ?? 1_000;
    this.#holdMs = options.holdMs ?? 1_000;
    this.#clock = deps.clock;
    this.#signals = deps.signals;
    this.#log = deps.log;
    this.#lines = new RateLimitedLog(deps.log, deps.clock, { intervalMs: 10_000, perCode: 1 });
  }

  get enabled(): boolean {
    return this.#maxDelay > 0 || this.#maxUnanswered > 0;
  }

  /** The verdict on one new INVITE (outside a dialog, matching no transaction). */
  admitInvite(): OverloadVerdict {
    const now = this.#clock.now();
    const cause = this.#sign();
    if (cause !== undefined) {
      if (now >= this.#until) this.#start(cause, now);
      this.#until = now + this.#holdMs;
    } else if (now >= this.#until) {
      if (this.#cause !== undefined) this.#end();
      return 'admit';
    }
    const episodeCause = this.#cause ?? cause ?? 'event-loop-delay';
    this.#stats.byCause[episodeCause]++;
    this.#shedThisEpisode++;
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#rejectsThisSecond = 0;
    }
    if (this.#action === 'drop' || ++this.#rejectsThisSecond > this.#rejectsPerSecond) {
      this.#stats.dropped++;
      return 'drop';
    }
    this.#stats.rejected++;
    return 'reject';
  }

  stats(): OverloadStats {
    return {
      shedding: this.#cause !== undefined && this.#clock.now() < this.#until,
      episodes: this.#stats.episodes, rejected: this.#stats.rejected, dropped: this.#stats.dropped,
      byCause: { ...this.#stats.byCause },
      eventLoopDelayMs: this.#signals.eventLoopDelayMs(), unansweredInvites: this.#signals.unansweredInvites(),
    };
  }

  #sign(): OverloadCause | undefined {
    if (this.#maxDelay > 0 && this.#signals.eventLoopDelayMs() > this.#maxDelay) return 'event-loop-delay';
    if (this.#maxUnanswered > 0 && this.#signals.unansweredInvites() >= this.#maxUnanswered) return 'unanswered-invites';
    return undefined;
  }

  #start(cause: OverloadCause, now: number): void {
    if (this.#cause !== undefined) this.#end();
    this.#cause = cause;
    this.#shedThisEpisode = 0;
    this.#stats.episodes++;
    const s = this.#signals;
    this.#lines.line('warn', 'ERR_ENGINE_OVERLOAD', {
      cause, eventLoopDelayMs: Math.round(s.eventLoopDelayMs()), unansweredInvites: s.unansweredInvites(),
      maxEventLoopDelayMs: this.#maxDelay, maxUnansweredInvites: this.#maxUnanswered, at: now,
    }, `overloaded (${cause}): new INVITEs get ${this.#action === 'reject' ? '503' : 'no answer'} until it passes`, 'engine');
  }

  #end(): void {
    this.#log.info({ code: 'ERR_ENGINE_OVERLOAD', cause: this.#cause, shed: this.#shedThisEpisode }, 'overload passed: new INVITEs are admitted again');
    this.#cause = undefined;
  }
}

/**
 * The worst event-loop delay of the thread it runs on over the last window, in ms: a 10 ms interval timer measures
 * how late each of its turns comes (Node's own histogram loses the interval across a reset, so it is not used here).
 * One timer, no allocation per turn.
 */
export class EventLoopDelay {
  readonly #timer: NodeJS.Timeout;
  readonly #tickMs: number;
  readonly #ticksPerWindow: number;
  #last = performance.now();
  #ticks = 0;
  #windowMax = 0;
  #lastMs = 0;

  constructor(windowMs = 100, tickMs = 10) {
    this.#tickMs = tickMs;
    this.#ticksPerWindow = Math.max(1, Math.round(windowMs / tickMs));
    this.#timer = setInterval(() => this.#turn(), tickMs);
    this.#timer.unref();
  }

  /** The worst delay of the last window, or of the running one when that is worse already. */
  ms(): number {
    const running = Math.max(0, performance.now() - this.#last - this.#tickMs);
    return Math.max(this.#lastMs, this.#windowMax, running);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #turn(): void {
    const now = performance.now();
    const late = Math.max(0, now - this.#last - this.#tickMs);
    this.#last = now;
    if (late > this.#windowMax) this.#windowMax = late;
    if (++this.#ticks >= this.#ticksPerWindow) {
      this.#lastMs = this.#windowMax;
      this.#windowMax = 0;
      this.#ticks = 0;
    }
  }
}
