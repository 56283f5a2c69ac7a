import type { Logger } from 'pino';
import type { LimitedLevel, RateLimitedLog } from '../log/index.js';
import { sipErrorStatus } from './sip-error.js';
import type { CallStats } from './call-stats.js';
import { answerRefused, type InDialogMedia } from './call-sdp.js';
import type { LegAnswer, LegRequestOptions } from './leg-reinvite.js';
import type { SendOptions } from './pipeline-types.js';
import { failureReason, ownedReason, sipReason, statusPhrase } from './reason.js';
import { sendableStatus } from './sendable-status.js';
import { hasTimerTag, parseMinSe, parseSessionExpires } from './session-timer.js';
import { peerRefresh, relayedAnswer, relayedRequestHeaders, type LegSession } from './session-timer-refresh.js';
import type { BridgeLeg } from './supervise-legs.js';

/**
 * What pass-through.ts and relay-reinvite.ts share: the legs and requests they relay, and the refusals of one
 * direction of a call (a Reason, a count, a rate-limited line each).
 */

/** An in-dialog request drachtio-srf hands to a dialog's listener of its method ('modify' for a re-INVITE). */
export interface InDialogRequest {
  body?: string;
  get(name: string): string | undefined;
  has(name: string): boolean;
}

export interface InDialogResponse {
  send(status: number, opts?: SendOptions): void;
}

/** A leg of a bridged call with what in-dialog relaying needs (drachtio-srf's Dialog). */
export interface PassLeg extends BridgeLeg {
  /** The SDP last sent to this leg and accepted (our answer in a 2xx, or our offer once answered 2xx). */
  local?: { sdp?: string; contact?: string };
  remote?: { sdp?: string };
  /** UAC leg: the 2xx that set it up (its Session-Expires and Allow). */
  res?: { get(name: string): string | undefined };
  /** Dialog.request: without a callback a promise of the first response; with one, called for each (leg-reinvite.ts). */
  request(opts: LegRequestOptions): Promise<LegAnswer>;
  request(opts: LegRequestOptions, callback: (err: unknown, res?: LegAnswer) => void): unknown;
}

export interface PassThroughContext {
  log: Logger;
  callId?: string | undefined;
  /** Counts the requests refused here, by status. */
  stats?: Pick<CallStats, 'refusedInDialog'> | undefined;
  /** Refusal lines, one per code and source a window (absent: every one is written). */
  refusals?: RateLimitedLog | undefined;
  /** The rate-limit key of each leg's far end: what sends that leg's requests (the caller's address, the dial peer). */
  sources?: { A?: string | undefined; B?: string | undefined } | undefined;
  /** SDES suites of the caller's tenant (SDP sent to the A leg). */
  aSuites?: readonly string[] | undefined;
  /** SDES suites of the called tenant (SDP sent to the B leg). */
  bSuites?: readonly string[] | undefined;
  /**
   * A relayed request got 408 or 481, or could not be sent (RFC 3261 §12.2.1.2: "If the response for a request
   * within a dialog is a 481 (Call/Transaction Does Not Exist) or a 408 (Request Timeout), the UAC SHOULD
   * terminate the dialog"): the leg it went to is gone.
   */
  onLegLost?(leg: 'A' | 'B', status: number): void;
  /**
   * An anchored call: offers and answers go through rtpengine (call-sdp.ts) instead of the a=crypto filters. On any
   * call whose media policy can refuse an SDP body, each offer and answer goes through it to be checked first.
   */
  media?: InDialogMedia;
  /** Each leg's session timer (connected-call.ts); absent (the plain bridge): a refresh's Session-Expires is echoed. */
  sessions?: { A: LegSession; B: LegSession } | undefined;
}

/** A refresh from the leg's far end, accepted: the headers of our 2xx to it, and `answered` once that 2xx is sent. */
export interface AcceptedRefresh {
  headers: Record<string, string>;
  answered(): void;
}

/** A failure of the media relay on an in-dialog offer: the request is refused, both legs stay up. */
export class MediaRelayFailed extends Error {}

export function relayed(p: Promise<string>): Promise<string> {
  return p.catch((err: unknown) => {
    // An SDP body the call's media policy refuses (call-sdp.ts) is not a failure of the relay.
    throw answerRefused(err) ? err : new MediaRelayFailed('media relay failed', { cause: err });
  });
}

const MEDIA_FAILED = sipReason(503, 'Media relay failed on an in-dialog offer');

export const label = (method: string): string => (method === 'INVITE' ? 're-INVITE' : method);

/**
 * The Reason of a failure the other leg answered a relayed request with: the protocol and cause of that leg's own
 * Reason when it gave one (reason.ts `ownedReason`: the text a far end wrote, which may name its hosts, never crosses
 * to the other leg), else one naming the status, its standard phrase and the leg. The far end's phrase is not used.
 */
export function relayedFailure(status: number, answer: unknown, to: 'A' | 'B'): SendOptions {
  return { headers: { Reason: ownedReason(failureReason({ res: answer })) ?? sipReason(status, `${statusPhrase(status) ?? 'Refused'} (answered by leg ${to})`) } };
}

/**
 * RFC 4028 §9: the 2xx to a session refresh that carried Session-Expires carries it back (the refresher it
 * named, else the one who sent it: uac), with Require: timer when the sender supports timers.
 * https://www.rfc-editor.org/rfc/rfc4028#section-9
 */
export function refreshAnswerHeaders(req: InDialogRequest): Record<string, string> {
  const se = parseSessionExpires(req.get('Session-Expires') ?? req.get('x'));
  if (!se) return {};
  return {
    'Session-Expires': `${se.seconds};refresher=${se.refresher ?? 'uac'}`,
    ...(hasTimerTag(req.get('Supported') ?? req.get('k')) ? { Require: 'timer' } : {}),
  };
}

/** One direction of a call: requests from leg `side` relayed to leg `toName`, and how they are refused. */
export interface Direction {
  ctx: PassThroughContext;
  from: PassLeg;
  to: PassLeg;
  side: 'A' | 'B';
  toName: 'A' | 'B';
  /** SDES suites of the leg the request goes to, and of the leg it came from. */
  toSuites?: readonly string[] | undefined;
  fromSuites?: readonly string[] | undefined;
  /** Anchored: the SDP is rtpengine's to write. Flow-around, `media` only checks, and the a=crypto filters apply. */
  relay?: InDialogMedia | undefined;
  /** An anchored call, or one with an SRTP policy: its SDP must go through the relay or the filters (sdp-body.ts). */
  guarded: boolean;
  /** A refusal of ours: its Reason, its count, and a line a flood cannot repeat (keyed by the far end that sent it). */
  refuse(res: InDialogResponse, status: number, reasonHeader: string, method: string, level: LimitedLevel,
    fields: Record<string, unknown>, msg: string, headers?: Record<string, string>): void;
  noSuite(res: InDialogResponse, reasonHeader: string, method: string, part: 'offer' | 'answer'): void;
  /** 415 for a body the gateway cannot pass through its media relay and SRTP filters (sdp-body.ts). */
  notSdp(res: InDialogResponse, method: string, part: 'offer' | 'answer'): void;
  /** A relayed request that failed on its way: a refusal of the media policy or relay, or not sent at all. */
  fail(res: InDialogResponse, err: unknown, method: string): void;
  /** A fault of ours while answering a relayed request: 500 to its sender, so nothing leaves a relay's promise chain unhandled. */
  broken(res: InDialogResponse, err: unknown, method: string): void;
  /** The other leg's failure answer goes back as it came (a status drachtio-srf does not know as its class). */
  relayFailure(res: InDialogResponse, status: number, answer: unknown, extra?: SendOptions): void;
  /** A re-INVITE or UPDATE from leg `side` is a refresh of its session: undefined when refused here with 422. */
  refresh(req: InDialogRequest, res: InDialogResponse, method: string): AcceptedRefresh | undefined;
  /** The session-timer headers of a re-INVITE or UPDATE relayed to leg `toName`. */
  relayHeaders(): Record<string, string>;
  /** Leg `toName` answered a relayed re-INVITE or UPDATE 2xx: its session was refreshed on the terms it names. */
  relayAnswered(answer: { get(name: string): string | undefined } | undefined): void;
  /** An UPDATE is relayed to leg `toName` until the function returned is called (its timer's refreshes wait). */
  relayStart(): () => void;
}

export function direction(ctx: PassThroughContext, from: PassLeg, to: PassLeg, toName: 'A' | 'B',
  toSuites?: readonly string[], fromSuites?: readonly string[]): Direction {
  const { log } = ctx;
  const side = toName === 'B' ? 'A' : 'B';
  const media = ctx.media;
  const d: Direction = {
    ctx, from, to, side, toName, toSuites, fromSuites, relay: media?.flowAround ? undefined : media,
    guarded: media !== undefined || toSuites !== undefined || fromSuites !== undefined,
    refuse(res, status, reasonHeader, method, level, fields, msg, headers = {}) {
      res.send(status, { headers: { ...headers, Reason: reasonHeader } });
      ctx.stats?.refusedInDialog(status);
      const line = { callId: ctx.callId, leg: side, method, status, ...fields };
      if (ctx.refusals) ctx.refusals.line(level, 'ERR_B2BUA_IN_DIALOG_REFUSED', line, msg, ctx.sources?.[side]);
      else log[level]({ code: 'ERR_B2BUA_IN_DIALOG_REFUSED', ...line }, msg);
    },
    noSuite(res, reasonHeader, method, part) {
      d.refuse(res, 488, reasonHeader, method, 'info', {}, `b2bua: ${label(method)} from leg ${side} refused: no SRTP suite left in its ${part}`);
    },
    notSdp(res, method, part) {
      const what = part === 'offer' ? `the ${label(method)}'s body` : `leg ${toName}'s answer to it`;
      d.refuse(res, 415, sipReason(415, `Only application/sdp is relayed: ${what} is of another type`), method, 'info', {},
        `b2bua: ${label(method)} from leg ${side} refused: ${what} is not application/sdp`, { Accept: 'application/sdp' });
    },
    fail(res, err, method) {
      const what = label(method);
      if (answerRefused(err)) {
        // An offer or answer that breaks the call's media policy (SRTP, media addresses): nothing of it went on.
        d.refuse(res, err.status, err.reasonHeader, method, 'info', { policy: err.cause }, `b2bua: ${what} from leg ${side} refused: ${err.message}`);
        return;
      }
      if (err instanceof MediaRelayFailed) {
        d.refuse(res, 503, MEDIA_FAILED, method, 'warn', { mediaCode: (err.cause as { code?: string } | undefined)?.code },
          `b2bua: ${what} from leg ${side} refused: the media relay failed on it`);
        return;
      }
      const known = sipErrorStatus(err);
      if (known !== undefined) {
        d.relayFailure(res, known, (err as { res?: unknown }).res);
        return;
      }
      // Not a SIP answer: the request could not be sent on that leg at all, which is gone.
      d.refuse(res, 500, sipReason(500, `The ${what} could not be sent to leg ${toName}`), method, 'warn',
        { err: String(err) }, `b2bua: ${what} from leg ${side} not relayed: it could not be sent to leg ${toName}`);
      ctx.onLegLost?.(toName, 503);
    },
    broken(res, err, method) {
      try {
        d.refuse(res, 500, sipReason(500, `Gateway error relaying the ${label(method)}`), method, 'error', { err: String(err) },
          `b2bua: ${label(method)} from leg ${side} failed in the gateway`);
      } catch (sendErr) {
        log.error({ code: 'ERR_B2BUA_IN_DIALOG_REFUSED', callId: ctx.callId, leg: side, method, err: String(sendErr) },
          `b2bua: ${label(method)} from leg ${side} left unanswered`);
      }
    },
    relayFailure(res, status, answer, extra) {
      log.debug({ callId: ctx.callId, status }, `b2bua: relayed request refused by leg ${toName}`);
      if (status === 422) {
        // RFC 4028 §6: the 422 names in Min-SE the interval leg toName wants; its timer carries that in every later
        // request. The sender's own interval was fine, and a 422 without Min-SE would tell it nothing: it gets 500
        // with the cause, as a B leg's 422 at call setup gives the caller.
        const get = (answer as { get?(name: string): string | undefined } | undefined)?.get;
        ctx.sessions?.[toName]?.timer.notePeerMinSe(typeof get === 'function' ? parseMinSe(get.call(answer, 'Min-SE')) : undefined);
        res.send(500, { headers: { Reason: sipReason(422, `Session interval too small for leg ${toName}`) } });
        return;
      }
      const failure = relayedFailure(status, answer, toName);
      res.send(sendableStatus(status), extra ? { ...extra, headers: { ...extra.headers, ...failure.headers } } : failure);
      if (status === 408 || status === 481) ctx.onLegLost?.(toName, status);
    },
    refresh(req, res, method) {
      const s = ctx.sessions?.[side];
      if (!s) return { headers: refreshAnswerHeaders(req), answered: () => undefined };
      const r = peerRefresh(s, req);
      if (r.ok) return r;
      // RFC 4028 §9 (session-timer-terms.ts `decideUas`): a Session-Expires below our Min-SE from a far end that
      // supports timers gets 422 with our Min-SE, as the caller's INVITE does (middleware/call-refusals.ts).
      // https://www.rfc-editor.org/rfc/rfc4028#section-9
      d.refuse(res, 422, sipReason(422, `Session interval too small: Min-SE is ${r.minSe} s`), method, 'info', { minSe: r.minSe },
        `b2bua: ${label(method)} from leg ${side} refused: Session-Expires below Min-SE`, { 'Min-SE': String(r.minSe) });
      return undefined;
    },
    relayHeaders() {
      const s = ctx.sessions?.[toName];
      return s ? relayedRequestHeaders(s.timer) : {};
    },
    relayAnswered(answer) {
      const s = ctx.sessions?.[toName];
      if (s) relayedAnswer(s.timer, answer);
    },
    relayStart() {
      return ctx.sessions?.[toName]?.timer.relaying() ?? (() => undefined);
    },
  };
  return d;
}
