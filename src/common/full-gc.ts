import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFunction: (() => void) | undefined;

/** V8's own collector, reached without a command-line flag (the flag only adds `gc` to new contexts). */
export function v8Gc(): () => void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  return gcFunction;
}

/**
 * One full collection of this thread's heap now; returns how long it took (ms). Run after a warm-up, before the
 * listeners open: the warm-up's throwaway engine and app are garbage by then, but left in the old generation they
 * would be collected in the first second of real calls instead, and until then their pointers into the young
 * generation keep young objects alive through each scavenge (the engine thread's first scavenges took 2.6-4.9 ms
 * each, and a mark-compact of that garbage came within the first second of calls; 1.1-1.9 ms and none after).
 */
export function collectWarmUpGarbage(): number {
  const started = performance.now();
  v8Gc()();
  return performance.now() - started;
}
