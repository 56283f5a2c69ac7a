import type { Clock, TimerHandle } from '../common/index.js';
import { RateLimitedLog, type Logger } from '../log/index.js';
import { MediaError } from './errors.js';
import { legTotals, type MediaTotals } from './delete-stats.js';
import { MediaSession, type MediaCallKey, type MediaTarget, type SessionHost } from './media-session.js';
import { NgSendFailed, type NgCommand, type NgReply, type NgTransport, type RtpengineAddress } from './ng-transport.js';
import type { MediaStats } from './media-stats.js';
import { notSent, replyOutcome, unanswered, type NgOutcome, type OutcomeContext } from './media-pool-reply.js';
import { OrphanSessions } from './orphan-sessions.js';

export interface RtpenginePoolOptions {
  /** The instances, in the order new calls try them (round robin over the live ones). */
  instances: readonly RtpengineAddress[];
  transport: NgTransport;
  clock: Clock;
  log: Logger;
  /** Health pings to every instance this often (ms, default 5,000). */
  pingIntervalMs?: number;
  /** The window of the rate-limited log lines (ms, default 60,000): one line per failure kind and instance. */
  logIntervalMs?: number;
  /** How many deletes of sessions left on unanswering instances may wait at once (default 1,000; orphan-sessions.ts). */
  maxOrphans?: number;
}

interface Instance {
  address: RtpengineAddress;
  name: string;
  /** Instances start up; a failed request or ping takes one down, an answered ping brings it back. */
  up: boolean;
  sessions: number;
}

/**
 * rtpengine instances behind one interface: a new call is anchored on one live instance (round robin, failing over
 * to the next on a timeout; a request the socket would not send fails alone), and every later ng request of the call (its answer, in-dialog
 * offers and answers, query and delete) goes to that instance (a {@link MediaSession}). Health pings take instances
 * down and bring them back. What a failed-over call may have left on an instance is deleted there (orphan-sessions.ts).
 * Every failure kind is counted and has one rate-limited log line per instance; SDP and keys are never logged.
 */
export class RtpenginePool implements SessionHost {
  readonly #instances: Instance[];
  readonly #transport: NgTransport;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #limited: RateLimitedLog;
  readonly #pingIntervalMs: number;
  readonly #orphans: OrphanSessions;
  #next = 0;
  #timer: TimerHandle | undefined;
  #closed = false;
  /** ng requests sent and not yet answered or timed out. */
  #inFlight = 0;
  /** Calls that hold no session yet but will open one (hold()). */
  #held = 0;
  readonly #stats = {
    requests: { offer: 0, answer: 0, delete: 0, query: 0, ping: 0 },
    failures: { timeout: 0, refused: 0, unavailable: 0, send: 0, tooLarge: 0 },
    failovers: 0,
    strayReplies: 0,
    sessionsOpened: 0,
  };

  constructor(o: RtpenginePoolOptions) {
    this.#instances = o.instances.map((a) => ({ address: { host: a.host, port: a.port }, name: `${a.host}:${a.port}`, up: true, sessions: 0 }));
    this.#transport = o.transport;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#limited = new RateLimitedLog(o.log, o.clock, { intervalMs: o.logIntervalMs ?? 60_000, perCode: 10 });
    this.#pingIntervalMs = Math.max(100, o.pingIntervalMs ?? 5_000);
    this.#orphans = new OrphanSessions({
      limited: this.#limited,
      ...(o.maxOrphans !== undefined ? { max: o.maxOrphans } : {}),
      // Counted as requests; their outcome is in the orphan counters and ERR_MEDIA_ORPHAN, not in failures.
      sendDelete: async (name, params) => {
        const inst = this.#instances.find((i) => i.name === name);
        if (!inst || this.#closed) return 'unanswered';
        this.#stats.requests.delete++;
        let reply: NgReply;
        try {
          reply = await this.#transport.send(inst.address, 'delete', params);
        } catch (err) {
          if (!this.#closed && !(err instanceof NgSendFailed)) this.#markDown(inst, 'no answer to a delete');
          return 'unanswered';
        }
        // rtpengine answers a delete of a Call-ID it does not hold with `result: ok` and a warning.
        return reply?.result === 'ok' && reply.warning === undefined ? 'deleted' : 'absent';
      },
    });
  }

  /** Pings every instance now, then every pingIntervalMs until close(). */
  async start(): Promise<void> {
    await this.checkNow();
    this.#schedule();
  }

  /**
   * One health round: each instance is pinged; the answer (or its absence) sets its state. An instance that answers
   * again comes back only once it has answered the deletes waiting for it, so no new call meets one there.
   */
  async checkNow(): Promise<void> {
    await Promise.all(this.#instances.map(async (inst) => {
      this.#stats.requests.ping++;
      let ok = false;
      try {
        ok = (await this.#transport.send(inst.address, 'ping')).result === 'pong';
      } catch {
        ok = false;
      }
      if (this.#closed) return;
      if (!ok) this.#markDown(inst, 'no answer to a health ping');
      else if (await this.#orphans.flush(inst.name)) this.#markUp(inst);
    }));
  }

  /** An SDP body refused before it went to rtpengine, being over what one ng request can carry (sdp-size.ts). */
  sdpTooLarge(): void {
    this.#stats.failures.tooLarge++;
  }

  /** A reply that was dropped (undecodable or late); the transport reports these. */
  strayReply(kind: 'undecodable' | 'unmatched'): void {
    this.#stats.strayReplies++;
    this.#limited.line('warn', 'ERR_MEDIA_REPLY', { kind }, `media: an rtpengine reply was dropped (${kind})`);
  }

  /**
   * Sends the caller's offer to a live instance and returns the session bound to it with rtpengine's SDP.
   * Rejects with ERR_MEDIA_UNAVAILABLE when no instance took it, ERR_MEDIA_REFUSED when one answered with an error.
   */
  offer(key: MediaCallKey, sdp: string, params: Record<string, unknown>): Promise<{ session: MediaSession; sdp: string }> {
    return this.anchor((on) => on.offer(key, sdp, params));
  }

  /**
   * Anchors one call on one live instance: `open` makes the call's sessions through the target it is given (one
   * session, or the two of a split-key call), all on that instance. When one of its offers fails over (no answer,
   * a reply with no dictionary, the instance's load limit), the sessions the attempt made there, and the offer that
   * went unanswered, are deleted on that instance, and `open` runs again on the next live one: a call never has
   * sessions on two instances. Any other failure deletes the attempt's sessions and rejects with it.
   */
  async anchor<T>(open: (on: MediaTarget) => Promise<T>): Promise<T> {
    let tried = 0;
    for (const inst of this.#liveOrder()) {
      if (this.#closed) break;
      if (!inst.up) continue;
      if (tried++ > 0) this.#stats.failovers++;
      const opened: MediaSession[] = [];
      let retry = false;
      const target: MediaTarget = {
        offer: async (key, sdp, params) => {
          await this.#orphans.adopt(inst.name, key.callId, key.fromTag);
          const r = await this.#request(inst, 'offer', { ...params, supports: ['load limit'], sdp, 'call-id': key.callId, 'from-tag': key.fromTag });
          if (!r.ok) {
            retry = r.retry;
            // An instance at its limit made nothing; one that did not answer (or not with a dictionary) may have.
            if (r.retry && r.error.code !== 'ERR_MEDIA_REFUSED') this.#orphans.note(inst.name, { 'call-id': key.callId, 'from-tag': key.fromTag });
            throw r.error;
          }
          inst.sessions++;
          this.#stats.sessionsOpened++;
          const session = new MediaSession(this, inst.address, key);
          opened.push(session);
          return { session, sdp: r.sdp };
        },
      };
      try {
        return await open(target);
      } catch (err) {
        for (const s of opened) {
          inst.sessions = Math.max(0, inst.sessions - 1);
          this.#orphans.note(inst.name, { 'call-id': s.key.callId, 'from-tag': s.key.fromTag });
        }
        if (!retry) throw err;
      }
    }
    this.#stats.failures.unavailable++;
    const names = this.#instances.map((i) => i.name).join(', ') || 'none configured';
    this.#limited.line('error', 'ERR_MEDIA_UNAVAILABLE', { instances: names }, `media: no rtpengine instance took a new call (${names})`);
    throw new MediaError('ERR_MEDIA_UNAVAILABLE', 'No media relay available');
  }

  /**
   * @internal MediaSession's answer and in-dialog offers and answers: to the instance that took the call's offer,
   * no failover, and sent even while that instance is marked down (one missed ping marks it, and the call's session
   * exists nowhere else; Kamailio's rtpengine module with `rtpengine_allow_op` does the same). A failure fails that
   * request only. `fromTag` is the offerer's tag, `toTag` the answerer's.
   */
  async sdpOn(address: RtpengineAddress, command: 'offer' | 'answer', tags: { callId: string; fromTag: string; toTag: string },
    sdp: string, params: Record<string, unknown>): Promise<string> {
    const inst = this.#instanceOf(address);
    const r = await this.#request(inst, command, { ...params, sdp, 'call-id': tags.callId, 'from-tag': tags.fromTag, 'to-tag': tags.toTag });
    if (!r.ok) throw r.error;
    return r.sdp;
  }

  /** @internal MediaSession's delete: the call's figures per leg, or undefined when the instance did not answer. */
  async deleteOn(address: RtpengineAddress, key: MediaCallKey, toTag: string | undefined): Promise<MediaTotals | undefined> {
    const inst = this.#instanceOf(address);
    inst.sessions = Math.max(0, inst.sessions - 1);
    const params = { 'call-id': key.callId, 'from-tag': key.fromTag, ...(toTag !== undefined ? { 'to-tag': toTag } : {}) };
    const r = await this.#request(inst, 'delete', params, true);
    // Unanswered or not sent, the session may still be there: deleted again when the instance answers pings.
    if (!r.ok && (r.error.code === 'ERR_MEDIA_TIMEOUT' || r.error.code === 'ERR_MEDIA_SEND_FAILED') && !this.#closed) this.#orphans.note(inst.name, params, false);
    return r.ok ? legTotals(r.reply, key.fromTag, toTag) : undefined;
  }

  /** @internal MediaSession's discard: a session of a call given up meanwhile is deleted at once as an orphan (counted). */
  discardOn(address: RtpengineAddress, key: MediaCallKey): void {
    const inst = this.#instanceOf(address);
    inst.sessions = Math.max(0, inst.sessions - 1);
    this.#limited.line('info', 'ERR_MEDIA_ORPHAN', { instance: inst.name }, `media: a session on ${inst.name} for a call attempt given up is deleted`, inst.name);
    this.#orphans.note(inst.name, { 'call-id': key.callId, 'from-tag': key.fromTag });
  }

  /** @internal MediaSession's query: the reply, or undefined when the instance did not answer or refused. */
  async queryOn(address: RtpengineAddress, key: MediaCallKey): Promise<Record<string, unknown> | undefined> {
    const r = await this.#request(this.#instanceOf(address), 'query', { 'call-id': key.callId, 'from-tag': key.fromTag }, true);
    return r.ok ? r.reply : undefined;
  }

  /**
   * Nothing of a call is on this pool any more: no session open, no call holding it for a session to come (hold()),
   * no delete waiting for a live instance, no request awaiting its answer (an offer under way would create a session
   * whose answer nobody reads). Only then may it be closed. Deletes waiting for an instance that is down do not keep
   * it: that instance may never answer again (a reload may have removed it), and rtpengine's own timeout ends what
   * it holds.
   */
  get idle(): boolean {
    return this.#inFlight === 0 && this.#held === 0 && this.#instances.every((i) => i.sessions === 0 && (!i.up || this.#orphans.waiting(i.name) === 0));
  }

  /**
   * Keeps the pool from counting as idle for a call that has no session on it yet but will open one (a late offer:
   * its session is made when the called side's 200 comes). Returns the release, which does something once.
   */
  hold(): () => void {
    this.#held++;
    let held = true;
    return () => {
      if (held) this.#held--;
      held = false;
    };
  }

  get stats(): MediaStats {
    const s = this.#stats;
    return {
      requests: { ...s.requests }, failures: { ...s.failures }, failovers: s.failovers, strayReplies: s.strayReplies,
      sessionsOpened: s.sessionsOpened, sessionsOpen: this.#instances.reduce((n, i) => n + i.sessions, 0), orphans: this.#orphans.stats,
      instances: this.#instances.map((i) => ({ address: i.name, up: i.up, sessions: i.sessions, orphans: this.#orphans.waiting(i.name) })),
    };
  }

  /** Stops the pings and closes the transport. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#limited.close();
    this.#transport.close();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      void this.checkNow().finally(() => this.#schedule());
    }, this.#pingIntervalMs);
  }

  /** Every instance, starting at the round-robin position among those up now. */
  #liveOrder(): Instance[] {
    const up = this.#instances.filter((i) => i.up);
    if (up.length === 0) return [];
    const start = this.#next++ % up.length;
    return [...up.slice(start), ...up.slice(0, start)];
  }

  #instanceOf(address: RtpengineAddress): Instance {
    return this.#instances.find((i) => i.address.host === address.host && i.address.port === address.port)!;
  }

  async #request(inst: Instance, command: Exclude<NgCommand, 'ping'>, params: Record<string, unknown>, quietRefusal = false): Promise<NgOutcome> {
    this.#stats.requests[command]++;
    const c: OutcomeContext = { instance: inst.name, command, failures: this.#stats.failures, limited: this.#limited, quietRefusal };
    let reply: NgReply;
    this.#inFlight++;
    try {
      reply = await this.#transport.send(inst.address, command, params);
    } catch (cause) {
      if (cause instanceof NgSendFailed) return notSent(c, cause);
      this.#markDown(inst, `no answer to ${command}`);
      return unanswered(c, cause);
    } finally {
      this.#inFlight--;
    }
    return replyOutcome(c, reply);
  }

  #markDown(inst: Instance, why: string): void {
    if (!inst.up) return;
    inst.up = false;
    this.#limited.line('error', 'ERR_MEDIA_INSTANCE_DOWN', { instance: inst.name, sessions: inst.sessions, why },
      `media: rtpengine ${inst.name} is down (${why}); ${inst.sessions} session(s) on it (a split-key call has two)`, inst.name);
  }

  #markUp(inst: Instance): void {
    if (inst.up) return;
    inst.up = true;
    this.#log.info({ instance: inst.name }, `media: rtpengine ${inst.name} answers again`);
  }
}
