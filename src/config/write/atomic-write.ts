import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces a file's contents so that a reader sees the old text or the new, never a part: the text goes to a
 * temporary file in the same folder (same file system, so the rename is atomic), is flushed to disk, renamed over
 * the file, and the folder is flushed so the rename itself survives a crash. The file keeps its mode. `exclusive`
 * makes a new file only: the temporary file is linked in, which fails (EEXIST) when something is there by then.
 */
export function writeFileAtomic(file: string, text: string, options: { exclusive?: boolean } = {}): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let mode = 0o644;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    // a new file
  }
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.exclusive) {
      linkSync(tmp, file);
      unlinkSync(tmp);
    } else renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  syncDir(dir);
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot open or flush a folder; the rename has happened all the same.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
