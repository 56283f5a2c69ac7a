import { createWriteStream, existsSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
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
  /** Records in the file: their write completed. A record handed over and not yet written is in neither count. */
  written: number;
  /** Size of the current file. */
  bytes: number;
  rotations: number;
  /** Rotated files deleted to stay within `keep`. */
  pruned: number;
  /** Open, write or rotation failures, and the times the file was found gone or replaced at its path (then reopened). */
  errors: number;
  /** Records not in the file: it could not be opened, its write failed, the disk fell behind, or it was closed. */
  lost: number;
}

/** A wait after a failed open before the next record tries again, so a broken disk is not hammered per call. */
const REOPEN_AFTER_MS = 1_000;
/** How often (at most; a record makes the check) the path is checked to still name the open file. */
const CHECK_PATH_MS = 1_000;

/** One open file: its stream, which file it is (to tell when the path names another), and its records in flight. */
interface OpenFile {
  s: WriteStream;
  dev: number;
  ino: number;
  /** Records written to it since the path was last found to name it; records its failure took. */
  sinceCheck: number;
  lost: number;
  failed?: boolean;
}

const stampOf = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '');
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The JSON-lines CDR file: one record per line, appended through a write stream; rotated by size and by UTC day
 * into files named by the time each one started (a file an earlier run left: by its last write), so their names
 * sort in time order, of which the newest `keep` are kept. A file that cannot be written is logged (ERR_CDR_FILE, rate-limited) and tried again; the records of
 * that time are counted as lost here and are still in the `cdr` log line. A file deleted, or renamed away without
 * copytruncate (logrotate), is noticed within a second (and before each rotation) and created again at the path
 * (ERR_CDR_FILE_GONE); the records written to it in between are in the file renamed away, or gone with the deleted one.
 */
export class JsonLinesFile {
  readonly #o: JsonLinesFileOptions;
  readonly #clock: Clock;
  readonly #limited: RateLimitedLog;
  readonly #dir: string;
  readonly #stem: string;
  readonly #ext: string;
  readonly #rotated: RegExp;
  #file: OpenFile | undefined;
  #checkedAt = 0;
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
    if (!this.#file && !this.#closed) this.#open();
  }

  write(record: object): void {
    if (this.#closed) {
      this.#stats.lost++;
      return;
    }
    const line = `${JSON.stringify(record)}\n`;
    const len = Buffer.byteLength(line);
    const now = this.#clock.now();
    if (this.#file && now - this.#checkedAt >= CHECK_PATH_MS) this.#checkPath(now);
    if (!this.#file && !this.#open()) {
      this.#stats.lost++;
      return;
    }
    const waiting = this.#file!.s.writableLength;
    if (waiting + len > (this.#o.maxBufferedBytes ?? 16 * 1024 * 1024)) {
      this.#stats.lost++;
      this.#limited.line('error', 'ERR_CDR_FILE' satisfies CdrErrorCode, { path: this.#o.path, waitingBytes: waiting, lost: this.#stats.lost },
        'cdr: the JSON-lines file is not keeping up (the disk does not take the writes): records are left out of it');
      return;
    }
    if (this.#rotationDue(now, len)) {
      // The file about to be renamed must still be the one at the path.
      this.#checkPath(now);
      if (this.#file && this.#rotationDue(now, len)) this.#rotate(now);
    } else if (this.#bytes === 0 && this.#o.rotateDaily && dayOf(now) !== dayOf(this.#startedAt)) this.#startedAt = now;
    // Rotated or reopened, but the new file could not be opened (logged there): this record is not in a file.
    const f = this.#file;
    if (!f) {
      this.#stats.lost++;
      return;
    }
    // Counted when the disk took it. A failed write reports each record the stream held, one after the other in
    // the same turn: the failure is handled once they all are, well before the stream's own error event.
    f.s.write(line, (err) => {
      if (!err) {
        this.#stats.written++;
        return;
      }
      f.lost++;
      this.#stats.lost++;
      if (!f.failed) queueMicrotask(() => this.#fail(f, err));
      f.failed = true;
    });
    f.sinceCheck++;
    this.#bytes += len;
  }

  /** Resolves when everything written so far has reached the file (or the stream failed). */
  async flush(): Promise<void> {
    const s = this.#file?.s;
    const ending = Promise.all(this.#ending);
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.write('', () => resolve()));
    await ending;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const f = this.#file;
    this.#file = undefined;
    if (f) await endStream(f.s);
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
      const f: OpenFile = { s: createWriteStream(this.#o.path, { fd, flags: 'a' }), dev: st.dev, ino: st.ino, sinceCheck: 0, lost: 0 };
      f.s.on('error', (err) => {
        if (!f.failed) this.#fail(f, err);
        f.failed = true;
      });
      this.#file = f;
      this.#checkedAt = now;
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

  /** A stream that failed: the records it held are counted lost (by their callbacks, already run) and said in its line. */
  #fail(f: OpenFile, err: Error): void {
    this.#stats.errors++;
    this.#limited.line('error', 'ERR_CDR_FILE' satisfies CdrErrorCode, { err, path: this.#o.path, lost: f.lost },
      `cdr: writing to ${this.#o.path} failed; ${f.lost} record(s) not in it (they stay in the cdr log line and the database, if any)`);
    if (this.#file === f) {
      this.#file = undefined;
      this.#failedAt = this.#clock.now();
    }
    f.s.destroy();
  }

  #rotationDue(now: number, len: number): boolean {
    const newDay = this.#o.rotateDaily && dayOf(now) !== dayOf(this.#startedAt);
    const full = this.#o.rotateBytes > 0 && this.#bytes + len > this.#o.rotateBytes;
    return this.#bytes > 0 && (newDay || full);
  }

  /**
   * Whether the path still names the open file (same device and inode). Gone (deleted, renamed away) or another
   * file in its place: the open one is let go (what it still holds lands in it) and the path opened again.
   */
  #checkPath(now: number): void {
    const f = this.#file;
    if (!f) return;
    this.#checkedAt = now;
    let at: { dev: number; ino: number } | undefined;
    try {
      at = statSync(this.#o.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return; // says nothing of the file
    }
    if (at && at.dev === f.dev && at.ino === f.ino) {
      f.sinceCheck = 0;
      return;
    }
    this.#gone(f, at ? 'another file' : 'nothing');
    this.#letGo(f);
    this.#failedAt = undefined;
    this.#open();
  }

  #gone(f: OpenFile, found: string): void {
    this.#stats.errors++;
    this.#limited.line('warn', 'ERR_CDR_FILE_GONE' satisfies CdrErrorCode, { path: this.#o.path, found, recordsSinceCheck: f.sinceCheck },
      `cdr: ${this.#o.path} is no longer the file being written (deleted, renamed away or replaced); opening it again. `
      + `The ${f.sinceCheck} record(s) written since the last check are in the old file`);
  }

  /** The file stops taking records; its stream still writes what it holds, then closes (close() and flush() wait). */
  #letGo(f: OpenFile): void {
    if (this.#file === f) this.#file = undefined;
    const ending = endStream(f.s).finally(() => this.#ending.delete(ending));
    this.#ending.add(ending);
  }

  /** The current file goes aside under its start time; a new one takes the name; the oldest beyond `keep` go. */
  #rotate(now: number): void {
    let at = Math.floor(this.#startedAt);
    let target = join(this.#dir, `${this.#stem}-${stampOf(at)}${this.#ext}`);
    while (existsSync(target)) target = join(this.#dir, `${this.#stem}-${stampOf(++at)}${this.#ext}`);
    const old = this.#file!;
    let gone = false;
    try {
      renameSync(this.#o.path, target);
    } catch (err) {
      gone = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (!gone) {
        this.#stats.errors++;
        this.#limited.line('error', 'ERR_CDR_FILE' satisfies CdrErrorCode, { err, path: this.#o.path, target },
          `cdr: cannot rotate ${this.#o.path}; writing on to it`);
        return;
      }
      // Gone since the check: nothing to rotate; a new file is opened all the same.
      this.#gone(old, 'nothing');
    }
    // Writes still buffered in the old stream land in the renamed file (same inode), then it closes.
    this.#letGo(old);
    this.#failedAt = undefined;
    if (this.#open()) this.#startedAt = now;
    if (gone) return;
    this.#stats.rotations++;
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
