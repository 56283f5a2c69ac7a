import { setFlagsFromString } from 'node:v8';

let applied = false;

/**
 * Turns off V8's allocation-site pretenuring for this process (every thread: V8's flags are per process).
 *
 * V8 watches, per allocation site, how many of the objects it made were still alive at a young collection; past
 * about 85% it allocates that site's objects straight in old space from then on. A gateway's per-call objects
 * live a few milliseconds, but under load a call's first objects are often caught alive by one collection, so
 * sites of the call path get pretenured. Their objects then die in old space while pointing at the call's young
 * objects, and a young collection keeps whatever an old object points at: the whole call is copied and
 * promoted, which makes the next collection slower and pretenures more sites. With the flag off, over 9,000 calls
 * at 750 calls/s the b2bua thread's young collections promoted 16-37 MB instead of 117 MB and took 110-130 ms
 * instead of 300 ms; sustained at 1,000 calls/s the process held 330 instead of 380-400 MiB resident, for the same
 * CPU per call within this machine's noise (docs/performance.md).
 *
 * Run once, before the call path runs; later calls do nothing. Returns whether this call applied it.
 */
export function keepCallObjectsYoung(): boolean {
  if (applied) return false;
  applied = true;
  setFlagsFromString('--no-allocation-site-pretenuring');
  return true;
}
