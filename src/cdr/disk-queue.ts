import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/index.js';
import { RateLimitedLog } from '../log/index.js';
import type { CdrErrorCode } from './errors.js';

export interface DiskQueueOptions {
  /** The queue's own folder: segment files `q-<sequence>.jsonl`, oldest first. */
  dir: string;
  /** The most bytes all segments may hold; a batch that would pass it is refused. */
  maxBytes: number;
  /** A segment is closed once this large, so replayed segments can be deleted whole (default 1 MiB). */
  segmentBytes?: number;
  log: Logger;
  clock?: Clock;
}

export interface DiskQueueStats {
  dir: string;
  bytes: number;
  segments: number;
  /** Records appended, and batches refused because the queue was full (with their records). */
  appended: number;
  refusedBatches: number;
  refusedRecords: number;
  /** Lines that did not parse on replay (a write a crash cut short), skipped. */
  corruptLines: number;
  /**
   * Segments taken out of the queue unread: gone from the folder, or unreadable MAX_READ_FAILURES times in a row
   * (renamed `<name>.bad`); with the records this run had appended to them (an earlier run's count is not known).
   */
  unreadableSegments: number;
  unreadableRecords: number;
}

/** One segment's records, oldest first; `done()` deletes it once they are safely elsewhere. */
export interface QueueSegment<T> {
  name: string;
  records: T[];
  done(): Promise<void>;
}

const SEGMENT = /^q-(\d{12})\.jsonl$/;
/** A segment set aside unreadable: out of the queue, its sequence number never used again. */
const SET_ASIDE = /^q-(\d{12})\.jsonl\.bad$/;
/** Reads of the oldest segment that may fail in a row before it is set aside. */
export const MAX_READ_FAILURES = 3;

interface Segment {
  seq: number;
  bytes: number;
  records?: number;
  readFailures?: number;
  corruptCounted?: boolean;
}

const nameOf = (seq: number): string => `q-${String(seq).padStart(12, '0')}.jsonl`;

/**
 * A bounded, append-only queue on disk for records that could not be delivered: each batch is appended to the
 * newest segment as JSON lines and fsync'd before append() resolves, so a record the caller was told is queued
 * survives a crash. Segments are read back oldest first; a line that does not parse (the half-written end of a
 * segment after a crash) is skipped and counted; a segment gone from the folder, or that cannot be read a few times in
 * a row, is taken out of the queue and counted. Segments from an earlier run are picked up by open(), and new
 * batches never go into them. Operations run one at a time, in call order.
 */
export class DiskQueue<T = unknown> {
  readonly #o: DiskQueueOptions;
  readonly #limited: RateLimitedLog;
  readonly #segmentBytes: number;
  /**
   * Sequence numbers of the segments on disk, oldest first, with their sizes, the records this run appended (unknown
   * for an earlier run's), the reads that failed in a row, and whether their torn lines are counted.
   */
  readonly #segments: Segment[] = [];
  #bytes = 0;
  #writing: { seq: number; fh: FileHandle } | undefined;
  #nextSeq = 1;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #stats = { appended: 0, refusedBatches: 0, refusedRecords: 0, corruptLines: 0, unreadableSegments: 0, unreadableRecords: 0 };

  constructor(o: DiskQueueOptions) {
    this.#o = o;
    this.#segmentBytes = o.segmentBytes ?? 1_048_576;
    this.#limited = new RateLimitedLog(o.log, o.clock ?? systemClock, { intervalMs: 60_000, perCode: 1 });
  }

  /** Creates the folder and takes up the segments an earlier run left. */
  open(): Promise<void> {
    return this.#run(async () => {
      await mkdir(this.#o.dir, { recursive: true, mode: 0o750 });
      const found: Segment[] = [];
      let last = 0;
      for (const name of await readdir(this.#o.dir)) {
        const m = SEGMENT.exec(name);
        if (m) found.push({ seq: Number(m[1]), bytes: (await stat(join(this.#o.dir, name))).size });
        const seq = Number((m ?? SET_ASIDE.exec(name))?.[1] ?? 0);
        last = Math.max(last, seq);
      }
      found.sort((a, b) => a.seq - b.seq);
      this.#segments.push(...found);
      this.#bytes = found.reduce((n, s) => n + s.bytes, 0);
      this.#nextSeq = last + 1;
    });
  }

  get bytes(): number {
    return this.#bytes;
  }

  get empty(): boolean {
    return this.#segments.length === 0;
  }

  /** Appends the batch and fsyncs it; false (nothing written) when it would take the queue past maxBytes. */
  append(records: readonly T[]): Promise<boolean> {
    return this.#run(async () => {
      if (records.length === 0) return true;
      const data = Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      if (this.#bytes + data.length > this.#o.maxBytes) {
        this.#stats.refusedBatches++;
        this.#stats.refusedRecords += records.length;
        return false;
      }
      if (!this.#writing) {
        const seq = this.#nextSeq++;
        const fh = await open(join(this.#o.dir, nameOf(seq)), 'a', 0o640);
        this.#writing = { seq, fh };
        this.#segments.push({ seq, bytes: 0, records: 0 });
      }
      const w = this.#writing;
      const seg = this.#segments.at(-1)!;
      try {
        await w.fh.write(data);
        await w.fh.sync();
      } catch (err) {
        // What reached the file may be a part of the batch: that segment is closed, and its torn end is skipped on replay.
        await this.#seal();
        throw err;
      }
      seg.bytes += data.length;
      seg.records = (seg.records ?? 0) + records.length;
      this.#bytes += data.length;
      this.#stats.appended += records.length;
      if (seg.bytes >= this.#segmentBytes) await this.#seal();
      return true;
    });
  }

  /**
   * The oldest segment (closed first if it is the one being written), or undefined when the queue is empty. One that
   * is gone is dropped and the next one read; one that cannot be read rejects, and is set aside at its
   * MAX_READ_FAILURES-th failure in a row so the segments after it are not held back for good.
   */
  peek(): Promise<QueueSegment<T> | undefined> {
    return this.#run(async () => {
      for (;;) {
        const first = this.#segments[0];
        if (!first) return undefined;
        if (this.#writing?.seq === first.seq) await this.#seal();
        const name = nameOf(first.seq);
        let text: string;
        try {
          text = await readFile(join(this.#o.dir, name), 'utf8');
        } catch (err) {
          if (!(await this.#unreadable(first, name, err))) throw err;
          continue;
        }
        first.readFailures = 0;
        return this.#parse(first, name, text);
      }
    });
  }

  #parse(first: Segment, name: string, text: string): QueueSegment<T> {
    const lines = text.split('\n');
    // A line that does not parse (the end of a batch a crash cut short) is skipped; a record is a JSON object, so
    // one cut anywhere never parses.
    const records: T[] = [];
    let corrupt = 0;
    for (const line of lines) {
      if (line === '') continue;
      try {
        const r = JSON.parse(line) as unknown;
        if (typeof r === 'object' && r !== null && !Array.isArray(r)) records.push(r as T);
        else corrupt++;
      } catch {
        corrupt++;
      }
    }
    // A segment read again (its replay did not finish) has its torn lines counted and logged the first time only.
    if (corrupt > 0 && !first.corruptCounted) {
      first.corruptCounted = true;
      this.#stats.corruptLines += corrupt;
      this.#limited.line('warn', 'ERR_CDR_QUEUE_CORRUPT' satisfies CdrErrorCode, { segment: name, lines: corrupt, dir: this.#o.dir },
        `cdr: ${corrupt} line(s) of queued records in ${name} do not parse (a write cut short); skipped`);
    }
    return {
      name, records,
      // Deleted, or already gone: either way its records are elsewhere now.
      done: () => this.#run(async () => {
        await unlink(join(this.#o.dir, name)).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        });
        this.#drop(first);
      }),
    };
  }

  /**
   * A read of the oldest segment failed: true when the segment is out of the queue (gone, or set aside as
   * `<name>.bad` at its MAX_READ_FAILURES-th failure), its records counted and one coded line written; false when it
   * stays for another try. A rename that fails too leaves the file where it is: the next start takes it up again.
   */
  async #unreadable(seg: Segment, name: string, err: unknown): Promise<boolean> {
    const gone = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
    if (!gone) {
      seg.readFailures = (seg.readFailures ?? 0) + 1;
      if (seg.readFailures < MAX_READ_FAILURES) return false;
      await rename(join(this.#o.dir, name), join(this.#o.dir, `${name}.bad`)).catch(() => undefined);
    }
    this.#drop(seg);
    this.#stats.unreadableSegments++;
    this.#stats.unreadableRecords += seg.records ?? 0;
    const what = seg.records !== undefined ? `its ${seg.records} record(s)` : 'its records (queued by an earlier run)';
    this.#limited.line('error', 'ERR_CDR_QUEUE_IO' satisfies CdrErrorCode, { err, dir: this.#o.dir, segment: name, records: seg.records ?? null },
      gone ? `cdr: the queue segment ${name} is gone from ${this.#o.dir}; ${what} are only in the JSON-lines file and the cdr log line`
        : `cdr: the queue segment ${name} could not be read ${MAX_READ_FAILURES} times; set aside as ${name}.bad; ${what} are not replayed (the JSON-lines file and the cdr log line have them)`);
    return true;
  }

  #drop(seg: Segment): void {
    const i = this.#segments.indexOf(seg);
    if (i < 0) return;
    this.#bytes -= seg.bytes;
    this.#segments.splice(i, 1);
  }

  async close(): Promise<void> {
    await this.#run(() => this.#seal());
  }

  stats(): DiskQueueStats {
    return { dir: this.#o.dir, bytes: this.#bytes, segments: this.#segments.length, ...this.#stats };
  }

  async #seal(): Promise<void> {
    const w = this.#writing;
    this.#writing = undefined;
    if (w) await w.fh.close().catch(() => undefined);
  }

  #run<R>(fn: () => Promise<R>): Promise<R> {
    const p = this.#chain.then(fn);
    this.#chain = p.catch(() => undefined);
    return p;
  }
}
