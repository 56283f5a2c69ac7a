/** What a warm-up run reports (src/prewarm/b2bua-prewarm.ts). */
export interface WarmUpResult {
  calls: number;
  /** Calls that went all the way through (INVITE, 200, ACK, BYE and its 200). */
  completed: number;
  ms: number;
  /** The full collection of the throwaway gateway afterwards (full-gc.ts). */
  gcMs: number;
}

/**
 * Runs the warm-up module a composition root names by URL (src/prewarm/b2bua-prewarm.ts, exporting `prewarmB2bua`),
 * so the thread that runs it (the engine's worker, an app worker) imports nothing of the layers the warm-up builds on.
 */
export async function runWarmUpModule(moduleUrl: string, o: { calls: number; kind: 'policy' | 'plain'; maxMs: number }): Promise<WarmUpResult> {
  const m = (await import(moduleUrl)) as { prewarmB2bua(options: typeof o): Promise<WarmUpResult> };
  return m.prewarmB2bua(o);
}
