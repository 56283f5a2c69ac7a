import { open, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

/** What GET /cdrs filters by: a time window on the call's end, a number in either party, a cause. */
export interface CdrQuery {
  /** Calls that ended at or after this time (ms since the epoch). */
  from?: number;
  /** Calls that ended at or before this time. */
  to?: number;
  /** A part of the calling or the called number. */
  number?: string;
  /** The cause, whole (`normal`) or its family before the colon (`denied` for `denied:international`). */
  cause?: string;
  limit: number;
}

export interface CdrQueryResult {
  /** Matching records, newest first, at most `limit`. */
  cdrs: Record<string, unknown>[];
  /** Bytes read: the scan stops at `maxBytes`, so an old window in a large history may be cut short. */
  scannedBytes: number;
  /** True when the scan stopped at `maxBytes` or at `limit` with more left to read. */
  truncated: boolean;
  /** Lines passed over: longer than MAX_LINE, or not a JSON object (a torn write). */
  skippedLines: number;
}

const CHUNK = 64 * 1024;
/** The longest line read; a CDR is a few KiB, so a longer line is not one (its bytes are passed over, not kept). */
export const MAX_LINE = 64 * 1024;

/** The current file and its rotated siblings (`<stem>-<UTC time><ext>`), newest first. */
async function cdrFiles(path: string): Promise<string[]> {
  const ext = extname(path);
  const stem = basename(path, ext);
  const rotated = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}T\\d{6}\\.\\d{3}Z${ext.replace('.', '\\.')}$`);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  return [path, ...names.filter((n) => rotated.test(n)).sort().reverse().map((n) => join(dirname(path), n))];
}

/**
 * The lines of a file from its end backwards, each at most MAX_LINE bytes: a longer one is counted in
 * `scan.skipped` and not kept, so what is held of a line never passes MAX_LINE plus one chunk.
 */
async function* linesBackwards(file: string, scan: { left: number; skipped: number }): AsyncGenerator<string> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    let pos = (await fh.stat()).size;
    // The end of the line whose start is not read yet; `long`: that line is past MAX_LINE, its bytes are dropped.
    let tail = Buffer.alloc(0);
    let long = false;
    while (pos > 0 && scan.left > 0) {
      const n = Math.min(CHUNK, pos, scan.left);
      pos -= n;
      scan.left -= n;
      const buf = Buffer.alloc(n);
      await fh.read(buf, 0, n, pos);
      const joined = tail.length > 0 ? Buffer.concat([buf, tail]) : buf;
      let end = joined.length;
      for (let nl = joined.lastIndexOf(0x0a, end - 1); nl >= 0; nl = end > 0 ? joined.lastIndexOf(0x0a, end - 1) : -1) {
        if (long || end - nl - 1 > MAX_LINE) scan.skipped++;
        else {
          const line = joined.subarray(nl + 1, end).toString('utf8').trim();
          if (line !== '') yield line;
        }
        long = false;
        end = nl;
      }
      long ||= end > MAX_LINE;
      tail = long ? Buffer.alloc(0) : Buffer.from(joined.subarray(0, end));
    }
    if (pos === 0 && long) scan.skipped++;
    else if (pos === 0 && tail.length > 0) yield tail.toString('utf8').trim();
  } finally {
    await fh.close();
  }
}

function matches(r: Record<string, unknown>, q: CdrQuery): boolean {
  const end = typeof r.endAt === 'number' ? r.endAt : undefined;
  if (q.from !== undefined && (end === undefined || end < q.from)) return false;
  if (q.to !== undefined && (end === undefined || end > q.to)) return false;
  if (q.number !== undefined && ![r.callingNumber, r.calledNumber].some((n) => typeof n === 'string' && n.includes(q.number!))) return false;
  if (q.cause !== undefined && r.cause !== q.cause && !(typeof r.cause === 'string' && r.cause.startsWith(`${q.cause}:`))) return false;
  return true;
}

/**
 * Reads the JSON-lines CDR file and its rotated files from the newest record back, keeping those `q` accepts, until
 * `limit` are found or `maxBytes` have been read. A line that is not a JSON object (a torn last write) is skipped.
 */
export async function readCdrs(path: string, q: CdrQuery, maxBytes: number): Promise<CdrQueryResult> {
  const scan = { left: maxBytes, skipped: 0 };
  const cdrs: Record<string, unknown>[] = [];
  const result = (truncated: boolean): CdrQueryResult => ({ cdrs, scannedBytes: maxBytes - scan.left, truncated, skippedLines: scan.skipped });
  for (const file of await cdrFiles(path)) {
    for await (const line of linesBackwards(file, scan)) {
      let r: unknown;
      try {
        r = JSON.parse(line);
      } catch {
        scan.skipped++;
        continue;
      }
      if (r === null || typeof r !== 'object' || Array.isArray(r)) {
        scan.skipped++;
        continue;
      }
      const rec = r as Record<string, unknown>;
      // A file older than the window ends the scan: files are in time order, records within one too.
      if (q.from !== undefined && typeof rec.endAt === 'number' && rec.endAt < q.from - 60_000) return result(false);
      if (!matches(rec, q)) continue;
      cdrs.push(rec);
      if (cdrs.length >= q.limit) return result(true);
    }
    if (scan.left <= 0) return result(true);
  }
  return result(false);
}
