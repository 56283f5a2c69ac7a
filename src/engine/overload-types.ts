// What the overload guard (overload.ts) is configured with, reads each window and reports.

export interface OverloadOptions {
  /**
   * The engine thread's event-loop utilization (busy share of a window, 0–1) above which fewer new INVITEs are
   * admitted (default 0: not watched). A busy thread that keeps up is not overloaded, and a thread that shares its
   * cores with other work reads busy in short windows: the kernel backlog below is the sign that it fell behind.
   */
  maxUtilization?: number;
  /** The engine thread's event-loop delay (ms, the worst in a window) above which fewer are admitted (default 250; 0: not watched). */
  maxEventLoopDelayMs?: number;
  /**
   * How long the datagrams waiting in the kernel for the UDP listeners will wait to be read, at the rate the engine
   * read them in the last window (Linux), above which fewer are admitted (default 150 ms; 0: not watched). Over UDP a
   * backlog builds there, where no timer sees it; a flood that the engine keeps up with leaves it short.
   */
  maxReceiveQueueMs?: number;
  /** New INVITEs handed to an app that has not answered them at all, at which every new one is shed (default 150; 0: not watched). */
  maxUnansweredInvites?: number;
  /** A shed INVITE gets 503 with Retry-After and a Reason (reject, default) or no answer (drop). */
  action?: 'reject' | 'drop';
  /**
   * 503s sent a second while shedding; past it a shed INVITE is dropped (default 10,000). A 503 ends the caller's
   * retransmissions of that INVITE, a drop does not: over UDP each dropped INVITE comes back up to six times.
   */
  rejectsPerSecond?: number;
  /** Shed INVITEs remembered (by top Via), so that their retransmissions are shed too (default 20,000, each for 32 s). */
  maxRemembered?: number;
  /** New INVITEs a second from one source that still let it through while shedding (default 20; 0: none). */
  lightSourceInvites?: number;
}

/** One window of the engine thread's load, as the sampler measured it. */
export interface LoadWindow {
  /** Busy share of the window (0–1). */
  utilization: number;
  /** The worst lateness of a timer turn in the window (ms). */
  delayMs: number;
  /** Bytes waiting in the kernel for the UDP listeners at the window's end, where known. */
  queuedBytes?: number;
  /** How long those will wait at the rate the engine read datagrams in the window (ms), where known. */
  queueMs?: number;
  /** Datagrams the engine read in the window, where known. */
  datagramsRead?: number;
  /** Datagrams the kernel dropped at the UDP listeners so far, where known. */
  udpDrops?: number;
}

export type OverloadVerdict = 'admit' | 'reject' | 'drop';
export type OverloadCause = 'utilization' | 'event-loop-delay' | 'receive-queue' | 'unanswered-invites';

export interface OverloadStats {
  /** Some new INVITEs are being shed now. */
  shedding: boolean;
  /** The share of new INVITEs admitted now (1: all). */
  admitShare: number;
  /** Times shedding started. */
  episodes: number;
  /** Shed with 503, and shed with no answer (drop, or past the 503s a second). */
  rejected: number;
  dropped: number;
  /** Of those, retransmissions of an INVITE already shed. */
  retransmissions: number;
  /** ACKs to the 503 of a shed INVITE, taken at the edge (they have no transaction to go to). */
  acksAbsorbed: number;
  /** Shed INVITEs remembered now. */
  remembered: number;
  /** Shed INVITEs forgotten before their 32 s because maxRemembered were kept: their retransmissions may pass. */
  rememberedEvicted: number;
  /** New INVITEs from sources past the 10,000 counted in one window: never taken as light sources. */
  sourcesUncounted: number;
  /** Shed INVITEs by the sign that made them shed. */
  byCause: Record<OverloadCause, number>;
  /**
   * Windows with a sign of overload in which new INVITEs were under 5% of the datagrams read: the load was not
   * calls (a flood of something else), so shedding calls would not have relieved it and none were shed.
   */
  notFromCalls: number;
  /** New INVITEs let through while shedding because their source sent few (at most 20 a second). */
  lightAdmitted: number;
  utilization: number;
  eventLoopDelayMs: number;
  /** Bytes waiting in the kernel for the UDP listeners, how long they will wait, and datagrams it dropped there (Linux; 0 elsewhere). */
  receiveQueueBytes: number;
  receiveQueueMs: number;
  udpReceiveDrops: number;
  unansweredInvites: number;
}

/**
 * The admitted share after a window with a sign of overload (multiplied; more for a backlog in the kernel, which
 * means the engine is already behind), and after a calm one (added), and its floor.
 */
