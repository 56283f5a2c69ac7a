import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { attempt as quietly } from '../common/attempt.js';
import { pkiError } from './errors.js';
import { processAlive } from './process-alive.js';

export interface PkiLockOptions {
  /** How long to wait for a lock another running process holds; default 30 s. */
  waitMs?: number;
}

const DEFAULT_WAIT_MS = 30_000;
const POLL_MS = 25;

/**
 * Runs `run` holding the lock file `lockPath` (two gateways started at once on one PKI folder, or a start beside
 * `trunkgate pki ca create`): the file is put in place whole (written aside, then hard-linked to its name, which fails
 * when it exists) and holds the holder's process id and a random token. A lock whose process is gone (killed
 * part way) is taken over; one a running process holds is waited for, at most `waitMs`, then refused (ERR_PKI_IO)
 * naming the file and the process. The lock is removed after `run`, only while it is still this call's.
 */
export function withPkiLock<T>(lockPath: string, run: () => T, opts: PkiLockOptions = {}): T {
  const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  const deadline = Date.now() + (opts.waitMs ?? DEFAULT_WAIT_MS);
  for (;;) {
    if (tryCreate(lockPath, token)) break;
    const held = readLock(lockPath);
    if (held === undefined) continue;
    const pid = Number(held.split(' ')[0]);
    // Our own id in a lock we do not hold is a process before this one that had the same id (PID 1 in a container).
    if (pid === process.pid || !processAlive(pid)) {
      takeOver(lockPath, held);
      continue;
    }
    if (Date.now() >= deadline) {
      throw pkiError('ERR_PKI_IO', `${lockPath} is held by process ${pid}, which still runs (another start or trunkgate pki ca create on this `
        + `folder) after ${opts.waitMs ?? DEFAULT_WAIT_MS} ms; when no such process works on it, remove ${lockPath}`, { details: { lock: lockPath, pid } });
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, POLL_MS);
  }
  try {
    return run();
  } finally {
    if (readLock(lockPath) === token) quietly(() => rmSync(lockPath, { force: true }));
  }
}

function tryCreate(lockPath: string, token: string): boolean {
  const aside = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(aside, token, { mode: 0o600 });
    linkSync(aside, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw pkiError('ERR_PKI_IO', `cannot create the lock file ${lockPath}`, { cause: e });
  } finally {
    quietly(() => rmSync(aside, { force: true }));
  }
}

function readLock(lockPath: string): string | undefined {
  try {
    return readFileSync(lockPath, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Removes a lock whose holder is gone. Two processes may find it gone at once: each moves the lock aside (one
 * rename wins) and checks that what it moved is the lock it found dead; a live lock moved by mistake goes back.
 */
function takeOver(lockPath: string, dead: string): void {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (!quietly(() => renameSync(lockPath, aside))) return;
  if (readLock(aside) !== dead) quietly(() => linkSync(aside, lockPath));
  quietly(() => rmSync(aside, { force: true }));
}
