import { closeSync, fsyncSync, openSync } from 'node:fs';

/**
 * Makes the renames in a folder durable (its entry table flushed to disk), so a crash after a rename into it cannot
 * bring the old file back. A file system that cannot open or flush a folder has renamed all the same: nothing more to do.
 */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // see above
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
