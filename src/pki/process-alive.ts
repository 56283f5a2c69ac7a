/**
 * Whether the process `pid` still runs: what a lock file or an interrupted file swap (src/pki/write-pem-files.ts,
 * src/pki/pki-lock.ts) records to tell one under way in another process from one a killed process left behind.
 * A process of another user (EPERM) runs.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
