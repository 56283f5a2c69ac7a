/** The engine's appFinalTimeoutMs when nothing says otherwise (src/engine/core/limits.ts, config gateway.limits). */
export const ENGINE_FINAL_TIMEOUT_MS = 180_000;

/** The most the b2bua's own limit stays below the engine's: time to CANCEL the B leg and answer the caller. */
const MARGIN_MS = 5_000;

/**
 * How long a call may take to be answered, from its INVITE, over every attempt (src/b2bua/setup-deadline.ts): a
 * little below the engine's final-answer time `appFinalTimeoutMs` (a tenth of it, at most 5 s), whose clock starts
 * at the b2bua's 100 Trying. A dial peer's noAnswerTimeoutSeconds at or past it never fires (config cross-check).
 */
export function setupLimitMs(appFinalTimeoutMs = ENGINE_FINAL_TIMEOUT_MS): number {
  return appFinalTimeoutMs - Math.min(MARGIN_MS, Math.floor(appFinalTimeoutMs / 10));
}
