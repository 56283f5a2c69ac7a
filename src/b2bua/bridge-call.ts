import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import { legCallIds, type ActiveCalls, type SetupFacts } from './active-calls.js';
import { clearedAnswer, failureReason, sipReason } from './reason.js';
import { OutgoingInvite } from './outgoing-invite.js';
import type { CallStats } from './call-stats.js';
import { plainCallLocals, type InviteFacts } from './call-locals.js';
import { sendableResponse, sendableStatus } from './sendable-status.js';
import { writeCdr, writeRingingAbandoned } from './cdr.js';
import type { CdrRecord } from './cdr-record.js';
import { addressUser } from '../policy/uri-user.js';
import { bLegIdentity } from './caller-id.js';
import { superviseLegs } from './supervise-legs.js';
import { passThrough, type PassLeg } from './pass-through.js';
import { sipErrorStatus } from './sip-error.js';
import { targetUri, uriUser, type BridgeTarget } from './target-uri.js';
import type { RateLimitedLog } from '../log/index.js';
import type { B2buaLogCode } from './errors.js';

/** The parts of an incoming INVITE the bridge reads (the optional ones for its CDR). */
export interface BridgeRequest extends InviteFacts {
  uri: string;
  /** drachtio-srf emits 'cancel' when the caller cancels (absent on fakes). */
  on?(event: 'cancel', listener: () => void): unknown;
}

/** The parts of the A-leg response object the bridge uses (only when createB2BUA itself breaks). */
export interface BridgeResponse {
  finalResponseSent?: boolean;
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
}

/** What the bridge needs from drachtio-srf: the one call that places the B leg and joins the two. */
export interface BridgeSrf {
  createB2BUA(req: BridgeRequest, res: BridgeResponse, uri: string, opts: Record<string, unknown>,
    progress: { cbRequest: (err: unknown, req?: { cancel?(): void }) => void }): Promise<{ uas: PassLeg; uac: PassLeg }>;
}

export interface BridgeContext {
  srf: BridgeSrf;
  target: BridgeTarget;
  stats: CallStats;
  log: Logger;
  clock: Clock;
  /** Calls are listed here while they ring and once connected (the admin API clears them, a shutdown ends them). */
  active?: ActiveCalls;
  /** Where each call's CDR goes besides its log line (the JSON-lines file, the database). */
  onCdr?: (record: CdrRecord) => void;
  /** A connected call is ended with BYE on both legs after this long (gateway.calls.maxDurationSeconds); absent: no limit. */
  maxDurationMs?: number;
  /** Lines a far end can make happen on every call go through it, once a window per code (and target). */
  refusals?: RateLimitedLog;
}

/** A failure a far end or a dead target repeats on every call: once a window per code through `refusals`, if given. */
function failureLine(ctx: BridgeContext, code: B2buaLogCode, fields: Record<string, unknown>, msg: string): void {
  if (ctx.refusals) ctx.refusals.line('warn', code, fields, msg, `${ctx.target.host}:${ctx.target.port}`);
  else ctx.log.warn({ code, ...fields }, msg);
}

export { sipErrorStatus } from './sip-error.js';

/**
 * Bridges one INVITE to the target with `createB2BUA` and follows the call until both legs are released.
 * Never throws: a failed B leg is counted and logged, and the A leg has already had its final response.
 */
export async function bridgeCall(ctx: BridgeContext, req: BridgeRequest, res: BridgeResponse): Promise<void> {
  const { stats, log, clock } = ctx;
  const callId = req.get('Call-ID');
  const startedAt = clock.now();
  stats.attempted++;
  // One record per call, as the policy pipeline writes them: no tenant, dial peer or permissions here.
  const locals = plainCallLocals(req, { log, startedAt, ...(ctx.onCdr ? { onCdr: ctx.onCdr } : {}) });

  // Listed while it rings: clearing it answers the caller (480, or the Reason's own failure status) and cancels the
  // B leg's INVITE, at once or as soon as drachtio-srf reports it sent. The B leg's 487 then reaches no one
  // (createB2BUA passes a failure on only while the caller has no final answer), and a 200 that crossed the CANCEL
  // is ended by createB2BUA itself, since the caller can no longer be answered.
  let cleared: { status: number; cause: string; reason: string; reasonHeader: string } | undefined;
  const invite = new OutgoingInvite();
  const setup = ctx.active?.setUp(callFacts(req, callId, startedAt), (cause, reason) => {
    const answer = clearedAnswer(reason);
    cleared = { ...answer, cause, reason };
    try {
      if (!res.finalResponseSent) res.send(answer.status, undefined, { headers: { Reason: answer.reasonHeader } });
    } catch (err) {
      failureLine(ctx, 'ERR_B2BUA_CONTROL', { err, callId }, 'b2bua: could not answer the A leg');
    }
    invite.cancel();
  }, (cause, reason) => writeRingingAbandoned(locals, cause, reason, 1, clock.now()));
  // A caller's CANCEL that comes before drachtio-srf reports the B leg's INVITE sent reaches no one (createB2BUA listens
  // for one only from then on; the engine has answered the caller 487): the INVITE is cancelled as soon as it is out,
  // so the callee does not ring for a call that is gone, and its 487 ends the call as the caller's.
  req.on?.('cancel', () => {
    if (!invite.sent) invite.cancel();
  });
  let legs: { uas: PassLeg; uac: PassLeg };
  try {
    // A fresh options object per call: createB2BUA writes into it. No Call-ID header is given, so
    // drachtio generates a new one for the B leg; reusing the A leg's would route the B-leg INVITE into
    // the A-leg dialog (docs/control-protocol.md §2.2, dispatch rule 4).
    // A failed B leg's final response goes to the caller as it came (a status drachtio-srf does not know, as its
    // class), with its Reason (the engine's names a TLS failure) or one of ours naming the far end's status.
    // The caller ID is the A-leg From's (caller-id.ts): never the P-Asserted-Identity drachtio-srf would read.
    const uri = targetUri(ctx.target, uriUser(req.uri));
    legs = await ctx.srf.createB2BUA(req, sendableResponse(res), uri, {
      headers: bLegIdentity(req.get('From'), req.get('Privacy'), locals.callingNumber, uri.startsWith('sips:') ? 'sips' : 'sip'),
      responseHeaders: (r: { status?: number; reason?: string; get?(n: string): string | undefined }) => {
        const status = r.status ?? 0;
        if (status < 300) return {};
        return { Reason: failureReason({ res: r }) ?? sipReason(status, r.reason ?? 'Failed') };
      },
    }, { cbRequest: invite.onSent });
  } catch (err) {
    setup?.done();
    if (cleared) {
      stats.fail(cleared.status);
      log.info({ callId, status: cleared.status, cause: cleared.cause, setupMs: clock.now() - startedAt, durationMs: 0 }, 'call ended');
      writeCdr(locals, { status: cleared.status, cause: cleared.cause, attempts: 1, endAt: clock.now(), releasedBy: 'gateway', reason: cleared.reasonHeader });
      return;
    }
    // The A leg's final status: the B leg's as the caller got it.
    let status = sipErrorStatus(err);
    if (status !== undefined) status = sendableStatus(status);
    if (status === undefined) {
      status = 500;
      failureLine(ctx, 'ERR_B2BUA_LEG_FAILED', { err, callId }, 'b2bua: the B leg could not be placed');
      if (!res.finalResponseSent) {
        try {
          res.send(500, undefined, { headers: { Reason: sipReason(500, 'B leg could not be placed') } });
        } catch (sendErr) {
          failureLine(ctx, 'ERR_B2BUA_CONTROL', { err: sendErr, callId }, 'b2bua: could not answer the A leg');
        }
      }
    }
    stats.fail(status);
    log.info({ callId, status, setupMs: clock.now() - startedAt, durationMs: 0 }, 'call ended');
    const cancelled = status === 487;
    writeCdr(locals, {
      status, cause: cancelled ? 'cancelled' : sipErrorStatus(err) === undefined ? 'gateway-error' : `b-leg-${sipErrorStatus(err)}`, attempts: 1, endAt: clock.now(),
      releasedBy: cancelled ? 'caller' : sipErrorStatus(err) === undefined ? 'gateway' : 'callee',
    });
    return;
  }

  setup?.done();
  const connectedAt = clock.now();
  const control = superviseLegs({
    stats, log, callId, clock, ...(ctx.maxDurationMs !== undefined ? { maxDurationMs: ctx.maxDurationMs } : {}), refusals: ctx.refusals,
    onEnded: (end) => {
      log.info({
        callId, status: 200, setupMs: connectedAt - startedAt, durationMs: clock.now() - connectedAt, releasedBy: end.releasedBy,
        cause: end.cause, ...(end.byeFailed > 0 ? { byeFailed: end.byeFailed } : {}),
      }, 'call ended');
      writeCdr(locals, {
        status: 200, cause: end.cause, attempts: 1, answerAt: connectedAt, endAt: clock.now(), ...(end.releasedBy ? { releasedBy: end.releasedBy } : {}),
        ...(end.reason ? { reason: end.reason } : {}), ...(end.byeFailed > 0 ? { byeFailed: end.byeFailed } : {}),
        ...(end.reasonA !== undefined ? { reasonIn: end.reasonA } : {}), ...(end.reasonB !== undefined ? { reasonOut: end.reasonB } : {}),
      });
    },
  }, legs);
  // Default deny in the dialog too: without listeners of its own, drachtio-srf's Dialog answers REFER, INFO, MESSAGE,
  // NOTIFY, PUBLISH and UPDATE 200 and a re-INVITE 200 with the SDP it holds, and nothing reaches the other leg.
  // pass-through.ts relays re-INVITE, UPDATE and INFO and refuses the rest 405, as on a policy call (connected-call.ts).
  const sources = { A: req.source_address, B: `${ctx.target.host}:${ctx.target.port}` };
  passThrough({
    log, callId, stats, refusals: ctx.refusals, sources,
    onLegLost: (leg, status) => control.end('leg-lost', sipReason(status, `Leg ${leg} lost: an in-dialog request got ${status}`)),
  }, legs);
  // Cleared in the last moment of its setup, when the caller already had the 200: ended like a connected call.
  if (cleared) control.end(cleared.cause, cleared.reason);
  ctx.active?.add(control, { ...callFacts(req, callId, startedAt), callIds: legCallIds(callId, legs.uac), answerAt: connectedAt }, setup?.id);
}

/** The call list's facts of a bridged call: no tenant or dial peer in this mode. */
function callFacts(req: BridgeRequest, callId: string | undefined, startAt: number): SetupFacts {
  return {
    callIds: callId ? [callId] : [], tenantIn: null, tenantOut: null, dialPeer: null,
    callingNumber: addressUser(req.get('From')) ?? null, calledNumber: uriUser(req.uri) ?? null, startAt,
  };
}
