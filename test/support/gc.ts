import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** V8's full collection, made callable without starting node with --expose-gc. */
export const forceGc = runInNewContext('gc') as () => void;

/**
 * Collects after the current job, when V8 lets go of WeakRef targets, three times over; with `gone`, stops as soon as
 * every one of those targets is collected (a full collection of a large test process costs tens of milliseconds).
 */
export async function collectGarbage(gone?: ReadonlyArray<WeakRef<object>>): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    forceGc();
    if (gone && gone.every((r) => r.deref() === undefined)) return;
  }
}
