import { createWriteStream, existsSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, type WriteStream } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/index.js';
import { RateLimitedLog } from '../log/index.js';
import type { CdrErrorCode } from './errors.js';

export interface JsonLinesFileOptions {
  /** The file records are appended to; rotated files go beside it as `<name>-<UTC start time>.<ext>`. */
  path: string;
  /** Rotate before a record would take the file past this size; 0: never by size. */
  rotateBytes: number;
  /** Rotate at the first record of a new UTC day. */
  rotateDaily: boolean;
  /** Rotated files kept; older ones are deleted. */
  keep: number;
  log: Logger;
  clock?: Clock;
  /**
   * Bytes the file may have waiting for the disk (default 16 MiB). A disk that stalls would otherwise hold every
   * record in memory; past it a record is counted lost and logged (ERR_CDR_FILE, rate-limited), and it is still in
   * the `cdr` log line and the database.
   */
  maxBufferedBytes?: number;
}

export interface JsonLinesFileStats {
  path: string;
  /** Records handed to the file. */
  written: number;
  /** Size of the current file. */
  bytes: number;
  rotations: number;
  /** Rotated files deleted to stay within `keep`. */
  pruned: number;
  /** Open, write or rotation failures. */
  errors: number;
  /** Records not written because the file could not be opened. */
  lost: number;
}

/** A wait after a failed open before the next record tries again, so a broken disk is not hammered per call. */
const REOPEN_AFTER_MS = 1_000;

const stampOf = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '');
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The JSON-lines CDR file: one record per line, appended through a write stream; rotated by size and by UTC day
 * into files named by the time each one started (a file an earlier run left: by its last write), so their names
 * sort in time order, of which the newest `keep` are kept. A file that cannot be written is logged (ERR_CDR_FILE, rate-limited) and tried again; the records of
 * that time are counted as lost here and are still in the `cdr` log line.
 */
export class JsonLinesFile {
  readonly #o: JsonLinesFileOptions;
  readonly #clock: Clock;
  readonly #limited: RateLimitedLog;
  readonly #dir: string;
  readonly #stem: string;
  readonly #ext: string;
  readonly #rotated: RegExp;
  #stream: WriteStream | undefined;
  #bytes = 0;
  /** When the current file started (for its rotated name and its day). */
  #startedAt = 0;
  #failedAt: number | undefined;
  #closed = false;
  /** Rotated-away streams still writing their last records; close() and flush() wait for them. */
  readonly #ending = new Set<Promise<void>>();
  readonly #stats = { written: 0, rotations: 0, pruned: 0, errors: 0, lost: 0 };

  constructor(o: JsonLinesFileOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#limited = new RateLimitedLog(o.log, this.#clock, { intervalMs: 60_000, perCode: 5 });
    this.#dir = dirname(o.path);
    this.#ext = extname(o.path);
    this.#stem = basename(o.path, this.#ext);
    this.#rotated = new RegExp(`^${escape(this.#stem)}-\\d{8}T\\d{6}\\.\\d{3}Z${escape(this.#ext)}$`);
  }

  /** Opens the file now (a start checks it can write there; a failure is logged and the first record tries again). */
  start(): void {
    if (!this.#stream && !this.#closed) this.#open();
  }

  write(record: object): void {
    if (this.#closed) return;
    const line = `${JSON.stringify(record)}\n`;
    const len = Buffer.byteLength(line);
    if (!this.#stream && !this.#open()) {
      this.#stats.lost++;
      return;
    }
    const waiting = this.#stream!.writableLength;
    if (waiting + len > (this.#o.maxBufferedBytes ?? 16 * 1024 * 1024)) {
      this.#stats.lost++;
      this.#limited.line('error', 'ERR_CDR_FILE' satisfies CdrErrorCode, { path: this.#o.path, waitingBytes: waiting, lost: this.#stats.lost },
        'cdr: the JSON-lines file is not keeping up (the disk does not take the writes): records are left out of it');
      return;
    }
    const now = this.#clock.now();
    const newDay = this.#o.rotateDaily && dayOf(now) !== dayOf(this.#startedAt);
    const full = this.#o.rotateBytes > 0 && this.#bytes + len > this.#o.rotateBytes;
    if (this.#bytes > 0 && (newDay || full)) this.#rotate(now);
    else if (this.#bytes === 0 && newDay) this.#startedAt = now;
    // Rotated, but the new file could not be opened (logged there): this record is not in a file.
    if (!this.#stream) {
      this.#stats.lost++;
      return;
    }
    this.#stream.write(line);
    this.#bytes += len;
    this.#stats.written++;
  }

  /** Resolves when everything written so far has reached the file (or the stream failed). */
  async flush(): Promise<void> {
    const s = this.#stream;
    const ending = Promise.all(this.#ending);
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.write('', () => resolve()));
    await ending;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#stream;
    this.#stream = undefined;
    if (s) await endStream(s);
    await Promise.all(this.#ending);
  }

  stats(): JsonLinesFileStats {
    return { path: this.#o.path, bytes: this.#bytes, ...this.#stats };
  }

  /** Opens (creating its folder) the file for appending; false when it cannot be, or a failure was too recent. */
  #open(): boolean {
    const now = this.#clock.now();
    if (this.#failedAt !== undefined && now - this.#failedAt < REOPEN_AFTER_MS) return false;
    try {
      mkdirSync(this.#dir, { recursive: true });
      // Opened here, not by the stream, so the file exists at once (a rotation right after renames it).
      const fd = openSync(this.#o.path, 'a', 0o640);
      const st = fstatSync(fd);
      const size = st.size;
      // A file left from an earlier run counts from its last write (its day decides a daily rotation; its name too).
      const startedAt = size > 0 ? st.mtimeMs : now;
      const s = createWriteStream(this.#o.path, { fd, flags: 'a' });
      s.on('error', (err) => this.#fail(s, err, 'write'));
      this.#stream = s;
      this.#bytes = size;
      this.#startedAt = startedAt;
      this.#failedAt = undefined;
      return true;
    } catch (err) {
      this.#failedAt = now;
      this.#stats.errors++;
      this.#limited.line('error', 'ERR_CDR_FILE' satisfies CdrErrorCode, { err, path: this.#o.path },
        `cdr: cannot open ${this.#o.path}; records stay in the cdr log line (and the database, if any)`);
      return false;
    }
  }

  #fail(s: WriteStream, err: Error, what: string): void {
    this.#stats.errors++;
    this.#limited.line('error', 'ERR_CDR_FILE' satisfies CdrErrorCode, { err, path: this.#o.path },
      `cdr: ${what} to ${this.#o.path} failed; records stay in the cdr log line (and the database, if any)`);
    if (this.#stream === s) {
      this.#stream = undefined;
      this.#failedAt = this.#clock.now();
    }
    s.destroy();
  }

  /** The current file goes aside under its start time; a new one takes the name; the oldest beyond `keep` go. */
  #rotate(now: number): void {
    let at = Math.floor(this.#startedAt);
    let target = join(this.#dir, `${this.#stem}-${stampOf(at)}${this.#ext}`);
    while (existsSync(target)) target = join(this.#dir, `${this.#stem}-${stampOf(++at)}${this.#ext}`);
    const old = this.#stream!;
    try {
      renameSync(this.#o.path, target);
    } catch (err) {
      this.#stats.errors++;
      this.#limited.line('error', 'ERR_CDR_FILE' satisfies CdrErrorCode, { err, path: this.#o.path, target },
        `cdr: cannot rotate ${this.#o.path}; writing on to it`);
      return;
    }
    // Writes still buffered in the old stream land in the renamed file (same inode), then it closes.
    this.#stream = undefined;
    const ending = endStream(old).finally(() => this.#ending.delete(ending));
    this.#ending.add(ending);
    this.#stats.rotations++;
    this.#failedAt = undefined;
    if (this.#open()) this.#startedAt = now;
    this.#prune();
  }

  #prune(): void {
    try {
      const rotated = readdirSync(this.#dir).filter((n) => this.#rotated.test(n)).sort();
      for (const name of rotated.slice(0, Math.max(0, rotated.length - this.#o.keep))) {
        unlinkSync(join(this.#dir, name));
        this.#stats.pruned++;
      }
    } catch (err) {
      this.#stats.errors++;
      this.#limited.line('error', 'ERR_CDR_FILE' satisfies CdrErrorCode, { err, dir: this.#dir }, `cdr: cannot remove old rotated files in ${this.#dir}`);
    }
  }
}

function endStream(s: WriteStream): Promise<void> {
  if (s.destroyed || s.closed) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('close', () => resolve());
    s.end();
  });
}
