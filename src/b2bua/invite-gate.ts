import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import type { RateLimitedLog } from '../log/index.js';
import { plainCallLocals, type InviteFacts } from './call-locals.js';
import type { CallStats } from './call-stats.js';
import { writeCdr, type CdrRecord } from './cdr.js';
import { sipReason } from './reason.js';
import type { RegisterRelay, RelayRequest, RelayResponse } from './register-relay.js';
import type { RefusalCdrGate } from './refusal-cdr-bucket.js';

export interface InviteGateOptions {
  stats: CallStats;
  log: Logger;
  clock: Clock;
  refusals: RateLimitedLog;
  onCdr?: (record: CdrRecord) => void;
  /** The app's bound on the CDRs of calls refused before any B leg, these among them; absent: every one has its CDR. */
  refusalCdrs?: RefusalCdrGate;
  /** The Retry-After of the 503 while the gateway drains; undefined while it takes calls. */
  draining(): { retryAfter: number } | undefined;
  /** The registration relay, which refuses an INVITE whose flow token fails (forged, run out, from elsewhere). */
  relay?: RegisterRelay;
}

/** What the gate reads of a new INVITE: its CDR facts, and what the relay reads. */
export type GateRequest = InviteFacts & Partial<RelayRequest>;

export interface GateResponse {
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
}

/**
 * The refusals a new INVITE meets before the call pipeline or the bridge: the gateway draining (503 with
 * Retry-After), then a flow token to a relayed binding that fails (403, register-relay.ts). Each is counted like any
 * call the b2bua takes (attempted, and failed with its status) and has a CDR with its cause and Reason, released by
 * the gateway, within the app's rate of refusal CDRs. Returns a function that is true when it answered the INVITE itself.
 */
export function inviteGate(o: InviteGateOptions): (req: GateRequest, res: GateResponse) => boolean {
  const refused = (req: GateRequest, status: number, cause: string, reason: string): void => {
    o.stats.attempted++;
    o.stats.fail(status);
    const now = o.clock.now();
    writeCdr(plainCallLocals(req, { log: o.log, startedAt: now, ...(o.onCdr ? { onCdr: o.onCdr } : {}), ...(o.refusalCdrs ? { refusalCdrs: o.refusalCdrs } : {}) }),
      { status, cause, reason, endAt: now, releasedBy: 'gateway' });
  };
  return (req, res) => {
    const draining = o.draining();
    if (draining) {
      o.stats.refusedDraining++;
      const reason = sipReason(503, 'Gateway shutting down: not taking new calls');
      o.refusals.line('info', 'ERR_B2BUA_DRAINING', { callId: req.get('Call-ID') }, 'b2bua: new call refused while draining');
      res.send(503, undefined, { headers: { 'Retry-After': String(draining.retryAfter), Reason: reason } });
      refused(req, 503, 'shutdown', reason);
      return true;
    }
    const refusal = o.relay?.screen(req as RelayRequest, res as RelayResponse);
    if (refusal === undefined) return false;
    refused(req, refusal.status, refusal.cause, refusal.reason);
    return true;
  };
}
