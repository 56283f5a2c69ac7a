import type { RateLimitedLog } from '../log/index.js';

/**
 * Sessions an rtpengine instance may hold that no call uses: an offer it did not answer in time (the call went to
 * another instance, but the offer may have reached it and its reply been lost or late), the sessions of a call that
 * failed over as a whole, a delete it did not answer. Counters of RtpenginePool.stats.
 */
export interface OrphanStats {
  /** Sessions noted as possibly left on an instance. */
  noted: number;
  /** Deletes sent for them: at once, and again each time their instance answered pings after missing one. */
  deletesSent: number;
  /**
   * Done: the instance deleted the session, or said it has none in answer to a delete sent after it had answered
   * a health ping (before that, an offer it received may still be in the works on another of its threads).
   */
  deleted: number;
  /** Dropped unanswered at the bound (maxOrphans): only rtpengine's own timeout ends them now. */
  dropped: number;
  /** Waiting now for their instance to answer. */
  pending: number;
}

interface Orphan {
  instance: string;
  params: { 'call-id': string; 'from-tag': string; 'to-tag'?: string };
  /** Its instance answered a health ping since it was noted, so an answer of "none here" is final. */
  afterPing: boolean;
}

/** What became of one delete: the session was there and is gone, none was there, or no answer came. */
export type OrphanDeleteResult = 'deleted' | 'absent' | 'unanswered';

export interface OrphanSessionsOptions {
  /** Sends one `delete` to the named instance. Never rejects. */
  sendDelete(instance: string, params: Orphan['params']): Promise<OrphanDeleteResult>;
  limited: RateLimitedLog;
  /** How many may wait at once over the pool (default 1,000); past it the oldest is dropped, counted and logged. */
  max?: number;
}

/**
 * What the pool still has to delete on its instances. Every entry's delete goes out when it is noted; one the
 * instance does not answer waits for flush(), which the pool runs when the instance answers a health ping again
 * and before it gives it a new call, so a call with the same Call-ID cannot meet a stale delete there.
 */
export class OrphanSessions {
  readonly #o: OrphanSessionsOptions;
  readonly #max: number;
  /** `instance \0 call-id \0 from-tag` → entry, oldest first. */
  readonly #pending = new Map<string, Orphan>();
  readonly #stats = { noted: 0, deletesSent: 0, deleted: 0, dropped: 0 };
  /** Deletes on their way, by key: an offer for the same key waits for its answer (adopt). Bounded as #pending is. */
  readonly #sending = new Map<string, Promise<void>>();

  constructor(o: OrphanSessionsOptions) {
    this.#o = o;
    this.#max = Math.max(1, o.max ?? 1_000);
  }

  /** Notes a session `instance` may hold; `sendNow: false` when a delete for it just went unanswered. */
  note(instance: string, params: Orphan['params'], sendNow = true): void {
    const key = keyOf(instance, params);
    const entry: Orphan = { instance, params, afterPing: false };
    this.#stats.noted++;
    this.#pending.delete(key);
    this.#pending.set(key, entry);
    if (this.#pending.size > this.#max) this.#dropOldest();
    if (sendNow) void this.#send(key, entry);
    else this.#unanswered(instance);
  }

  /**
   * An offer for the same Call-ID and from-tag is about to go to `instance`: rtpengine gives it the session it holds,
   * so that session is the call's again and must not be deleted. Resolves once a delete of it already on its way
   * has been answered (or given up), so that the offer cannot overtake it on rtpengine's threads.
   */
  async adopt(instance: string, callId: string, fromTag: string): Promise<void> {
    const key = keyOf(instance, { 'call-id': callId, 'from-tag': fromTag });
    this.#pending.delete(key);
    await this.#sending.get(key);
  }

  /** `instance` answered a health ping: sends its waiting deletes again; true when none is left waiting. */
  async flush(instance: string): Promise<boolean> {
    const mine = [...this.#pending].filter(([, o]) => o.instance === instance);
    for (const [, o] of mine) o.afterPing = true;
    await Promise.all(mine.map(([k, o]) => this.#send(k, o)));
    return this.waiting(instance) === 0;
  }

  waiting(instance: string): number {
    let n = 0;
    for (const o of this.#pending.values()) if (o.instance === instance) n++;
    return n;
  }

  get stats(): OrphanStats {
    return { ...this.#stats, pending: this.#pending.size };
  }

  async #send(key: string, entry: Orphan): Promise<void> {
    this.#stats.deletesSent++;
    const afterPing = entry.afterPing;
    const sent = this.#o.sendDelete(entry.instance, entry.params);
    const done = sent.then(() => undefined, () => undefined);
    this.#sending.set(key, done);
    const result = await sent;
    if (this.#sending.get(key) === done) this.#sending.delete(key);
    if (this.#pending.get(key) !== entry) return;
    if (result === 'unanswered') {
      this.#unanswered(entry.instance);
      return;
    }
    // rtpengine works on ng requests in several threads: a delete read after an offer can be done before it, and
    // say "not found" for a session the offer then makes. Found nothing before a ping: sent again after the next one.
    if (result === 'absent' && !afterPing) return;
    this.#pending.delete(key);
    this.#stats.deleted++;
  }

  #unanswered(instance: string): void {
    this.#o.limited.line('warn', 'ERR_MEDIA_ORPHAN', { instance, waiting: this.waiting(instance) },
      `media: rtpengine ${instance} may still hold sessions no call uses; their deletes go again when it answers`, instance);
  }

  #dropOldest(): void {
    const [key, oldest] = this.#pending.entries().next().value as [string, Orphan];
    this.#pending.delete(key);
    this.#stats.dropped++;
    this.#o.limited.line('error', 'ERR_MEDIA_ORPHAN', { instance: oldest.instance, max: this.#max, dropped: this.#stats.dropped },
      `media: more than ${this.#max} sessions wait to be deleted on unanswering rtpengines; the oldest is left to rtpengine's own timeout`, 'bound');
  }
}

function keyOf(instance: string, p: { 'call-id': string; 'from-tag': string }): string {
  return `${instance}\u0000${p['call-id']}\u0000${p['from-tag']}`;
}
