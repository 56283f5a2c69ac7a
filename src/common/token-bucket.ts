/**
 * A token bucket's state: `tokens` as of `at` (clock ms). The one refill and take behind every rate the gateway
 * keeps: the engine's per-source request rates and 400s (src/sip/transport/source-buckets.ts), its refusal records
 * (src/engine/refusal-records.ts), and the b2bua's call rates and refusal CDRs (src/b2bua/call-rates.ts,
 * refusal-cdr-bucket.ts).
 */
export interface TokenBucket {
  tokens: number;
  at: number;
}

/** Brings `b` up to `now`: `rate` tokens a second since it was last counted, never more than `burst`. */
export function refill(b: TokenBucket, rate: number, burst: number, now: number): void {
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) * rate) / 1000);
  b.at = now;
}

/** Takes one token from `b`: false when it has less than one. */
export function takeToken(b: TokenBucket): boolean {
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}
