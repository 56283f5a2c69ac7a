import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { attempt as quietly } from '../common/attempt.js';
import { pkiError } from './errors.js';
import { processAlive } from './process-alive.js';
import { putBack, SWAP_DONE, SWAP_JOURNAL, type SwapJournal } from './write-pem-files.js';

/**
 * Puts right a swap of files (writePemFiles in src/pki/write-pem-files.ts) that a killed process left part way in a
 * folder: with no commit marker, every file gets back what it held before the swap (from its backup, or removed when
 * it is new); with the marker, the swap was complete and only its leftovers go. A swap of a process that still runs
 * is under way and left alone. Each recovery is said once, as a process warning with the code
 * ERR_PKI_TRUSTPOINT_FILES (printed on stderr, beside the gateway's log), and returned.
 */

export interface PemSwapRecovery {
  dir: string;
  /** The id of the process that was killed part way. */
  pid: number;
  /**
   * `rolled-back`: files were put back as they were before the swap; `completed`: the swap had finished, its backups
   * were left; `cleaned`: it was cut short before any file was replaced, its temporary files were left.
   */
  outcome: 'rolled-back' | 'completed' | 'cleaned';
  /** The files put back (rolled-back). */
  files: string[];
}

interface Leftovers {
  journal: boolean;
  done: boolean;
  tmps: string[];
  baks: string[];
}

const TAG = '(\\d+-[0-9a-f]{8})';
const JOURNAL_NAME = new RegExp(`^${SWAP_JOURNAL.replace('.', '\\.')}${TAG}(${SWAP_DONE.replace('.', '\\.')})?$`);
const LEFTOVER_NAME = new RegExp(`^(.+)\\.(tmp|bak)-${TAG}$`);

export function recoverPemSwaps(dir: string): PemSwapRecovery[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const swaps = new Map<string, Leftovers>();
  const of = (tag: string): Leftovers => {
    let s = swaps.get(tag);
    if (!s) swaps.set(tag, s = { journal: false, done: false, tmps: [], baks: [] });
    return s;
  };
  for (const n of names) {
    const j = JOURNAL_NAME.exec(n);
    if (j) {
      if (j[2]) of(j[1]!).done = true;
      else of(j[1]!).journal = true;
      continue;
    }
    const l = LEFTOVER_NAME.exec(n);
    if (l) (l[2] === 'tmp' ? of(l[3]!).tmps : of(l[3]!).baks).push(l[1]!);
  }
  const out: PemSwapRecovery[] = [];
  for (const [tag, s] of swaps) {
    const pid = Number(tag.slice(0, tag.indexOf('-')));
    // writePemFiles runs start to end on one thread: one of this process is over, one of another that runs is not.
    if (pid !== process.pid && processAlive(pid)) continue;
    const r = recoverOne(dir, tag, pid, s);
    out.push(r);
    process.emitWarning(`${dir}: a replacement of its files by process ${pid} was cut short (the process ended part way); ${
      r.outcome === 'rolled-back' ? `put back as before it: ${r.files.join(', ')}`
        : r.outcome === 'completed' ? 'it had completed: its backups were removed'
          : 'no file had been replaced: its temporary files were removed'}`, { code: 'ERR_PKI_TRUSTPOINT_FILES' });
  }
  return out;
}

function recoverOne(dir: string, tag: string, pid: number, s: Leftovers): PemSwapRecovery {
  const tmpOf = (n: string): string => join(dir, `${n}.tmp-${tag}`);
  const bakOf = (n: string): string => join(dir, `${n}.bak-${tag}`);
  const journal = join(dir, `${SWAP_JOURNAL}${tag}`);
  const removeLeftovers = (): void => {
    for (const n of s.tmps) quietly(() => rmSync(tmpOf(n), { force: true }));
    for (const n of s.baks) quietly(() => rmSync(bakOf(n), { force: true }));
  };
  if (s.done) {
    // Every file was renamed in before the marker was: the backups hold nothing the files need.
    removeLeftovers();
    quietly(() => rmSync(journal, { force: true }));
    quietly(() => rmSync(`${journal}${SWAP_DONE}`, { force: true }));
    return { dir, pid, outcome: 'completed', files: [] };
  }
  const entries = s.journal ? readJournal(journal) : undefined;
  const restored: string[] = [];
  const stuck: string[] = [];
  const restore = (name: string): void => {
    const r = restoreFromBackup(join(dir, name), bakOf(name));
    if (r === 'restored') restored.push(name);
    if (r === 'failed') stuck.push(name);
  };
  if (entries) {
    for (const e of entries) {
      if (e.backedUp) restore(e.name);
      // A new file whose temporary file is gone was renamed in: the swap added it, so it goes.
      else if (!existsSync(tmpOf(e.name)) && existsSync(join(dir, e.name))) {
        if (quietly(() => rmSync(join(dir, e.name), { force: true }))) restored.push(e.name);
        else stuck.push(e.name);
      }
    }
  } else {
    // No journal: cut short before the first rename (its backups are the files themselves), or left by a version
    // without one (a backup that is not the file holds what the file held before).
    for (const n of s.baks) restore(n);
  }
  if (stuck.length > 0) {
    throw pkiError('ERR_PKI_IO', `${dir}: a replacement of its files by process ${pid} was cut short and ${stuck.join(', ')} could not be put back `
      + `as before it; the previous contents are in ${stuck.map(bakOf).join(', ')}`, { details: { notRestored: stuck } });
  }
  for (const n of s.tmps) quietly(() => rmSync(tmpOf(n), { force: true }));
  quietly(() => rmSync(journal, { force: true }));
  return { dir, pid, outcome: restored.length > 0 ? 'rolled-back' : 'cleaned', files: restored };
}

/** Back from the backup, unless the backup is the file itself (the file was never replaced): then the link goes. */
function restoreFromBackup(path: string, backup: string): 'restored' | 'unchanged' | 'failed' {
  if (!existsSync(backup)) return 'unchanged';
  try {
    const a = statSync(path);
    const b = statSync(backup);
    if (a.ino === b.ino && a.dev === b.dev) return quietly(() => rmSync(backup, { force: true })) ? 'unchanged' : 'failed';
  } catch {
    // no file there now: the backup goes back
  }
  return putBack(path, backup) ? 'restored' : 'failed';
}

/** The journal's entries; undefined when it cannot be read (cut short while it was written: no rename had begun). */
function readJournal(path: string): SwapJournal['files'] | undefined {
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as Partial<SwapJournal>;
    if (!Array.isArray(j.files)) return undefined;
    return j.files.filter((f): f is SwapJournal['files'][number] =>
      typeof f?.name === 'string' && /^[^/\\]+$/.test(f.name) && f.name !== '.' && f.name !== '..' && typeof f.backedUp === 'boolean');
  } catch {
    return undefined;
  }
}
