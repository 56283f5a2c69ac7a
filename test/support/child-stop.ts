import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Stops a peer process once however often it is called: SIGTERM, SIGKILL if it is still up after 5 s, then its
 * scratch directory is removed. `exited` resolves when the process has ended.
 */
export function childStopper(child: ChildProcess, exited: Promise<void>, dir: string): () => Promise<void> {
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (running() && (child.pid ?? -1) > 0) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((ok) => { timer = setTimeout(ok, 5000); })]);
        clearTimeout(timer);
        if (running()) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
}
