import type { Logger } from 'pino';
import type { LimitedLevel, RateLimitedLog } from '../log/index.js';
import { sipErrorStatus } from './bridge-call.js';
import type { CallStats } from './call-stats.js';
import type { SendOptions } from './pipeline-types.js';
import { failureReason, sipReason } from './reason.js';
import { contentTypeOf, hidesSdp, isSdpType, untypedHidesSdp } from './sdp-body.js';
import { filterCrypto } from './sdp-crypto.js';
import { sendableStatus } from './sendable-status.js';
import { hasTimerTag, parseSessionExpires } from './session-timer.js';
import type { BridgeLeg } from './supervise-legs.js';
import { answerRefused, type InDialogMedia } from './call-sdp.js';

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
  local?: { sdp?: string };
  /** UAC leg: the 2xx that set it up (its Session-Expires and Allow). */
  res?: { get(name: string): string | undefined };
  modify(sdp: string, opts?: { headers?: Record<string, string> }): Promise<string>;
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<{
    status: number; reason?: string; body?: string; get(name: string): string | undefined;
  }>;
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
}

/** A failure of the media relay on an in-dialog offer: the request is refused, both legs stay up. */
class MediaRelayFailed extends Error {}

function relayed(p: Promise<string>): Promise<string> {
  return p.catch((err: unknown) => {
    // An SDP body the call's media policy refuses (call-sdp.ts) is not a failure of the relay.
    throw answerRefused(err) ? err : new MediaRelayFailed('media relay failed', { cause: err });
  });
}

const MEDIA_FAILED = sipReason(503, 'Media relay failed on an in-dialog offer');

const label = (method: string): string => (method === 'INVITE' ? 're-INVITE' : method);

/**
 * In-dialog methods the gateway does not relay (transfer by REFER, SIP messaging and events): refused with 405,
 * where drachtio-srf's Dialog would answer them 200 (or SUBSCRIBE 489) without anyone seeing them. RFC 3261 §8.2.1:
 * "the UAS MUST also add an Allow header field to the 405 (Method Not Allowed) response".
 * https://www.rfc-editor.org/rfc/rfc3261#section-8.2.1
 */
const NOT_RELAYED = ['refer', 'message', 'notify', 'publish', 'subscribe'] as const;

/** The methods an established call takes: what a 405 of ours names in its Allow. */
export const IN_DIALOG_ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, PRACK';

/**
 * The Reason of a failure the other leg answered a relayed request with: that leg's own when it gave one (drachtio-srf
 * hands over the response of an UPDATE or INFO; Dialog.modify's SipError has only the status and phrase), else one
 * naming the status, the phrase and the leg.
 */
function relayedFailure(status: number, answer: unknown, phrase: string | undefined, to: 'A' | 'B'): SendOptions {
  return { headers: { Reason: failureReason({ res: answer }) ?? sipReason(status, `${phrase ?? 'Refused'} (answered by leg ${to})`) } };
}

/** Headers an INFO or UPDATE carries across: what describes its body. */
const BODY_HEADERS = ['Content-Type', 'Content-Disposition', 'Info-Package'];

function bodyHeaders(msg: { get(name: string): string | undefined }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of BODY_HEADERS) {
    const v = msg.get(h);
    if (v !== undefined) out[h] = v;
  }
  return out;
}

type Listener = (req: InDialogRequest, res: InDialogResponse) => void;

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

function listen(leg: PassLeg, event: 'modify' | 'info' | 'update' | (typeof NOT_RELAYED)[number], fn: Listener): void {
  (leg.on as unknown as (e: string, l: Listener) => void).call(leg, event, fn);
}

/**
 * Relays re-INVITE, UPDATE and INFO from each leg to the other, with `a=crypto` filtered for the leg the
 * SDP goes to. A new offer that keeps no suite is refused with 488 on the leg it came from; REFER, MESSAGE,
 * NOTIFY, PUBLISH and SUBSCRIBE with 405. A re-INVITE whose body is not application/sdp, and on an anchored or
 * SRTP-filtered call an UPDATE, or either's answer, carrying SDP in a multipart body, with 415 (sdp-body.ts). A far end's status drachtio-srf does not know goes back as its class
 * (sendable-status.ts), the Reason naming it.
 *
 * RFC 3261 §14.1: "a UAC MUST NOT initiate a new INVITE transaction within a dialog while another INVITE
 * transaction is in progress in either direction" — drachtio-srf's Dialog queues our re-INVITEs on a leg,
 * so one relayed offer is in flight at a time.
 * https://www.rfc-editor.org/rfc/rfc3261#section-14.1
 */
export function passThrough(ctx: PassThroughContext, legs: { uas: PassLeg; uac: PassLeg }): void {
  wire(ctx, legs.uas, legs.uac, 'B', ctx.bSuites, ctx.aSuites);
  wire(ctx, legs.uac, legs.uas, 'A', ctx.aSuites, ctx.bSuites);
}

function wire(ctx: PassThroughContext, from: PassLeg, to: PassLeg, toName: 'A' | 'B', toSuites?: readonly string[], fromSuites?: readonly string[]): void {
  const { log } = ctx;
  const lost = (status: number) => {
    if (status === 408 || status === 481) ctx.onLegLost?.(toName, status);
  };
  const side = toName === 'B' ? 'A' : 'B';
  const media = ctx.media;
  // Anchored: the SDP is rtpengine's to write. Flow-around, `media` only checks, and the a=crypto filters apply.
  const relay = media?.flowAround ? undefined : media;
  // An anchored call, or one with an SRTP policy: its SDP must go through the relay or the filters (sdp-body.ts).
  const guarded = media !== undefined || toSuites !== undefined || fromSuites !== undefined;
  /** A refusal of ours: its Reason, its count, and a line a flood cannot repeat (keyed by the far end that sent it). */
  const refuse = (res: InDialogResponse, status: number, reasonHeader: string, method: string, level: LimitedLevel,
    fields: Record<string, unknown>, msg: string, headers: Record<string, string> = {}): void => {
    res.send(status, { headers: { ...headers, Reason: reasonHeader } });
    ctx.stats?.refusedInDialog(status);
    const line = { callId: ctx.callId, leg: side, method, status, ...fields };
    if (ctx.refusals) ctx.refusals.line(level, 'ERR_B2BUA_IN_DIALOG_REFUSED', line, msg, ctx.sources?.[side]);
    else log[level]({ code: 'ERR_B2BUA_IN_DIALOG_REFUSED', ...line }, msg);
  };
  const noSuite = (res: InDialogResponse, reasonHeader: string, method: string, part: 'offer' | 'answer') =>
    refuse(res, 488, reasonHeader, method, 'info', {}, `b2bua: ${label(method)} from leg ${side} refused: no SRTP suite left in its ${part}`);
  /** 415 for a body the gateway cannot pass through its media relay and SRTP filters (sdp-body.ts). */
  const notSdp = (res: InDialogResponse, method: string, part: 'offer' | 'answer') => {
    const what = part === 'offer' ? `the ${label(method)}'s body` : `leg ${toName}'s answer to it`;
    refuse(res, 415, sipReason(415, `Only application/sdp is relayed: ${what} is of another type`), method, 'info', {},
      `b2bua: ${label(method)} from leg ${side} refused: ${what} is not application/sdp`, { Accept: 'application/sdp' });
  };
  const fail = (res: InDialogResponse, err: unknown, method: string) => {
    const what = label(method);
    if (answerRefused(err)) {
      // An offer or answer that breaks the call's media policy (SRTP, media addresses): nothing of it went on.
      refuse(res, err.status, err.reasonHeader, method, 'info', { policy: err.cause }, `b2bua: ${what} from leg ${side} refused: ${err.message}`);
      return;
    }
    if (err instanceof MediaRelayFailed) {
      refuse(res, 503, MEDIA_FAILED, method, 'warn', { mediaCode: (err.cause as { code?: string } | undefined)?.code },
        `b2bua: ${what} from leg ${side} refused: the media relay failed on it`);
      return;
    }
    const known = sipErrorStatus(err);
    if (known === undefined) {
      // Not a SIP answer: the request could not be sent on that leg at all, which is gone.
      refuse(res, 500, sipReason(500, `The ${what} could not be sent to leg ${toName}`), method, 'warn',
        { err: String(err) }, `b2bua: ${what} from leg ${side} not relayed: it could not be sent to leg ${toName}`);
      ctx.onLegLost?.(toName, 503);
      return;
    }
    log.debug({ callId: ctx.callId, status: known }, `b2bua: relayed ${what} refused by leg ${toName}`);
    res.send(sendableStatus(known), relayedFailure(known, (err as { res?: unknown }).res, (err as { reason?: string }).reason, toName));
    lost(known);
  };
  /** A fault of ours while answering a relayed request: 500 to its sender, so nothing leaves a relay's promise chain unhandled. */
  const broken = (res: InDialogResponse, err: unknown, method: string) => {
    try {
      refuse(res, 500, sipReason(500, `Gateway error relaying the ${label(method)}`), method, 'error', { err: String(err) },
        `b2bua: ${label(method)} from leg ${side} failed in the gateway`);
    } catch (sendErr) {
      log.error({ code: 'ERR_B2BUA_IN_DIALOG_REFUSED', callId: ctx.callId, leg: side, method, err: String(sendErr) },
        `b2bua: ${label(method)} from leg ${side} left unanswered`);
    }
  };
  for (const event of NOT_RELAYED) {
    const method = event.toUpperCase();
    listen(from, event, (_req, res) => refuse(res, 405, sipReason(405, `${method} is not relayed by the gateway`), method, 'info', {},
      `b2bua: ${method} from leg ${side} refused: the gateway does not relay it`, { Allow: IN_DIALOG_ALLOW }));
  }
  listen(from, 'modify', (req, res) => {
    if (!req.body) {
      // An offerless re-INVITE: our current SDP towards this leg is the offer it asked for.
      res.send(200, { body: from.local?.sdp ?? '', headers: { 'Content-Type': 'application/sdp', ...refreshAnswerHeaders(req) } });
      return;
    }
    // Dialog.modify sends its body as SDP: a body typed otherwise cannot be relayed as it is.
    if (!isSdpType(contentTypeOf(req))) {
      notSdp(res, 'INVITE', 'offer');
      return;
    }
    const offer = relay ? { ok: true as const, sdp: req.body } : filterCrypto(req.body, toSuites);
    if (!offer.ok) {
      noSuite(res, offer.reasonHeader, 'INVITE', 'offer');
      return;
    }
    // The 2xx's type is not known here (Dialog.modify gives its body alone): a multipart answer shows by its part headers.
    const hidden = (answer: string): boolean => guarded && untypedHidesSdp(answer);
    const exchange = media
      ? relayed(media.offer(side, offer.sdp)).then((sdp) => to.modify(sdp)).then((answer) => (hidden(answer) ? answer : relayed(media.answer(side, answer))))
      : to.modify(offer.sdp);
    exchange.then((answer) => {
      if (hidden(answer)) {
        notSdp(res, 'INVITE', 'answer');
        return;
      }
      const back = filterCrypto(answer, fromSuites);
      if (!back.ok) noSuite(res, back.reasonHeader, 'INVITE', 'answer');
      else res.send(200, { body: back.sdp, headers: { 'Content-Type': 'application/sdp', ...refreshAnswerHeaders(req) } });
    }, (err: unknown) => fail(res, err, 'INVITE')).catch((err: unknown) => broken(res, err, 'INVITE'));
  });
  for (const event of ['info', 'update'] as const) {
    listen(from, event, (req, res) => {
      let body = req.body;
      if (event === 'update' && !body) {
        // An UPDATE without a body only refreshes this leg's session (RFC 4028 §7.4): answered here, since the
        // other leg's session is its own and it may not even allow UPDATE.
        res.send(200, { headers: refreshAnswerHeaders(req) });
        return;
      }
      const type = contentTypeOf(req);
      if (event === 'update' && guarded && hidesSdp(type, body)) {
        notSdp(res, 'UPDATE', 'offer');
        return;
      }
      const sdpUpdate = body !== undefined && body !== '' && event === 'update' && isSdpType(type);
      if (sdpUpdate && !relay) {
        const f = filterCrypto(body!, toSuites);
        if (!f.ok) {
          noSuite(res, f.reasonHeader, 'UPDATE', 'offer');
          return;
        }
        body = f.sdp;
      }
      const send = (b: string | undefined) => to.request({ method: event.toUpperCase(), headers: bodyHeaders(req), ...(b ? { body: b } : {}) });
      type Answer = Awaited<ReturnType<typeof send>>;
      const hidden = (r: Answer): boolean => event === 'update' && guarded && r.status < 300 && hidesSdp(contentTypeOf(r), r.body);
      const done = (r: Answer, answerBody: string | undefined): void => {
        let rbody = answerBody;
        if (hidden(r)) {
          notSdp(res, 'UPDATE', 'answer');
          return;
        }
        if (r.status >= 300) {
          const failure = relayedFailure(r.status, r, r.reason, toName);
          res.send(sendableStatus(r.status), rbody ? { headers: { ...bodyHeaders(r), ...failure.headers }, body: rbody } : failure);
          lost(r.status);
          return;
        }
        if (rbody && event === 'update') {
          const f = filterCrypto(rbody, fromSuites);
          if (!f.ok) {
            noSuite(res, f.reasonHeader, 'UPDATE', 'answer');
            return;
          }
          rbody = f.sdp;
        }
        const refresh = event === 'update' && r.status >= 200 ? refreshAnswerHeaders(req) : {};
        res.send(sendableStatus(r.status), rbody ? { headers: { ...bodyHeaders(r), ...refresh }, body: rbody } : { headers: refresh });
      };
      const failed = (err: unknown) => fail(res, err, event.toUpperCase());
      const chain = sdpUpdate && media
        ? relayed(media.offer(side, body!)).then(send)
          .then(async (r) => ({ r, b: r.body && r.status < 300 && !hidden(r) ? await relayed(media.answer(side, r.body)) : r.body }))
          .then(({ r, b }) => done(r, b), failed)
        : send(body).then((r) => done(r, r.body), failed);
      chain.catch((err: unknown) => broken(res, err, event.toUpperCase()));
    });
  }
}
