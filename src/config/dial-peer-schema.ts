import { z } from 'zod';
import { NameSchema } from './common-schema.js';
import { SipServerSchema } from './tenant-schema.js';

/** A dial peer (CUBE `dial-peer voice N voip`): called numbers → target tenant. */
export const DialPeerSchema = z.strictObject({
  id: z.union([z.string().min(1), z.number().int().min(0)]).transform(String),
  description: z.string().optional(),
  /** A regular expression over the normalised called number (separators removed, leading + kept). */
  destinationPattern: z.string().min(1),
  tenant: NameSchema,
  /** Source tenants allowed to use it; absent: any. */
  from: z.array(NameSchema).optional(),
  /** Lower wins (0 is the most preferred); a dial peer with a preference ranks above one without. */
  preference: z.number().int().min(0).max(100).optional(),
  /** Overrides the tenant's sipServer (CUBE `session target`). */
  sipServer: SipServerSchema.optional(),
  /**
   * Longest wait (seconds) for a B leg on this dial peer to answer; then it is cancelled and the next target or
   * dial peer is tried (CUBE `timers connection ... / call-setup`). Absent: no limit of the dial peer's own; the call
   * is bounded by its setup limit (gateway.limits.appFinalTimeoutMs less a tenth, at most 5 s: the caller then gets
   * 480) and, before any provisional response, by the INVITE's 32 s Timer B.
   */
  noAnswerTimeoutSeconds: z.number().int().min(1).max(600).optional(),
  /**
   * Concurrent calls routed over this dial peer (CUBE `max-conn`): a B leg holds a slot from its INVITE until that
   * attempt fails or, once answered, until the call ends. At the limit the dial peer is passed over like a trunk
   * found down; a call whose every dial peer was passed over for its limit gets 503 with Retry-After
   * (ERR_B2BUA_CALL_LIMIT). With gateway.workers N > 1 the apps count together, so the limit holds for the
   * gateway (src/b2bua/app-call-counts.ts). A reload applies a new limit to the calls already held. Absent: no limit.
   */
  maxCalls: z.number().int().min(1).max(1_000_000).optional(),
  /**
   * B-leg attempts placed over this dial peer a second (CUBE `call spike`): a token bucket of callBurst tokens
   * refilled at this rate, one taken by each INVITE actually sent over it. With the bucket empty the dial peer is
   * passed over like one at its maxCalls; a call whose every dial peer was passed over, the first for its rate, gets
   * 503 with Retry-After (ERR_B2BUA_CALL_RATE). Fractions are allowed. With gateway.workers N > 1 each app refills
   * at maxCallsPerSecond / N and holds ceil(callBurst / N) tokens. A reload applies a new rate to the bucket,
   * keeping its tokens up to the new burst. Absent: no rate.
   */
  maxCallsPerSecond: z.number().gt(0).max(100_000).optional(),
  /** Tokens of the maxCallsPerSecond bucket: attempts that may go at once after a quiet spell. Ignored without maxCallsPerSecond. Absent: max(1, ceil(maxCallsPerSecond)). */
  callBurst: z.number().int().min(1).max(1_000_000).optional(),
});

export type DialPeerConfig = z.output<typeof DialPeerSchema>;
