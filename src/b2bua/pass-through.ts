import { sipReason } from './reason.js';
import { contentTypeOf, hidesSdp, isSdpType, untypedHidesSdp } from './sdp-body.js';
import { filterCrypto } from './sdp-crypto.js';
import { sendableStatus } from './sendable-status.js';
import { direction, relayed, type InDialogRequest, type InDialogResponse, type PassLeg, type PassThroughContext } from './pass-relay.js';
import { relayReinvite } from './relay-reinvite.js';

export { refreshAnswerHeaders, type InDialogRequest, type InDialogResponse, type PassLeg, type PassThroughContext } from './pass-relay.js';

/**
 * In-dialog methods the gateway does not relay (transfer by REFER, SIP messaging and events): refused with 405,
 * where drachtio-srf's Dialog would answer them 200 (or SUBSCRIBE 489) without anyone seeing them. RFC 3261 §8.2.1:
 * "the UAS MUST also add an Allow header field to the 405 (Method Not Allowed) response".
 * https://www.rfc-editor.org/rfc/rfc3261#section-8.2.1
 */
const NOT_RELAYED = ['refer', 'message', 'notify', 'publish', 'subscribe'] as const;

/** The methods an established call takes: what a 405 of ours names in its Allow. */
export const IN_DIALOG_ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, PRACK';

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

/**
 * An INFO's body (or its answer's) that is SDP: by its type, as a part of a multipart body, or untyped and starting
 * as SDP does (the engine sends such a body on as application/sdp) or with an SDP part's headers.
 */
function carriesSdp(type: string | undefined, body: string | undefined): boolean {
  if (body === undefined || body === '') return false;
  if (type === undefined) return body.startsWith('v=0') || untypedHidesSdp(body);
  return isSdpType(type) || hidesSdp(type, body);
}

/** What an INFO may carry across on such a call: anything but SDP; the 415 names the usual info packages' types. */
const INFO_ACCEPT = 'application/dtmf-relay, application/dtmf, application/media_control+xml';

/**
 * An INFO carrying SDP on an anchored or SRTP-filtered call: 415 to its sender. SDP in an INFO is no offer nor
 * answer (RFC 6086 §4), so neither the media relay nor the SRTP filter would see it, and the other leg would get the
 * sender's media addresses and keys as they came.
 */
function sdpInInfo(d: ReturnType<typeof direction>, res: InDialogResponse, part: 'request' | 'answer'): void {
  const what = part === 'request' ? 'an INFO' : `leg ${d.toName}'s answer to an INFO`;
  d.refuse(res, 415, sipReason(415, `SDP is not relayed in ${part === 'request' ? 'an INFO' : 'the answer to an INFO'}`), 'INFO', 'info', {},
    `b2bua: INFO from leg ${d.side} refused: ${what} carries SDP`, { Accept: INFO_ACCEPT });
}

type Listener = (req: InDialogRequest, res: InDialogResponse) => void;

function listen(leg: PassLeg, event: 'modify' | 'info' | 'update' | (typeof NOT_RELAYED)[number], fn: Listener): void {
  (leg.on as unknown as (e: string, l: Listener) => void).call(leg, event, fn);
}

/**
 * Relays re-INVITE, UPDATE and INFO from each leg to the other, with `a=crypto` filtered for the leg the
 * SDP goes to. A new offer that keeps no suite is refused with 488 on the leg it came from; REFER, MESSAGE,
 * NOTIFY, PUBLISH and SUBSCRIBE with 405. A re-INVITE whose body is not application/sdp, and on an anchored or
 * SRTP-filtered call an UPDATE, or either's answer, carrying SDP in a multipart body, with 415 (sdp-body.ts). A far
 * end's status drachtio-srf does not know goes back as its class (sendable-status.ts), the Reason naming it.
 *
 * A re-INVITE is relayed by relay-reinvite.ts: one INVITE at a time on a leg (RFC 3261 §14.1, leg-reinvite.ts),
 * and the SDP each leg was last sent kept in its `local.sdp`, as an UPDATE with an offer keeps it here.
 */
export function passThrough(ctx: PassThroughContext, legs: { uas: PassLeg; uac: PassLeg }): void {
  wire(ctx, legs.uas, legs.uac, 'B', ctx.bSuites, ctx.aSuites);
  wire(ctx, legs.uac, legs.uas, 'A', ctx.aSuites, ctx.bSuites);
}

function wire(ctx: PassThroughContext, from: PassLeg, to: PassLeg, toName: 'A' | 'B', toSuites?: readonly string[], fromSuites?: readonly string[]): void {
  const d = direction(ctx, from, to, toName, toSuites, fromSuites);
  const { side, relay, guarded } = d;
  const media = ctx.media;
  const { refuse, notSdp, noSuite, fail, broken } = d;
  for (const event of NOT_RELAYED) {
    const method = event.toUpperCase();
    listen(from, event, (_req, res) => refuse(res, 405, sipReason(405, `${method} is not relayed by the gateway`), method, 'info', {},
      `b2bua: ${method} from leg ${side} refused: the gateway does not relay it`, { Allow: IN_DIALOG_ALLOW }));
  }
  listen(from, 'modify', (req, res) => relayReinvite(d, req, res));
  for (const event of ['info', 'update'] as const) {
    listen(from, event, (req, res) => {
      let body = req.body;
      // An UPDATE is a session refresh of leg `side` (session-timer-refresh.ts): a too-short interval is refused here.
      const refresh = event === 'update' ? d.refresh(req, res, 'UPDATE') : { headers: {}, answered: () => undefined };
      if (!refresh) return;
      if (event === 'update' && !body) {
        // An UPDATE without a body only refreshes this leg's session (RFC 4028 §7.4): answered here, since the
        // other leg's session is its own and it may not even allow UPDATE.
        res.send(200, { headers: refresh.headers });
        refresh.answered();
        return;
      }
      const type = contentTypeOf(req);
      if (event === 'info' && guarded && carriesSdp(type, body)) {
        sdpInInfo(d, res, 'request');
        return;
      }
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
      // The offer as it went to the other leg (filtered, or rtpengine's): that leg's SDP once it answers 2xx.
      let sent: string | undefined;
      const send = (b: string | undefined) => {
        sent = b;
        if (event !== 'update') return to.request({ method: 'INFO', headers: bodyHeaders(req), ...(b ? { body: b } : {}) });
        // A relayed UPDATE is a session refresh of ours on leg toName: its timer's terms go with it, its 2xx refreshes
        // that leg, and no UPDATE refresh of its timer overlaps it.
        const relaying = d.relayStart();
        return to.request({ method: 'UPDATE', headers: { ...bodyHeaders(req), ...d.relayHeaders() }, ...(b ? { body: b } : {}) }).then((r) => {
          if (r.status >= 200 && r.status < 300) d.relayAnswered(r);
          relaying();
          return r;
        }, (err: unknown) => {
          relaying();
          throw err;
        });
      };
      type Answer = Awaited<ReturnType<typeof send>>;
      const hidden = (r: Answer): boolean => event === 'update' && guarded && r.status < 300 && hidesSdp(contentTypeOf(r), r.body);
      const done = (r: Answer, answerBody: string | undefined): void => {
        let rbody = answerBody;
        if (event === 'info' && guarded && r.status < 300 && carriesSdp(contentTypeOf(r), rbody)) {
          sdpInInfo(d, res, 'answer');
          return;
        }
        if (hidden(r)) {
          notSdp(res, 'UPDATE', 'answer');
          return;
        }
        if (r.status >= 300) {
          d.relayFailure(res, r.status, r, rbody ? { headers: bodyHeaders(r), body: rbody } : undefined);
          return;
        }
        // RFC 3311 §5.2: the 2xx to an UPDATE with an offer carries the answer; each leg now holds what it was sent.
        const answered = sdpUpdate && r.status >= 200 && rbody !== undefined && rbody !== '';
        if (answered && to.local && sent !== undefined) to.local.sdp = sent;
        if (rbody && event === 'update') {
          const f = filterCrypto(rbody, fromSuites);
          if (!f.ok) {
            noSuite(res, f.reasonHeader, 'UPDATE', 'answer');
            return;
          }
          rbody = f.sdp;
        }
        res.send(sendableStatus(r.status), rbody ? { headers: { ...bodyHeaders(r), ...refresh.headers }, body: rbody } : { headers: refresh.headers });
        if (r.status >= 200) refresh.answered();
        if (answered && from.local) from.local.sdp = rbody;
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
