import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../common/index.js';
import type { RateLimitedLog } from '../log/index.js';
import type { CallStats } from './call-stats.js';
import { reasonTextOf, sipReason } from './reason.js';

/** What drachtio-srf's Dialog hands a 'destroy' listener: the BYE (source `application` when the engine made it). */
export interface DestroyRequest {
  source?: string;
  get?(name: string): string | undefined;
}

/** One leg of a bridged call, as drachtio-srf's `Dialog` presents it. */
export interface BridgeLeg {
  /** drachtio-srf sets this false once the dialog is over (BYE sent or received). */
  connected?: boolean;
  on(event: 'destroy', listener: (req?: DestroyRequest, reason?: string) => void): unknown;
  destroy(opts: { headers?: Record<string, string> } | undefined, callback: (err: unknown) => void): unknown;
  /** drachtio-srf's in-dialog request; when present our BYE goes through it, so its final status is seen. */
  request?(opts: { method: string; headers?: Record<string, string> }): Promise<{ status: number }>;
  removeAllListeners?(): unknown;
}

/**
 * Who ended a connected call. `race`: a leg was already gone when createB2BUA resolved; `gateway`: the b2bua
 * itself (session timer, maximum duration, a failed B leg, shutdown); `engine`: the engine sent the BYE (ACK
 * timeout, a lost connection) and told the app.
 */
export type ReleasedBy = 'caller' | 'callee' | 'gateway' | 'engine';

/** How a connected call ended, for its CDR. */
export interface CallEnd {
  releasedBy: ReleasedBy | undefined;
  /** `normal`, or why the gateway or the engine ended it (`session-expired`, `max-duration`, `b-leg-lost`, …). */
  cause: string;
  /** The Reason sent in our BYEs, or the one the engine's BYE carried. */
  reason?: string;
  /** BYEs of ours that failed (not sent, or no dialog left): the leg is released all the same. */
  byeFailed: number;
  /** The Reason of the BYE that ended each leg, received or sent, when it had one. */
  reasonA?: string;
  reasonB?: string;
}

/** A handle on a supervised call: the b2bua's own way to end it. */
export interface CallControl {
  /** Ends the call with a BYE carrying `reason` on each leg still up; the first end wins. */
  end(cause: string, reason: string): void;
  readonly ended: boolean;
  /** A leg is gone or the gateway asked for the end, and the call is not over yet: BYEs are under way. */
  readonly releasing: boolean;
  /** Called when the call has ended (both legs released), after the CDR callback. */
  onEnd(fn: () => void): void;
  /**
   * This app is going away with the call still up (its thread ends): the call is recorded as ended now, both legs
   * counted released and its CDR written with `cause`, since no BYE of this app's can complete any more (the engine
   * ends both legs when the app's control connection closes).
   */
  abandon(cause: string, reason: string): void;
}

export interface SuperviseContext {
  stats: CallStats;
  log: Logger;
  callId: string | undefined;
  /** Failed-BYE lines, one per source a window, and the gateway's call ends, one per cause (absent: every one is written). */
  refusals?: RateLimitedLog | undefined;
  /** The rate-limit key of each leg's far end, whose answer failed our BYE (the caller's address, the dial peer). */
  sources?: { A?: string | undefined; B?: string | undefined } | undefined;
  /** Needed with maxDurationMs. */
  clock?: Clock;
  /** Longest a connected call may last; then it is ended with BYE on both legs (cause `max-duration`). */
  maxDurationMs?: number;
  /** Called once, when both legs are released. */
  onEnded(end: CallEnd): void;
}

interface Side {
  leg: BridgeLeg;
  up: boolean;
  name: 'A' | 'B';
  /** The Reason of the BYE that ended this leg (the far end's, the engine's or ours). */
  reason?: string;
  /**
   * Our BYE on this leg is out: the leg counts as up until it is answered, and a BYE the other leg's far end sends
   * meanwhile (crossing ours) must not send it a second one.
   */
  byeSent?: boolean;
}

/**
 * The handle superviseLegs returns. A class, so that `ended` and `releasing` are getters on its prototype: written
 * in an object literal they were new closures on every call's object, and V8 (Node 20) keeps per-object accessors
 * reachable from old space across young collections, so every call's objects were promoted (PipelineCallLocals in
 * call-locals.ts says more).
 */
class SupervisedCall implements CallControl {
  #ended = false;
  readonly #onEnd: Array<() => void> = [];

  constructor(
    private readonly endCall: (why: string, text: string) => void,
    private readonly legsGoing: () => boolean,
    private readonly dropCall: (why: string, text: string) => void,
  ) {}

  get ended(): boolean {
    return this.#ended;
  }

  get releasing(): boolean {
    return !this.#ended && this.legsGoing();
  }

  end(why: string, text: string): void {
    this.endCall(why, text);
  }

  abandon(why: string, text: string): void {
    this.dropCall(why, text);
  }

  onEnd(fn: () => void): void {
    if (this.#ended) fn();
    else this.#onEnd.push(fn);
  }

  /** Both legs are released. */
  markEnded(): void {
    this.#ended = true;
  }

  /** Runs what waited for the end, once, after the CDR callback. */
  notifyEnded(): void {
    for (const fn of this.#onEnd.splice(0)) fn();
  }
}

/**
 * Follows a connected call until both legs are released: a BYE on one leg is answered by drachtio-srf and
 * ends the other with a BYE of ours. Counts connected, active, legs up, completed calls and failed BYEs (a leg
 * whose BYE failed is released all the same: nothing more can be done for it, and the count says so).
 */
export function superviseLegs(ctx: SuperviseContext, legs: { uas: BridgeLeg; uac: BridgeLeg }): CallControl {
  const { stats, log, callId } = ctx;
  stats.connected++;
  stats.active++;
  stats.legsUp += 2;

  const a: Side = { leg: legs.uas, up: true, name: 'A' };
  const b: Side = { leg: legs.uac, up: true, name: 'B' };
  let releasedBy: ReleasedBy | undefined;
  let cause = 'normal';
  let reason: string | undefined;
  let byeFailed = 0;
  let limit: TimerHandle | undefined;

  const release = (side: Side): void => {
    if (!side.up) return;
    side.up = false;
    stats.legsUp--;
    if (a.up || b.up) return;
    control.markEnded();
    limit?.cancel();
    stats.active--;
    stats.completed++;
    ctx.onEnded({
      releasedBy, cause, byeFailed, ...(reason !== undefined ? { reason } : {}),
      ...(a.reason !== undefined ? { reasonA: a.reason } : {}), ...(b.reason !== undefined ? { reasonB: b.reason } : {}),
    });
    control.notifyEnded();
  };
  const failed = (side: Side, err: unknown): void => {
    byeFailed++;
    stats.byeFailed++;
    const msg = `b2bua: BYE on leg ${side.name} failed; the leg is released`;
    if (ctx.refusals) ctx.refusals.line('warn', 'ERR_B2BUA_BYE_FAILED', { err, callId, leg: side.name }, msg, ctx.sources?.[side.name]);
    else log.warn({ err, callId, leg: side.name, code: 'ERR_B2BUA_BYE_FAILED' }, msg);
  };
  const viaDestroy = (side: Side, headers?: Record<string, string>): void => {
    try {
      side.leg.destroy(headers ? { headers } : undefined, (err) => {
        if (err) failed(side, err);
        release(side);
      });
    } catch (err) {
      failed(side, err);
      release(side);
    }
  };
  const hangUp = (side: Side, headers?: Record<string, string>): void => {
    if (!side.up || side.byeSent) return;
    side.byeSent = true;
    if (headers?.Reason !== undefined) side.reason ??= headers.Reason;
    const leg = side.leg;
    if (typeof leg.request !== 'function') {
      viaDestroy(side, headers);
      return;
    }
    // The BYE as an in-dialog request, so its answer is seen: 408 or a 5xx is a failed teardown (481: the far end
    // had already ended it). A BYE that could not be sent at all goes through destroy(), which also frees
    // drachtio-srf's record of the dialog.
    leg.request({ method: 'BYE', headers: headers ?? {} }).then((res) => {
      if (res.status >= 300 && res.status !== 481) failed(side, new Error(`BYE answered ${res.status}`));
      leg.connected = false;
      leg.removeAllListeners?.();
      release(side);
    }, () => viaDestroy(side, headers));
  };
  const onGone = (gone: Side, other: Side, who: ReleasedBy, req?: DestroyRequest): void => {
    if (!gone.up) return;
    const byeReason = req?.get?.('Reason');
    if (byeReason !== undefined && byeReason !== '') gone.reason ??= byeReason;
    let headers: Record<string, string> | undefined;
    if (releasedBy === undefined) {
      releasedBy = who;
      if (req?.source === 'application') {
        // The engine ended this leg by itself (ACK timeout, a lost connection): the other leg is told why.
        releasedBy = 'engine';
        stats.endedByEngine++;
        const text = reasonTextOf(req.get?.('Reason')) ?? 'ended by the gateway';
        cause = `engine:${text}`;
        reason = sipReason(gone === b ? 502 : 487, `${gone === b ? 'Called' : 'Calling'} party lost: ${text}`);
        headers = { Reason: reason };
      }
    }
    release(gone);
    hangUp(other, headers);
  };

  legs.uas.on('destroy', (req) => onGone(a, b, 'caller', req));
  legs.uac.on('destroy', (req) => onGone(b, a, 'callee', req));

  const control = new SupervisedCall((why, text) => {
    if (control.ended || releasedBy !== undefined) return;
    releasedBy = 'gateway';
    cause = why;
    stats.endedBy(why);
    reason = text;
    // A peer can trigger these on every call (no refresh, a lost leg, no media): once a window per cause; the count
    // (endedByGateway) and each call's CDR stay exact.
    const msg = 'b2bua: the gateway ends the call';
    if (ctx.refusals) ctx.refusals.line('info', 'ERR_B2BUA_CALL_ENDED', { callId, cause: why, reason: text }, msg, `cause:${why}`);
    else log.info({ code: 'ERR_B2BUA_CALL_ENDED', callId, cause: why, reason: text }, msg);
    hangUp(a, { Reason: text });
    hangUp(b, { Reason: text });
  }, () => releasedBy !== undefined || !a.up || !b.up, (why, text) => {
    if (control.ended) return;
    if (releasedBy === undefined) {
      releasedBy = 'gateway';
      cause = why;
      reason = text;
    }
    release(a);
    release(b);
  });

  if (ctx.maxDurationMs !== undefined && ctx.clock) {
    const s = Math.round(ctx.maxDurationMs / 1000);
    limit = ctx.clock.setTimeout(() => {
      control.end('max-duration', sipReason(200, `Maximum call duration of ${s} s reached`));
    }, ctx.maxDurationMs);
  }

  // A BYE that arrived in the same read as the messages completing the call has already been handled by
  // drachtio-srf, and the 'destroy' it emitted found no listener (docs/control-protocol.md §6). The leg that is
  // gone was released by its own side: counted as a race, recorded as who hung up.
  if (legs.uas.connected === false) {
    stats.racedLegs++;
    onGone(a, b, 'caller');
  }
  if (legs.uac.connected === false) {
    stats.racedLegs++;
    onGone(b, a, 'callee');
  }
  return control;
}
