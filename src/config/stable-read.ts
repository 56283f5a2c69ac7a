import { lstatSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigProblem } from './errors.js';
import type { ConfigDocument } from './merge-documents.js';

/** Configuration files as read, and what could not be read. */
export interface ReadDocuments {
  documents: ConfigDocument[];
  problems: ConfigProblem[];
}

/** A file written within this long (its mtime) may still be in the middle of being written. */
export const QUIET_MS = 300;
/** A read that has not settled by then is refused. */
export const SETTLE_MS = 2_000;
/** The wait before reading again a file that changed while it was read. */
const RETRY_MS = 100;
/** Passes at most, whatever the clock says. */
const MAX_PASSES = 8;

export interface StableReadOptions {
  /** Wall-clock milliseconds, compared with the files' mtimes; Date.now by default. */
  now?: () => number;
  /** Waits before the next pass; a timer by default. */
  sleep?: (ms: number) => Promise<void>;
  /** Called after a file's bytes are read and before it is looked at again (tests write to it here). */
  afterRead?: (file: string) => void | Promise<void>;
}

/**
 * Every `*.yaml` / `*.yml` of a directory (by name), or the files given; a directory that cannot be listed, or holds
 * none, is a problem.
 */
export function listConfigFiles(source: string | readonly string[]): { files: string[]; problems: ConfigProblem[] } {
  if (typeof source !== 'string') return { files: [...source], problems: [] };
  let files: string[];
  try {
    files = statSync(source).isDirectory() ? yamlNames(readdirSync(source)).map((n) => join(source, n)) : [source];
  } catch (e) {
    return { files: [], problems: [readProblem(source, e)] };
  }
  return { files, problems: files.length === 0 ? [{ code: 'ERR_CONFIG_READ', file: source, path: '', message: 'no *.yaml file in this directory' }] : [] };
}

const yamlNames = (names: string[]): string[] => names.filter((n) => /\.ya?ml$/.test(n)).sort();

function readProblem(file: string, e: unknown): ConfigProblem {
  return { code: 'ERR_CONFIG_READ', file, path: '', message: (e as Error).message };
}

/** What tells one version of a file from another without reading it. */
const sameFile = (a: BigIntStats, b: BigIntStats): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Pass =
  | { settled: true; read: ReadDocuments }
  /** `busy`: the files still being written; `waitMs`: how long until they may be quiet. */
  | { settled: false; busy: string[]; waitMs: number };

/**
 * Reads the configuration files as they are once no one is writing them. A file caught mid-write (`cp` and a shell's
 * `>` truncate it first, an editor may write it in pieces) must not be taken for the new configuration, so each file is
 * looked at (device, inode, size, mtime) before and after it is read, and the directory listed before and after. When
 * a file changed within the last QUIET_MS or while it was read, or the listing changed, the read waits and starts
 * again; a read that has not settled within SETTLE_MS is refused with ERR_CONFIG_FILE_UNSTABLE naming the files still
 * changing. The reloads (SIGHUP, the admin API, `trunkgate reload`) read through it.
 */
export async function readConfigDocumentsStable(source: string | readonly string[], options: StableReadOptions = {}): Promise<ReadDocuments> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const start = now();
  let busy: string[] = [];
  for (let n = 1; ; n++) {
    const pass = await readOnce(source, now, options.afterRead);
    if (pass.settled) return pass.read;
    busy = pass.busy;
    const left = start + SETTLE_MS - now();
    if (left <= 0 || n >= MAX_PASSES) break;
    await sleep(Math.min(pass.waitMs, left));
  }
  return {
    documents: [],
    problems: busy.map((file) => ({
      code: 'ERR_CONFIG_FILE_UNSTABLE', file, path: '',
      message: `kept changing for ${SETTLE_MS / 1000} s (written within ${QUIET_MS} ms of each read, or while it was read): `
        + 'it is still being written; the running configuration stays, reload again once it is written',
    })),
  };
}

async function readOnce(source: string | readonly string[], now: () => number, afterRead: StableReadOptions['afterRead']): Promise<Pass> {
  const listed = listConfigFiles(source);
  if (listed.files.length === 0) return { settled: true, read: { documents: [], problems: listed.problems } };
  const before = new Map<string, BigIntStats>();
  const problems: ConfigProblem[] = [];
  const busy: string[] = [];
  let waitMs = 0;
  for (const file of listed.files) {
    const s = await statOrGone(file);
    if (s === 'gone') busy.push(file);
    else if (s instanceof Error) problems.push(readProblem(file, s));
    else {
      before.set(file, s);
      // A clock step or a file from another host may put an mtime ahead of now; only one within the window counts.
      const age = now() - Number(s.mtimeMs);
      if (Math.abs(age) < QUIET_MS) {
        busy.push(file);
        waitMs = Math.max(waitMs, QUIET_MS - age);
      }
    }
  }
  if (busy.length > 0) return { settled: false, busy, waitMs: Math.max(waitMs, RETRY_MS) };
  const documents: ConfigDocument[] = [];
  for (const [file, first] of before) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') busy.push(file);
      else problems.push(readProblem(file, e));
      continue;
    }
    await afterRead?.(file);
    const again = await statOrGone(file);
    if (again === 'gone' || again instanceof Error || !sameFile(first, again) || BigInt(bytes.length) !== first.size) busy.push(file);
    else documents.push({ file, text: bytes.toString('utf8') });
  }
  if (typeof source === 'string') {
    // A file that appeared or went away while the others were read: a change of several files under way.
    const after = listConfigFiles(source).files;
    busy.push(...after.filter((f) => !listed.files.includes(f)), ...listed.files.filter((f) => !after.includes(f)));
  }
  if (busy.length > 0) return { settled: false, busy: [...new Set(busy)], waitMs: RETRY_MS };
  return { settled: true, read: { documents, problems: [...listed.problems, ...problems] } };
}

/**
 * The file's stat; 'gone' when nothing is at its path any more (renamed away mid-update); the error otherwise, a
 * link that leads nowhere included (nothing will settle it).
 */
async function statOrGone(file: string): Promise<BigIntStats | 'gone' | Error> {
  try {
    return await stat(file, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return e as Error;
    try {
      lstatSync(file);
      return e as Error;
    } catch {
      return 'gone';
    }
  }
}
