import { randomBytes } from 'node:crypto';
import { linkSync, lstatSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic, writeTarget } from './atomic-write.js';
import { ConfigWriteError } from './errors.js';
import { attempt as quietly } from '../../common/attempt.js';

/**
 * The one file a configuration write replaces, and the way back when the running gateway refuses the result. The
 * write replaces only bytes it read whole (UTF-8 text, unchanged since it was read), or makes a file where there was
 * none; the previous bytes stay beside the file as `.<name>.<random>.prev` (not a `*.yaml`, so no loader reads it)
 * until the gateway has taken the new text. The way back touches that one file, and only while it still holds
 * exactly what the write put there: what anyone else wrote meanwhile is never overwritten or removed. A file that is a
 * symbolic link is swapped where it leads (its backup beside that file), so the link stays a link.
 */

export interface Swap {
  file: string;
  /** The file the write replaced: `file`, or where its links lead. */
  target: string;
  /** The previous bytes, kept beside the file; absent when the write made the file. */
  backup: string | undefined;
  previous: string | undefined;
  written: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function fileUnreadable(file: string, why: string): ConfigWriteError {
  return new ConfigWriteError('ERR_CONFIG_FILE_UNREADABLE',
    `${basename(file)} ${why}: a write would replace what the gateway could not read; fix or remove it by hand (trunkgate config check), then write again`,
    { file: basename(file) });
}

/** The exact text of a file, or undefined when nothing is at its path; a file that cannot be read whole is refused. */
export function readWhole(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !exists(file)) return undefined;
    throw fileUnreadable(file, `cannot be read (${(e as Error).message})`);
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw fileUnreadable(file, 'is not UTF-8 text');
  }
}

/** Something at the path, a link that leads nowhere included. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function changedMeanwhile(file: string): ConfigWriteError {
  return new ConfigWriteError('ERR_CONFIG_ETAG_MISMATCH', `${basename(file)} changed on disk while this write was checked: read it again`, { file: basename(file) });
}

/**
 * Puts `text` in place of `previous` (the file's bytes as read, undefined: no file). The previous bytes are kept as a
 * hard link (written out when the file system has none) and compared with what was read, so a hand edit made since
 * is refused rather than replaced; a new file is made only if nothing appeared there meanwhile. A failure before
 * the rename leaves the file as it was and nothing beside it.
 */
export function swapIn(file: string, previous: string | undefined, text: string): Swap {
  if (previous === undefined) {
    try {
      writeFileAtomic(file, text, { exclusive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw changedMeanwhile(file);
      throw writeFailed(file, e);
    }
    return { file, target: file, backup: undefined, previous, written: text };
  }
  let target: string;
  try {
    target = writeTarget(file);
  } catch (e) {
    throw writeFailed(file, e);
  }
  // The backup is a hard link to the file the link leads to (a link to the link would follow it to the new text).
  const backup = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.prev`);
  try {
    try {
      linkSync(target, backup);
    } catch {
      writeFileAtomic(backup, previous, { exclusive: true });
    }
  } catch (e) {
    throw writeFailed(file, e);
  }
  try {
    if (!readFileSync(backup).equals(Buffer.from(previous, 'utf8'))) throw changedMeanwhile(file);
    writeFileAtomic(target, text);
  } catch (e) {
    quietly(() => unlinkSync(backup));
    throw e instanceof ConfigWriteError ? e : writeFailed(file, e);
  }
  return { file, target, backup, previous, written: text };
}

function writeFailed(file: string, e: unknown): ConfigWriteError {
  return new ConfigWriteError('ERR_CONFIG_WRITE', `${basename(file)}: ${(e as Error).message}; the file is as it was`, { file: basename(file) });
}

/** The new text is taken: the previous bytes are no longer needed. */
export function keep(swap: Swap): void {
  if (swap.backup !== undefined) quietly(() => unlinkSync(swap.backup!));
}

/**
 * Gives the file its previous bytes back (removes it when the write made it): the backup renamed over it, else its
 * bytes written again. Returns why it could not; then the file and the backup are left as they are.
 */
export function putBack(swap: Swap): string | undefined {
  const { target: file, backup, previous, written } = swap;
  let now: string | undefined;
  try {
    now = readWhole(file);
  } catch {
    now = undefined;
  }
  if (now !== written) return 'it no longer holds what the write put there (changed meanwhile): left as it is';
  if (backup === undefined || previous === undefined) {
    try {
      unlinkSync(file);
      return undefined;
    } catch (e) {
      return `it could not be removed (${(e as Error).message})`;
    }
  }
  if (quietly(() => renameSync(backup, file))) return undefined;
  try {
    writeFileAtomic(file, previous);
  } catch (e) {
    return `neither the rename of its backup nor a new write put it back (${(e as Error).message})`;
  }
  quietly(() => unlinkSync(backup));
  return undefined;
}
