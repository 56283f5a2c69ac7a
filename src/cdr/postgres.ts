import type { CdrRecord } from '../b2bua/cdr-record.js';
import { systemClock, type Clock, type TimerHandle } from '../common/index.js';
import { RateLimitedLog } from '../log/index.js';
import { DiskQueue, MAX_READ_FAILURES } from './disk-queue.js';
import type { CdrErrorCode } from './errors.js';
import { PgConnector } from './pg-connector.js';
import { insertStatement, MAX_BATCH, TABLE_NAME } from './pg-schema.js';
import { rowTrouble } from './pg-driver.js';

export type { PgClient, PgConnection, PostgresSinkOptions, PostgresSinkStats } from './postgres-types.js';
import type { PgClient, PostgresSinkOptions, PostgresSinkStats } from './postgres-types.js';

/** Batches held in memory for the database at most; past it the oldest go to the on-disk queue. */
const MAX_PENDING_BATCHES = 20;
/** How long close() waits for the database before what it has not taken goes to the on-disk queue instead. */
export const CLOSE_DEADLINE_MS = 3_000;

/**
 * CDRs into PostgreSQL: batched multi-row INSERTs into a table the gateway creates and migrates itself. While the
 * database cannot be reached (or a batch fails for any reason but what its rows hold), batches go to the bounded
 * on-disk queue; when it is back, the queue is replayed oldest first before any newer batch, so records arrive in order.
 * Every record has its own id and inserts skip ids already there, so a replayed batch is never stored twice.
 * A full queue is counted and logged once a minute (ERR_CDR_QUEUE_FULL); the JSON-lines file still has those.
 * A close waits for the database only so long: past its deadline the rest is queued on disk (fsync'd) instead.
 */
export class PostgresSink {
  readonly #o: PostgresSinkOptions;
  readonly #clock: Clock;
  readonly #limited: RateLimitedLog;
  readonly #queue: DiskQueue<CdrRecord>;
  readonly #batchSize: number;
  #pending: CdrRecord[] = [];
  /** The batch an INSERT is out for, and records on their way into the queue: not yet safe either. */
  #inserting: CdrRecord[] | undefined;
  #queueing = 0;
  #flushTimer: TimerHandle | undefined;
  readonly #db: PgConnector;
  #pump: Promise<void> | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Past the close deadline: the queue has everything; what the database answers after that changes nothing. */
  #abandoned = false;
  #replayBlockedUntil = 0;
  readonly #stats = { inserted: 0, duplicates: 0, batches: 0, queued: 0, spilled: 0, replayed: 0, queueFull: 0, rejected: 0, lost: 0 };

  constructor(o: PostgresSinkOptions) {
    if (!TABLE_NAME.test(o.table)) throw new Error(`CDR table name ${JSON.stringify(o.table)} is not a plain lower-case name`);
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#limited = new RateLimitedLog(o.log, this.#clock, { intervalMs: 60_000, perCode: 1 });
    this.#queue = new DiskQueue<CdrRecord>({ dir: o.queueDir, maxBytes: o.maxQueueBytes, log: o.log, clock: this.#clock });
    this.#batchSize = Math.max(1, Math.min(o.batchSize, MAX_BATCH));
    this.#db = new PgConnector({
      connection: o.connection, table: o.table, log: o.log, retryMs: o.retryMs, queryTimeoutMs: o.queryTimeoutMs, client: o.client,
      clock: this.#clock, limited: this.#limited, queue: this.#queue, onUp: () => this.#kick(),
    });
  }

  /** Takes up what an earlier run left queued and starts connecting; does not wait for the database. */
  async start(): Promise<void> {
    await this.#queue.open();
    if (!this.#queue.empty) {
      this.#o.log.info({ queuedBytes: this.#queue.bytes, dir: this.#o.queueDir }, 'cdr: records queued by an earlier run go to the database once it answers');
    }
    this.#db.start();
  }

  write(record: CdrRecord): void {
    this.#pending.push(record);
    if (this.#closing) return;
    if (this.#pending.length >= this.#batchSize) this.#kick();
    else this.#flushTimer ??= this.#clock.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#kick();
    }, this.#o.flushMs);
  }

  /** Resolves when every record written so far is in the database or in the on-disk queue. */
  async flush(): Promise<void> {
    this.#flushTimer?.cancel();
    this.#flushTimer = undefined;
    this.#kick();
    await this.#idle();
  }

  async #idle(): Promise<void> {
    while (this.#pump) await this.#pump;
  }

  /**
   * Stops: what is pending goes to the database when it is up and nothing is queued before it, else to the queue
   * (replayed at the next start); then the connection ends. A database that has not taken it all `deadlineMs` after
   * the close began is not waited for: the batch it is on and every record pending go to the queue (a row it
   * still inserts is not stored twice: replays skip ids already there). Idempotent.
   */
  close(deadlineMs = CLOSE_DEADLINE_MS): Promise<void> {
    return (this.#closed ??= this.#close(deadlineMs));
  }

  async #close(deadlineMs: number): Promise<void> {
    this.#closing = true;
    this.#db.stop();
    this.#flushTimer?.cancel();
    this.#flushTimer = undefined;
    this.#kick();
    let deadline: TimerHandle | undefined;
    const late = new Promise<boolean>((resolve) => {
      deadline = this.#clock.setTimeout(() => resolve(true), deadlineMs);
    });
    if (await Promise.race([this.#idle().then(() => false), late])) await this.#spool(deadlineMs);
    deadline?.cancel();
    await this.#queue.close();
    await this.#db.end();
  }

  /** The close deadline passed: the batch the database still has and the records pending, into the on-disk queue. */
  async #spool(deadlineMs: number): Promise<void> {
    this.#abandoned = true;
    const left = [...(this.#inserting ?? []), ...this.#pending];
    this.#inserting = undefined;
    this.#pending = [];
    if (left.length === 0) return;
    this.#o.log.warn({ code: 'ERR_CDR_DB' satisfies CdrErrorCode, records: left.length, deadlineMs, table: this.#o.table },
      `cdr: the database has not taken ${left.length} record(s) ${deadlineMs} ms into the stop; they go to the on-disk queue, replayed at the next start`);
    for (let i = 0; i < left.length; i += this.#batchSize) await this.#enqueue(left.slice(i, i + this.#batchSize));
  }

  stats(): PostgresSinkStats {
    const queue = this.#queue.stats();
    const pending = this.#pending.length + (this.#inserting?.length ?? 0) + this.#queueing;
    return { table: this.#o.table, connected: this.#db.up, ...this.#stats, lost: this.#stats.lost + queue.unreadableRecords,
      dbErrors: this.#db.dbErrors, pending, queue };
  }

  #kick(): void {
    if (this.#pump) return;
    this.#pump = this.#drain().catch((err: unknown) => {
      this.#o.log.error({ err, code: 'ERR_CDR_DB' satisfies CdrErrorCode }, 'cdr: the database sink failed unexpectedly');
    }).finally(() => {
      this.#pump = undefined;
      // Records left, or a queue whose replay must be tried again: another round after flushMs.
      if (!this.#closing && (this.#pending.length > 0 || (this.#db.up && !this.#queue.empty))) {
        this.#flushTimer ??= this.#clock.setTimeout(() => {
          this.#flushTimer = undefined;
          this.#kick();
        }, Math.max(this.#o.flushMs, this.#pending.length > 0 ? 0 : 1_000));
      }
    });
  }

  /**
   * One at a time: the queue first while the database is up, then the pending batches, in order. A database that
   * answers slower than calls end would let the records wait in memory without end: past MAX_PENDING_BATCHES
   * batches the oldest go to the on-disk queue (replayed, in order, as the database takes them).
   */
  async #drain(): Promise<void> {
    for (;;) {
      if (this.#pending.length > MAX_PENDING_BATCHES * this.#batchSize) {
        const batch = this.#pending.splice(0, this.#batchSize);
        this.#stats.spilled += batch.length;
        this.#limited.line('warn', 'ERR_CDR_DB' satisfies CdrErrorCode, { pending: this.#pending.length + batch.length, spilled: this.#stats.spilled },
          'cdr: the database takes records slower than calls end; the oldest wait in the on-disk queue');
        await this.#enqueue(batch);
        continue;
      }
      if (this.#db.up && !this.#queue.empty && !this.#closing && this.#clock.now() >= this.#replayBlockedUntil) {
        await this.#replayOne();
        continue;
      }
      if (this.#pending.length === 0 || this.#abandoned) return;
      const batch = this.#pending.splice(0, this.#batchSize);
      if (this.#db.up && this.#queue.empty) {
        this.#inserting = batch;
        const settled = await this.#insert(batch);
        // Past the close deadline the batch is in the queue already.
        if (this.#abandoned) return;
        this.#inserting = undefined;
        if (settled) continue;
      }
      await this.#enqueue(batch);
    }
  }

  /**
   * True: the batch is settled (inserted, or refused rows counted); false: the database is not taking records.
   * In a replay (`replay` given) nothing is queued again here: the segment stays for the next replay, and refused
   * rows are tallied in `replay` until the segment is done, so a segment replayed twice counts them once.
   */
  async #insert(batch: CdrRecord[], replay?: { rejected: number }): Promise<boolean> {
    const c = this.#db.client;
    if (!c) return false;
    const { text, values } = insertStatement(this.#o.table, batch);
    try {
      const r = await c.query(text, values);
      this.#stats.batches++;
      this.#stats.inserted += r.rowCount ?? 0;
      this.#stats.duplicates += batch.length - (r.rowCount ?? 0);
      return true;
    } catch (err) {
      if (!rowTrouble(err)) {
        this.#db.down(err);
        return false;
      }
      return this.#insertOneByOne(c, batch, err, replay);
    }
  }

  /** A batch the database refused for its content: each row alone, so one bad record does not hold back the rest. */
  async #insertOneByOne(c: PgClient, batch: CdrRecord[], first: unknown, replay: { rejected: number } | undefined): Promise<boolean> {
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      const { text, values } = insertStatement(this.#o.table, [r]);
      try {
        const res = await c.query(text, values);
        this.#stats.inserted += res.rowCount ?? 0;
        this.#stats.duplicates += 1 - (res.rowCount ?? 0);
      } catch (err) {
        if (!rowTrouble(err)) {
          this.#db.down(err);
          if (replay) return false;
          if (!this.#abandoned) await this.#enqueue(batch.slice(i));
          return true;
        }
        if (replay) replay.rejected++;
        else this.#stats.rejected++;
        this.#limited.line('error', 'ERR_CDR_DB_REJECTED' satisfies CdrErrorCode, { err, first, callId: r.callId, id: r.id, table: this.#o.table },
          `cdr: the database refused the record of call ${r.callId}; it is in the JSON-lines file and the cdr log line`);
      }
    }
    this.#stats.batches++;
    return true;
  }

  async #enqueue(batch: CdrRecord[]): Promise<void> {
    this.#queueing += batch.length;
    try {
      if (await this.#queue.append(batch)) {
        this.#stats.queued += batch.length;
        return;
      }
      this.#stats.queueFull += batch.length;
      this.#limited.line('error', 'ERR_CDR_QUEUE_FULL' satisfies CdrErrorCode,
        { dropped: this.#stats.queueFull, queuedBytes: this.#queue.bytes, maxQueueBytes: this.#o.maxQueueBytes, dir: this.#o.queueDir },
        `cdr: the on-disk queue for the database is full (${this.#o.maxQueueBytes} bytes); records not queued stay in the JSON-lines file and the cdr log line`);
    } catch (err) {
      this.#stats.lost += batch.length;
      this.#limited.line('error', 'ERR_CDR_QUEUE_IO' satisfies CdrErrorCode, { err, dir: this.#o.queueDir, records: batch.length },
        `cdr: cannot write the on-disk queue in ${this.#o.queueDir}; those records are in the JSON-lines file and the cdr log line`);
    } finally {
      this.#queueing -= batch.length;
    }
  }

  /** The oldest queued segment into the database; deleted once every row of it is in. */
  async #replayOne(): Promise<void> {
    let seg;
    try {
      seg = await this.#queue.peek();
    } catch (err) {
      this.#replayBlockedUntil = this.#clock.now() + 5_000;
      this.#limited.line('error', 'ERR_CDR_QUEUE_IO' satisfies CdrErrorCode, { err, dir: this.#o.queueDir },
        `cdr: cannot read the on-disk queue in ${this.#o.queueDir}; trying again in 5 s (a segment that fails ${MAX_READ_FAILURES} times is set aside)`);
      return;
    }
    if (!seg) return;
    const tally = { rejected: 0 };
    for (let i = 0; i < seg.records.length; i += this.#batchSize) {
      if (!(await this.#insert(seg.records.slice(i, i + this.#batchSize), tally))) return;
    }
    try {
      await seg.done();
    } catch (err) {
      this.#replayBlockedUntil = this.#clock.now() + 5_000;
      this.#limited.line('error', 'ERR_CDR_QUEUE_IO' satisfies CdrErrorCode, { err, dir: this.#o.queueDir, segment: seg.name },
        `cdr: cannot delete the replayed queue segment ${seg.name}; its rows are in the database (a second replay adds none)`);
      return;
    }
    this.#stats.replayed += seg.records.length;
    this.#stats.rejected += tally.rejected;
    if (this.#queue.empty) this.#o.log.info({ replayed: this.#stats.replayed, table: this.#o.table }, 'cdr: the on-disk queue is replayed into the database');
  }
}
