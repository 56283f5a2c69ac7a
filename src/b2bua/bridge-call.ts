import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import { legCallIds, type ActiveCalls } from './active-calls.js';
import { failureReason, sipReason } from './reason.js';
import type { CallStats } from './call-stats.js';
import { addressUser } from './sip-user.js';
import { superviseLegs, type BridgeLeg } from './supervise-legs.js';
import { targetUri, uriUser, type BridgeTarget } from './target-uri.js';

/** The parts of an incoming INVITE the bridge reads. */
export interface BridgeRequest {
  uri: string;
  get(name: string): string | undefined;
}

/** The parts of the A-leg response object the bridge uses (only when createB2BUA itself breaks). */
export interface BridgeResponse {
  finalResponseSent?: boolean;
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
}

/** What the bridge needs from drachtio-srf: the one call that places the B leg and joins the two. */
export interface BridgeSrf {
  createB2BUA(req: BridgeRequest, res: BridgeResponse, uri: string, opts: Record<string, unknown>):
    Promise<{ uas: BridgeLeg; uac: BridgeLeg }>;
}

export interface BridgeContext {
  srf: BridgeSrf;
  target: BridgeTarget;
  stats: CallStats;
  log: Logger;
  clock: Clock;
  /** Connected calls are registered here (a shutdown ends what is left). */
  active?: ActiveCalls;
}

/** The SIP status a failed createB2BUA carries (drachtio-srf's SipError), or undefined for any other error. */
export function sipErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; status?: unknown };
  return e.name === 'SipError' && typeof e.status === 'number' ? e.status : undefined;
}

/**
 * Bridges one INVITE to the target with `createB2BUA` and follows the call until both legs are released.
 * Never throws: a failed B leg is counted and logged, and the A leg has already had its final response.
 */
export async function bridgeCall(ctx: BridgeContext, req: BridgeRequest, res: BridgeResponse): Promise<void> {
  const { stats, log, clock } = ctx;
  const callId = req.get('Call-ID');
  const startedAt = clock.now();
  stats.attempted++;

  let legs: { uas: BridgeLeg; uac: BridgeLeg };
  try {
    // A fresh options object per call: createB2BUA writes into it. No Call-ID header is given, so
    // drachtio generates a new one for the B leg; reusing the A leg's would route the B-leg INVITE into
    // the A-leg dialog (docs/control-protocol.md §2.2, dispatch rule 4).
    // A failed B leg's final response goes to the caller as it came, with its Reason (the engine's names a TLS
    // failure) or one of ours naming the status.
    legs = await ctx.srf.createB2BUA(req, res, targetUri(ctx.target, uriUser(req.uri)), {
      responseHeaders: (r: { status?: number; reason?: string; get?(n: string): string | undefined }) => {
        const status = r.status ?? 0;
        if (status < 300) return {};
        return { Reason: failureReason({ res: r }) ?? sipReason(status, r.reason ?? 'Failed') };
      },
    });
  } catch (err) {
    let status = sipErrorStatus(err);
    if (status === undefined) {
      status = 500;
      log.warn({ err, callId }, 'b2bua: createB2BUA failed unexpectedly');
      if (!res.finalResponseSent) {
        try {
          res.send(500, undefined, { headers: { Reason: sipReason(500, 'B leg could not be placed') } });
        } catch (sendErr) {
          log.warn({ err: sendErr, callId }, 'b2bua: could not answer the A leg');
        }
      }
    }
    stats.fail(status);
    log.info({ callId, status, setupMs: clock.now() - startedAt, durationMs: 0 }, 'call ended');
    return;
  }

  const connectedAt = clock.now();
  const control = superviseLegs({
    stats, log, callId,
    onEnded: (end) => log.info({
      callId, status: 200, setupMs: connectedAt - startedAt, durationMs: clock.now() - connectedAt, releasedBy: end.releasedBy,
      cause: end.cause, ...(end.byeFailed > 0 ? { byeFailed: end.byeFailed } : {}),
    }, 'call ended'),
  }, legs);
  ctx.active?.add(control, {
    callIds: legCallIds(callId, legs.uac), tenantIn: null, tenantOut: null, dialPeer: null,
    callingNumber: addressUser(req.get('From')) ?? null, calledNumber: uriUser(req.uri) ?? null, startAt: startedAt, answerAt: connectedAt,
  });
}
