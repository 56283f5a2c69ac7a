import type { Logger } from 'pino';
import type { Clock } from '../common/clock.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import { ownString, parseVia, sentByOf } from '../sip/message/index.js';
import { sourceKey } from '../sip/transport/address.js';

export type { LoadWindow, OverloadCause, OverloadOptions, OverloadStats, OverloadVerdict } from './overload-types.js';
import type { LoadWindow, OverloadCause, OverloadOptions, OverloadStats, OverloadVerdict } from './overload-types.js';

const DECREASE = 0.85;
const DECREASE_BACKLOG = 0.6;
const INCREASE = 0.1;
const FLOOR = 0.05;
/** Sources counted in a window at most (past it, no source counts as light). */
const MAX_SOURCES_COUNTED = 10_000;
/** New INVITEs as a share of the datagrams read below which a backlog or a late loop is not blamed on calls. */
const MIN_INVITE_SHARE = 0.05;
/** How long a shed INVITE's retransmissions are shed too: Timer B, 64·T1 (RFC 3261 §17.1.1.2). */
const REMEMBER_MS = 32_000;

/**
 * Overload control for new calls (CUBE's `call threshold`, Kamailio's ratelimit with its load feedback). After each
 * window in which the kernel held more than `maxReceiveQueueMs` of datagrams for the UDP listeners, or the engine thread was
 * later than `maxEventLoopDelayMs` (or busier than `maxUtilization`, when set), the share of new INVITEs admitted is
 * cut (by 40% for a backlog, which means the engine is behind already, by 15% otherwise); after each calm window it
 * grows by a tenth, back to all (additive increase, multiplicative decrease, so the engine settles near its capacity
 * instead of swinging). While
 * the app has `maxUnansweredInvites` new INVITEs it has not answered at all, every new one is shed but a light source's
 * (admitInvite), and the episode lasts until the app is a tenth below that limit. A shed INVITE is
 * refused before any state is made; ACKs, CANCELs, in-dialog requests and other methods are never shed, so calls in
 * progress keep their latency and their BYEs.
 */
export class OverloadGuard {
  readonly #maxUtil: number;
  readonly #maxDelay: number;
  readonly #maxQueue: number;
  readonly #maxUnanswered: number;
  readonly #action: 'reject' | 'drop';
  readonly #rejectsPerSecond: number;
  readonly #maxRemembered: number;
  readonly #lightPerSecond: number;
  /** Top Via of each INVITE shed lately → when; oldest first. */
  readonly #shedVias = new Map<string, number>();
  readonly #clock: Pick<Clock, 'now'>;
  readonly #unanswered: () => number;
  readonly #lines: RateLimitedLog;
  #share = 1;
  #credit = 0;
  /** New INVITEs judged in the current window, and in the one before. */
  #invitesInWindow = 0;
  /** New INVITEs in the current second (ten windows) and in the one before. */
  #invitesThisSecond = 0;
  #invitesLastSecond = 0;
  #windowsThisSecond = 0;
  /** New INVITEs per source address in the current window (bounded), and how many light sources were let through. */
  #bySource = new Map<string, number>();
  /** The same counts for the window before: a source heavy there is not light now. */
  #prevBySource = new Map<string, number>();
  #lightThisSecond = 0;
  #notFromCalls = 0;
  #last: LoadWindow = { utilization: 0, delayMs: 0 };
  /** The sign of the episode in progress (undefined: none). */
  #cause: OverloadCause | undefined;
  #shedThisEpisode = 0;
  #second = 0;
  #rejectsThisSecond = 0;
  readonly #stats = {
    episodes: 0, rejected: 0, dropped: 0, retransmissions: 0, acksAbsorbed: 0, lightAdmitted: 0, rememberedEvicted: 0, sourcesUncounted: 0,
    byCause: { utilization: 0, 'event-loop-delay': 0, 'receive-queue': 0, 'unanswered-invites': 0 },
  };

  constructor(options: OverloadOptions, deps: { log: Logger; clock: Pick<Clock, 'now'>; unansweredInvites: () => number }) {
    this.#maxUtil = options.maxUtilization ?? 0;
    this.#maxDelay = options.maxEventLoopDelayMs ?? 250;
    this.#maxQueue = options.maxReceiveQueueMs ?? 150;
    this.#maxUnanswered = options.maxUnansweredInvites ?? 150;
    this.#action = options.action ?? 'reject';
    this.#rejectsPerSecond = options.rejectsPerSecond ?? 10_000;
    this.#maxRemembered = Math.max(1, options.maxRemembered ?? 20_000);
    this.#lightPerSecond = options.lightSourceInvites ?? 20;
    this.#clock = deps.clock;
    this.#unanswered = deps.unansweredInvites;
    // One line as an episode starts and one as it ends, at most, every 10 s.
    this.#lines = new RateLimitedLog(deps.log, deps.clock, { intervalMs: 10_000, perCode: 2 });
  }

  /**
   * Whether an INVITE's top Via matters to the next verdict: some are being shed, or shed ones are remembered. When
   * not, the edge does not compute its key (a calm gateway pays nothing per message for the memory).
   */
  get watching(): boolean {
    return this.#shedVias.size > 0 || this.#share < 1 || this.#cause !== undefined || this.#queueFull();
  }

  /** How long the kernel's queue of unread datagrams will take to read, as of the last sample (ms; 0: none). */
  get receiveQueueMs(): number {
    return this.#last.queueMs ?? 0;
  }

  get enabled(): boolean {
    return this.#maxUtil > 0 || this.#maxDelay > 0 || this.#maxQueue > 0 || this.#maxUnanswered > 0;
  }

  /** One window of the engine thread's load: the admitted share moves. */
  window(w: LoadWindow): void {
    this.#last = w;
    const invites = this.#invitesInWindow;
    this.#invitesInWindow = 0;
    this.#invitesThisSecond += invites;
    if (++this.#windowsThisSecond >= 10) {
      this.#windowsThisSecond = 0;
      this.#invitesLastSecond = this.#invitesThisSecond;
      this.#invitesThisSecond = 0;
      const prev = this.#prevBySource;
      this.#prevBySource = this.#bySource;
      prev.clear();
      this.#bySource = prev;
      this.#lightThisSecond = 0;
    }
    let cause: OverloadCause | undefined = this.#maxQueue > 0 && (w.queueMs ?? 0) > this.#maxQueue ? 'receive-queue'
      : this.#maxUtil > 0 && w.utilization > this.#maxUtil ? 'utilization'
        : this.#maxDelay > 0 && w.delayMs > this.#maxDelay ? 'event-loop-delay' : undefined;
    // Shedding calls relieves only a load that calls make: behind a flood of something else (junk, OPTIONS,
    // REGISTERs, a source over its rate) it would refuse calls and change nothing.
    if (cause !== undefined && w.datagramsRead !== undefined && invites < MIN_INVITE_SHARE * w.datagramsRead) {
      this.#notFromCalls++;
      cause = undefined;
    }
    if (cause !== undefined) {
      this.#share = Math.max(FLOOR, this.#share * (cause === 'receive-queue' ? DECREASE_BACKLOG : DECREASE));
      this.#begin(cause);
    } else if (this.#share < 1) {
      this.#share = Math.min(1, this.#share + INCREASE);
    }
    if (this.#share >= 1 && this.#cause !== undefined && this.#queueCalm()) this.#end();
  }

  /**
   * The verdict on one new INVITE (outside a dialog, matching no transaction), by its top Via's key (viaKey): an
   * INVITE shed before is shed again, so that a retransmission that was already on its way cannot start the call its
   * caller was told was refused. While some are shed, a source that sent at most `lightSourceInvites` new INVITEs
   * in this second and in the one before is let through, within a tenth of the last second's INVITEs (and at least
   * five such sources' worth, so that a flood's first second cannot use it all up): a flood from one address is shed
   * before the PBX that sends a call now and then.
   */
  admitInvite(topVia?: string, source?: string): OverloadVerdict {
    this.#invitesInWindow++;
    const now = this.#clock.now();
    if (topVia !== undefined && this.#shedVias.size > 0) {
      const at = this.#shedVias.get(topVia);
      if (at !== undefined && now - at < REMEMBER_MS) {
        this.#stats.retransmissions++;
        return this.#shed(this.#cause ?? 'utilization', undefined, now);
      }
    }
    const full = this.#queueFull();
    if (!full && this.#share >= 1) return 'admit';
    if (full) this.#begin('unanswered-invites');
    if (source !== undefined && this.#lightSource(source)) {
      this.#stats.lightAdmitted++;
      return 'admit';
    }
    if (full) return this.#shed('unanswered-invites', topVia, now);
    this.#credit += this.#share;
    if (this.#credit >= 1) {
      this.#credit -= 1;
      return 'admit';
    }
    return this.#shed(this.#cause ?? 'utilization', topVia, now);
  }

  /**
   * True (counted) for the ACK of the 503 a shed INVITE got: its top Via names the shed INVITE's branch (RFC 3261
   * §17.1.1.3), and nothing in the core waits for it.
   */
  absorbAck(viaKey: string | undefined): boolean {
    if (viaKey === undefined || this.#shedVias.size === 0) return false;
    const at = this.#shedVias.get(viaKey);
    if (at === undefined || this.#clock.now() - at >= REMEMBER_MS) return false;
    this.#stats.acksAbsorbed++;
    return true;
  }

  stats(): OverloadStats {
    return {
      shedding: this.#cause !== undefined, admitShare: this.#share,
      episodes: this.#stats.episodes, rejected: this.#stats.rejected, dropped: this.#stats.dropped,
      notFromCalls: this.#notFromCalls, lightAdmitted: this.#stats.lightAdmitted,
      retransmissions: this.#stats.retransmissions, acksAbsorbed: this.#stats.acksAbsorbed, remembered: this.#shedVias.size,
      rememberedEvicted: this.#stats.rememberedEvicted, sourcesUncounted: this.#stats.sourcesUncounted,
      byCause: { ...this.#stats.byCause },
      utilization: this.#last.utilization, eventLoopDelayMs: this.#last.delayMs,
      receiveQueueBytes: this.#last.queuedBytes ?? 0, receiveQueueMs: this.#last.queueMs ?? 0, udpReceiveDrops: this.#last.udpDrops ?? 0, unansweredInvites: this.#unanswered(),
    };
  }

  /** Whether an INVITE from `source` passes as a light source's (counted against the window's budget). */
  #lightSource(address: string): boolean {
    if (this.#lightPerSecond <= 0) return false;
    const source = sourceKey(address);
    const n = (this.#bySource.get(source) ?? 0) + 1;
    if (this.#bySource.size < MAX_SOURCES_COUNTED || this.#bySource.has(source)) this.#bySource.set(source, n);
    else {
      this.#stats.sourcesUncounted++;
      this.#lines.line('warn', 'ERR_ENGINE_OVERLOAD', { max: MAX_SOURCES_COUNTED, sourcesUncounted: this.#stats.sourcesUncounted },
        `more than ${MAX_SOURCES_COUNTED} sources sent new INVITEs in one window: the others are not let through as light sources`, 'sources');
      return false;
    }
    if (n > this.#lightPerSecond || (this.#prevBySource.get(source) ?? 0) > this.#lightPerSecond) return false;
    if (this.#lightThisSecond >= Math.max(5 * this.#lightPerSecond, Math.floor(this.#invitesLastSecond / 10))) return false;
    this.#lightThisSecond++;
    return true;
  }

  #queueFull(): boolean {
    return this.#maxUnanswered > 0 && this.#unanswered() >= this.#maxUnanswered;
  }

  /**
   * The unanswered INVITEs are a tenth (at least one) below the limit that starts an episode: an app that keeps up
   * only just, hovering at the limit, makes one episode rather than one a window.
   */
  #queueCalm(): boolean {
    const max = this.#maxUnanswered;
    return max <= 0 || this.#unanswered() <= max - 1 - Math.floor(max / 10);
  }

  #shed(cause: OverloadCause, topVia: string | undefined, now: number): OverloadVerdict {
    this.#stats.byCause[cause]++;
    this.#shedThisEpisode++;
    if (topVia !== undefined) this.#remember(topVia, now);
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

  /** Keeps a shed INVITE's top Via; the expired and, past the bound, the oldest go first (insertion order). */
  #remember(topVia: string, now: number): void {
    for (const [via, at] of this.#shedVias) {
      if (now - at < REMEMBER_MS && this.#shedVias.size < this.#maxRemembered) break;
      this.#shedVias.delete(via);
      if (now - at < REMEMBER_MS) {
        this.#stats.rememberedEvicted++;
        this.#lines.line('warn', 'ERR_ENGINE_OVERLOAD', { maxRemembered: this.#maxRemembered, rememberedEvicted: this.#stats.rememberedEvicted },
          `${this.#maxRemembered} shed INVITEs remembered: the oldest is forgotten early, a retransmission of it may pass`, 'remembered');
      }
    }
    // A copy: the key outlives the INVITE by 32 s, and cut from its text it would keep that text alive (own-string.ts).
    this.#shedVias.set(ownString(topVia), now);
  }

  #begin(cause: OverloadCause): void {
    if (this.#cause !== undefined) {
      this.#cause = cause;
      return;
    }
    this.#cause = cause;
    this.#shedThisEpisode = 0;
    this.#stats.episodes++;
    this.#lines.line('warn', 'ERR_ENGINE_OVERLOAD', {
      cause, utilization: round(this.#last.utilization), eventLoopDelayMs: round(this.#last.delayMs), receiveQueueBytes: this.#last.queuedBytes, receiveQueueMs: this.#last.queueMs,
      unansweredInvites: this.#unanswered(), admitShare: round(this.#share),
      maxUtilization: this.#maxUtil, maxEventLoopDelayMs: this.#maxDelay, maxReceiveQueueMs: this.#maxQueue, maxUnansweredInvites: this.#maxUnanswered,
    }, `overloaded (${cause}): some new INVITEs get ${this.#action === 'reject' ? '503' : 'no answer'} until it passes`, 'engine');
  }

  #end(): void {
    this.#lines.line('info', 'ERR_ENGINE_OVERLOAD', { cause: this.#cause, shed: this.#shedThisEpisode }, 'overload passed: every new INVITE is admitted again', 'passed');
    this.#cause = undefined;
    this.#credit = 0;
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

/**
 * The key of a top Via for matching a retransmission or the ACK of a non-2xx to its INVITE (RFC 3261 §17.2.3): the
 * protocol, the sent-by and the branch, read by the one Via parser (`received` and `rport` are left out, since the
 * transport adds them on arrival). Undefined without a branch or for a Via that does not parse.
 */
export function viaKey(topVia: string | undefined): string | undefined {
  if (topVia === undefined) return undefined;
  const r = parseVia(topVia);
  const via = r.ok ? r.value[0] : undefined;
  const branch = via?.params.branch;
  if (!via || typeof branch !== 'string') return undefined;
  return `${via.protocolName}/${via.protocolVersion}/${via.transport}`.toLowerCase() + `${sentByOf(via)} ${branch}`;
}
