import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/index.js';
import { createNgTransport, RtpenginePool, type MediaStats, type OrphanStats } from '../media/index.js';
import type { MediaRelayPolicy } from './policy-types.js';

/**
 * The rtpengine pool of this app (one per thread: an app worker has its own ng socket, and a call's dialog stays
 * with its app, so each call's offer, answer and delete go out from the same pool). A policy with the same relay
 * settings (a reload that did not touch them) keeps the pool and its instance states; changed settings make a new
 * pool, and an old one with nothing of a call left on it (sessions, deletes still to send, requests under way) is
 * closed.
 */
const pools = new Map<string, RtpenginePool>();

function keyOf(p: MediaRelayPolicy): string {
  return JSON.stringify([p.rtpengines.map((r) => [r.host, r.port]), p.timeoutMs, p.pingIntervalMs]);
}

export function mediaPool(p: MediaRelayPolicy, log: Logger, clock: Clock = systemClock): RtpenginePool {
  const key = keyOf(p);
  let pool = pools.get(key);
  if (pool) return pool;
  for (const [k, old] of pools) {
    if (old.idle) {
      old.close();
      pools.delete(k);
    }
  }
  const created: RtpenginePool = new RtpenginePool({
    instances: p.rtpengines,
    transport: createNgTransport({
      timeoutMs: p.timeoutMs,
      localAddress: p.rtpengines.every((r) => /^127\./.test(r.host)) ? '127.0.0.1' : '0.0.0.0',
      onStrayReply: (kind) => created.strayReply(kind),
    }),
    clock,
    log,
    pingIntervalMs: p.pingIntervalMs,
  });
  pool = created;
  pools.set(key, pool);
  void pool.start();
  return pool;
}

/** The counters of this app's pools (for /stats): one entry per distinct relay setting in use. */
export function mediaPoolStats(): MediaStats[] {
  return [...pools.values()].map((p) => p.stats);
}

/** This app's media counters summed over its pools: plain numbers, so a pool of apps can add them up field by field. */
export interface MediaCounters {
  requests: MediaStats['requests'];
  failures: MediaStats['failures'];
  failovers: number;
  strayReplies: number;
  sessionsOpened: number;
  sessionsOpen: number;
  /** Sessions possibly left on an instance by a failover or an unanswered delete, and what became of their deletes. */
  orphans?: OrphanStats;
}

/** `{ media }` for the app's stats snapshot, or nothing when no call was ever anchored here. */
export function mediaCounters(): { media?: MediaCounters } {
  if (pools.size === 0) return {};
  const sum: MediaCounters = {
    requests: { offer: 0, answer: 0, delete: 0, query: 0, ping: 0 }, failures: { timeout: 0, refused: 0, unavailable: 0, send: 0, tooLarge: 0 },
    failovers: 0, strayReplies: 0, sessionsOpened: 0, sessionsOpen: 0,
  };
  const orphans: OrphanStats = { noted: 0, deletesSent: 0, deleted: 0, dropped: 0, pending: 0 };
  for (const p of pools.values()) {
    const s = p.stats;
    for (const k of Object.keys(sum.requests) as Array<keyof MediaCounters['requests']>) sum.requests[k] += s.requests[k];
    for (const k of Object.keys(sum.failures) as Array<keyof MediaCounters['failures']>) sum.failures[k] += s.failures[k];
    sum.failovers += s.failovers;
    sum.strayReplies += s.strayReplies;
    sum.sessionsOpened += s.sessionsOpened;
    sum.sessionsOpen += s.sessionsOpen;
    for (const k of Object.keys(orphans) as Array<keyof OrphanStats>) orphans[k] += s.orphans[k];
  }
  return { media: { ...sum, orphans } };
}

/** Closes every pool of this app (app close). */
export function closeMediaPools(): void {
  for (const p of pools.values()) p.close();
  pools.clear();
}
