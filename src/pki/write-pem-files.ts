import { closeSync, copyFileSync, existsSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { attempt as quietly } from '../common/attempt.js';
import { syncDir } from '../common/sync-dir.js';
import { pkiError } from './errors.js';

export interface PemFile {
  path: string;
  text: string;
  /** Readable by its owner only (a key). */
  secret: boolean;
}

export interface WritePemFilesOptions {
  /**
   * The folder every file is in (a trustpoint's, our CA's), to keep a journal of the swap in: a swap a killed process
   * left part way is then put right by recoverPemSwaps (src/pki/pem-swap-recovery.ts) before the files are read.
   */
  journalDir?: string;
}

/** The journal of a swap under way: `<journalDir>/.pem-swap-<tag>`, renamed to `.pem-swap-<tag>.done` (the commit marker) once every file is in. */
export const SWAP_JOURNAL = '.pem-swap-';
export const SWAP_DONE = '.done';

/** What a journal records, so that a swap cut short can be undone: each file, and whether it was there before. */
export interface SwapJournal {
  files: { name: string; backedUp: boolean }[];
}

/** Writes a file readable only by its owner when `secret`, atomically (write and sync, then rename). */
export function writePemFile(path: string, text: string, secret: boolean): void {
  writePemFiles([{ path, text, secret }]);
}

/**
 * Replaces several files together (a key with its certificate and chain), so that a failure part way never leaves
 * a key beside a certificate it does not belong to: each is written beside its target and synced to disk first;
 * then each is renamed in, in the order given, the old one kept as a hard link until all are in. When any step
 * fails, every file already replaced gets its old contents back from that link (renamed back, else its bytes copied
 * back) and nothing written here is left behind. A backup is only removed once its file is back: one that could not
 * be put back stays, and the error names it.
 *
 * With `journalDir`, a process killed between two renames is covered too: before the first rename a journal names
 * the files and which of them had an old version; after the last, it is renamed to its commit marker and the folder
 * synced; only then do the backups go, the marker last. recoverPemSwaps reads what is left.
 */
export function writePemFiles(files: readonly PemFile[], opts: WritePemFilesOptions = {}): void {
  if (new Set(files.map((f) => f.path)).size !== files.length) throw new Error(`writePemFiles: a path given twice (${files.map((f) => f.path).join(', ')})`);
  const journalDir = opts.journalDir === undefined ? undefined : resolve(opts.journalDir);
  if (journalDir !== undefined && files.some((f) => dirname(resolve(f.path)) !== journalDir)) {
    throw new Error(`writePemFiles: a journal in ${journalDir} covers files of that folder only (${files.map((f) => f.path).join(', ')})`);
  }
  // Names of this call only: a backup an earlier call could not put back holds the only copy of its file's old
  // contents, and a retry in the same process (PID 1 in a container) must not remove it. The process id leads, so
  // that recovery tells a swap under way in another process from one a killed process left.
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = (p: string): string => `${p}.tmp-${tag}`;
  const bak = (p: string): string => `${p}.bak-${tag}`;
  const journal = journalDir === undefined ? undefined : join(journalDir, `${SWAP_JOURNAL}${tag}`);
  const replaced: { path: string; backedUp: boolean }[] = [];
  try {
    for (const f of files) writeSynced(tmp(f.path), f.text, f.secret);
    const had = files.map((f) => existsSync(f.path));
    if (journal !== undefined) {
      const record: SwapJournal = { files: files.map((f, i) => ({ name: basename(f.path), backedUp: had[i]! })) };
      writeSynced(journal, JSON.stringify(record), false);
      syncDir(journalDir!);
    }
    files.forEach((f, i) => {
      if (had[i]) linkSync(f.path, bak(f.path));
      renameSync(tmp(f.path), f.path);
      replaced.push({ path: f.path, backedUp: had[i]! });
    });
    if (journal !== undefined) {
      syncDir(journalDir!);
      renameSync(journal, `${journal}${SWAP_DONE}`);
      syncDir(journalDir!);
    }
  } catch (cause) {
    const stuck = replaced.reverse().filter((r) => !putBack(r.path, r.backedUp ? bak(r.path) : undefined));
    for (const f of files) {
      quietly(() => rmSync(tmp(f.path), { force: true }));
      if (!stuck.some((r) => r.path === f.path)) quietly(() => rmSync(bak(f.path), { force: true }));
    }
    // A journal stays while a backup does: the next load tries again to put its file back.
    if (journal !== undefined && stuck.length === 0) quietly(() => rmSync(journal, { force: true }));
    const what = `cannot write ${files.map((f) => f.path).join(', ')}`;
    if (stuck.length === 0) throw pkiError('ERR_PKI_IO', `${what}; the files there before are kept`, { cause });
    throw pkiError('ERR_PKI_IO', `${what}; ${stuck.map((r) => (r.backedUp
      ? `${r.path} could not be put back: its previous content is in ${bak(r.path)}`
      : `${r.path} (new) could not be removed again`)).join('; ')}`, { cause, details: { notRestored: stuck.map((r) => r.path) } });
  }
  for (const r of replaced) if (r.backedUp) quietly(() => rmSync(bak(r.path), { force: true }));
  if (journal !== undefined) quietly(() => rmSync(`${journal}${SWAP_DONE}`, { force: true }));
}

/**
 * Gives a replaced file its old contents back from its backup (or removes it when it was new); false when it could
 * not. A rename is tried first (atomic, and it writes nothing); when it fails, the old bytes are copied over.
 */
export function putBack(path: string, backup: string | undefined): boolean {
  if (backup === undefined) return quietly(() => rmSync(path, { force: true }));
  if (quietly(() => renameSync(backup, path))) return true;
  // copyFileSync gives the file the backup's mode too (0600 for a key).
  if (!quietly(() => copyFileSync(backup, path))) return false;
  quietly(() => rmSync(backup, { force: true }));
  return true;
}

function writeSynced(path: string, text: string, secret: boolean): void {
  const fd = openSync(path, 'w', secret ? 0o600 : 0o644);
  try {
    writeSync(fd, text);
    if (secret) fchmodSync(fd, 0o600);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
