import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** V8's full collection, made callable without starting node with --expose-gc. */
export const forceGc = runInNewContext('gc') as () => void;

/** Collects after the current job, when V8 lets go of WeakRef targets, three times over. */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    forceGc();
  }
}
