import { realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from './log/index.js';

/**
 * The watch behind "a certificate renewed on disk reaches the running gateway without a restart".
 *
 * A watched file counts as changed when what it resolves to changed: its realpath, or the identity (dev/ino),
 * mtime or size of the file at the end of its links. That is how a symlink swap shows: Kubernetes Secret and
 * ConfigMap volumes link `ca.crt -> ..data/ca.crt` and renew by renaming a new `..data` link over the old one (the
 * folder's events name `..data_tmp` and `..data`, never `ca.crt`); certbot's `live/` links point into `archive/`,
 * where a change shows in the archive folder only. So a file is watched through two folders at most: the one it
 * sits in, and the one its realpath sits in (moved when the realpath moves). Any event in either re-checks the
 * files of that folder, after the burst is over.
 *
 * A trustpoint folder is watched whole (any event inside counts), in the folder it resolves to; when the folder
 * itself is a link, the folder holding the link is watched too, and a new realpath moves the whole-folder watch.
 */

export interface TlsFileWatcher {
  close(): void;
}

interface Entry {
  /** The path as configured (absolute). */
  readonly path: string;
  /** A trustpoint folder: any event inside it counts. */
  readonly whole: boolean;
  /** Where the link lives, watched for swaps: a file's folder; a linked folder's parent; none for a plain folder. */
  readonly home: string | undefined;
  /** What the path resolved to when last looked at ('' when it did not resolve), and its realpath then. */
  print: string;
  real: string | undefined;
  /** The folder watched for what it resolves to: a file's realpath folder, a folder's realpath. */
  target: string | undefined;
  /** An event in one of its folders since the last check. */
  dirty: boolean;
}

function realpathOf(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** What an entry resolves to now: for a folder its realpath, for a file also the identity, mtime and size at the end. */
function look(e: Entry): void {
  const real = realpathOf(e.path);
  let print = real ?? '';
  if (real !== undefined && !e.whole) {
    try {
      const s = statSync(real, { bigint: true });
      print = `${real}\0${s.dev}:${s.ino}\0${s.mtimeNs}\0${s.size}`;
    } catch {
      print = '';
    }
  }
  e.real = real;
  e.print = print;
}

/**
 * Watches trustpoint folders (any file in them) and trust store and CRL files, and calls `onChange` once per burst
 * of changes (`debounceMs`, default 500), so a certificate renewed on disk reaches the engine without a restart.
 * Files are watched through their folders, so a file replaced by rename (how tools write atomically) is seen, and
 * through what they resolve to, so a symlink swap is seen too (see the header of this file).
 */
export function watchTlsFiles(paths: { dirs: string[]; files: string[] }, onChange: () => void, opts: { debounceMs?: number; log?: Logger } = {}): TlsFileWatcher {
  const debounceMs = opts.debounceMs ?? 500;
  const entries: Entry[] = [];
  const folders = new Map<string, { w: FSWatcher; refs: number }>();
  const warned = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  /** An event that counts without a check (a whole folder's, or one naming a watched file) since the last burst. */
  let changed = false;

  const warn = (dir: string, err: unknown, msg: string): void => {
    if (warned.has(dir)) return;
    warned.add(dir);
    opts.log?.warn({ err, dir }, msg);
  };

  const onEvent = (dir: string, name: string | null): void => {
    if (closed) return;
    let counts = false;
    for (const e of entries) {
      if (e.whole && e.target === dir) counts = true;
      else if (e.home === dir || e.target === dir) {
        e.dirty = true;
        // An event naming the file itself counts as it always did (a rewrite that kept size and mtime).
        if (!e.whole && name !== null && ((e.home === dir && name === basename(e.path)) || (e.target === dir && e.real !== undefined && name === basename(e.real)))) counts = true;
      }
    }
    // An event that counts starts the burst's quiet period again; any other only asks for a check, so a busy
    // folder next to a watched file cannot put a reload off for ever.
    if (counts) {
      changed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    }
    timer ??= setTimeout(settle, debounceMs);
  };

  const hold = (dir: string): void => {
    const f = folders.get(dir);
    if (f) {
      f.refs++;
      return;
    }
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => onEvent(dir, name === null ? null : name.toString()));
      // The folder stays held (its count with it) but unwatched: a reload by API or a restart picks changes up.
      w.on('error', (err) => {
        warn(dir, err, 'TLS file watch stopped');
        w.close();
      });
      folders.set(dir, { w, refs: 1 });
    } catch (err) {
      warn(dir, err, 'TLS files: cannot watch this folder; reload by API or restart');
    }
  };

  const release = (dir: string | undefined): void => {
    const f = dir !== undefined ? folders.get(dir) : undefined;
    if (!f || --f.refs > 0) return;
    folders.delete(dir!);
    f.w.close();
  };

  /** Points an entry's second watch at the folder of what it resolves to now (none when that is its own folder). */
  const retarget = (e: Entry): void => {
    const real = realpathOf(e.path);
    if (real === undefined) return; // gone for now: its own folder sees it come back
    const next = e.whole ? real : dirname(real);
    const wanted = !e.whole && e.home !== undefined && next === realpathOf(e.home) ? undefined : next;
    if (wanted === e.target) return;
    if (wanted !== undefined) hold(wanted);
    release(e.target);
    e.target = wanted;
  };

  /** After a burst: re-checks the entries of the folders that had events, and calls onChange if any changed. */
  function settle(): void {
    timer = undefined;
    if (closed) return;
    let fire = changed;
    changed = false;
    for (const e of entries) {
      if (!e.dirty) continue;
      e.dirty = false;
      retarget(e); // watch first, then look: a change in between is seen by the new watch
      const before = e.print;
      look(e);
      if (e.print !== before) fire = true;
    }
    if (fire) onChange();
  }

  for (const dir of new Set(paths.dirs)) {
    const real = realpathOf(dir);
    entries.push({ path: dir, whole: true, home: real !== undefined && real !== dir ? dirname(dir) : undefined, print: '', real: undefined, target: undefined, dirty: false });
  }
  for (const file of new Set(paths.files)) {
    entries.push({ path: file, whole: false, home: dirname(file), print: '', real: undefined, target: undefined, dirty: false });
  }
  for (const e of entries) {
    if (e.home !== undefined) hold(e.home);
    if (e.whole) {
      // A plain folder is watched as configured (a missing one is named in the log, as before).
      const real = realpathOf(e.path);
      hold(real ?? e.path);
      e.target = real ?? e.path;
    } else retarget(e);
    look(e);
  }

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const f of folders.values()) f.w.close();
      folders.clear();
    },
  };
}
