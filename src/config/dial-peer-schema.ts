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
   * dial peer is tried (CUBE `timers connection ... / call-setup`). Absent: the INVITE's own 32 s timeout.
   */
  noAnswerTimeoutSeconds: z.number().int().min(1).max(600).optional(),
});

export type DialPeerConfig = z.output<typeof DialPeerSchema>;
