import { randomBytes } from 'node:crypto';
import {
  closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, linkSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { syncDir } from '../../common/sync-dir.js';

/**
 * The file a write to `file` replaces: the one its links lead to (a profiles file kept elsewhere and linked in stays
 * linked, and the file it leads to gets the new text), or `file` itself when nothing is there yet.
 */
export function writeTarget(file: string): string {
  try {
    return realpathSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return file;
    throw e;
  }
}

/** Said once per process: every later write would fail alike. */
let ownerWarned = false;

/**
 * Replaces a file's contents so that a reader sees the old text or the new, never a part: the text goes to a
 * temporary file in the folder of the file it replaces (same file system, so the rename is atomic), is flushed to disk,
 * renamed over it, and the folder is flushed so the rename itself survives a crash. A symbolic link is written through:
 * the file it leads to is replaced and the link stays. The new file keeps the old one's owner, group and mode; an owner
 * the process may not give (not root) is said once and the write goes on. `exclusive` makes a new file only: the
 * temporary file is linked in, which fails (EEXIST) when something is there by then.
 */
export function writeFileAtomic(file: string, text: string, options: { exclusive?: boolean } = {}): void {
  const target = writeTarget(file);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let old: Stats | undefined;
  try {
    old = statSync(target);
  } catch {
    // a new file
  }
  const fd = openSync(tmp, 'wx', old ? old.mode & 0o777 : 0o644);
  try {
    try {
      if (old) keepOwnerAndMode(fd, old, target);
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.exclusive) {
      linkSync(tmp, target);
      unlinkSync(tmp);
    } else renameSync(tmp, target);
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

/**
 * The temporary file takes the replaced file's owner, group and mode (the umask would narrow the mode at open, and a
 * file made by root would lock out a gateway or an editor running as the file's owner).
 */
function keepOwnerAndMode(fd: number, old: Stats, target: string): void {
  const made = fstatSync(fd);
  if (made.uid !== old.uid || made.gid !== old.gid) {
    try {
      fchownSync(fd, old.uid, old.gid);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'EINVAL') throw e;
      if (!ownerWarned) {
        ownerWarned = true;
        process.emitWarning(`${basename(target)} is written with this process's owner (${made.uid}:${made.gid}), not its own (${old.uid}:${old.gid}): `
          + `${(e as Error).message}; said once`, { code: 'WARN_CONFIG_WRITE_OWNER' });
      }
    }
  }
  fchmodSync(fd, old.mode & 0o777);
}
