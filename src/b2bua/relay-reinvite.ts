import { reinviteBusy, reinviteOurs, reinviteTheirs, sendReinvite, type ReinviteAnswer } from './leg-reinvite.js';
import { label, relayed, type Direction, type InDialogRequest, type InDialogResponse } from './pass-relay.js';
import { sipReason } from './reason.js';
import { contentTypeOf, hidesSdp, isSdpType, untypedHidesSdp } from './sdp-body.js';
import { filterCrypto } from './sdp-crypto.js';

const SDP = 'application/sdp';

/**
 * A re-INVITE from leg `d.side`, relayed to the other leg (leg-reinvite.ts sends it). The SDP each leg was last sent
 * and accepted is kept in its `local.sdp`: the offer we relayed, once its leg answered 2xx (leg-reinvite.ts), and
 * our answer in the 2xx to the offerer (here). Session refreshes (session-timer.ts) and an offerless re-INVITE
 * re-offer it as it is: RFC 3264 §8 keeps the version of an unchanged session, and an older SDP would take the
 * call back to before the last exchange (a hold undone).
 * https://www.rfc-editor.org/rfc/rfc3264#section-8
 */
export function relayReinvite(d: Direction, req: InDialogRequest, original: InDialogResponse): void {
  const { from, to, side, toName } = d;
  const what = label('INVITE');
  // RFC 3261 §14.2: "If a UAS receives a re-INVITE while it has an INVITE client transaction pending on that dialog,
  // it MUST return a 491". https://www.rfc-editor.org/rfc/rfc3261#section-14.2
  if (reinviteOurs(from)) {
    d.refuse(original, 491, sipReason(491, 'Request Pending: a re-INVITE of the gateway on this leg is in progress'), 'INVITE', 'info', {},
      `b2bua: ${what} from leg ${side} refused: one of the gateway's on that leg is in progress`);
    return;
  }
  // Until it is answered, no INVITE of ours goes to this leg (RFC 3261 §14.1, leg-reinvite.ts).
  const done = reinviteTheirs(from);
  const res: InDialogResponse = {
    send: (status, opts) => {
      done();
      original.send(status, opts);
    },
  };
  // A session refresh of leg `side` (session-timer-refresh.ts): a too-short interval is refused before anything goes on.
  const refresh = d.refresh(req, res, 'INVITE');
  if (!refresh) return;
  if (!req.body) {
    // An offerless re-INVITE: the SDP it was last sent is the offer it asked for. Its answer, in the ACK, is not
    // relayed to the other leg (docs/media.md).
    res.send(200, { body: from.local?.sdp ?? '', headers: { 'Content-Type': SDP, ...refresh.headers } });
    refresh.answered();
    return;
  }
  // The re-INVITE carries its body as SDP: a body typed otherwise cannot be relayed as it is.
  if (!isSdpType(contentTypeOf(req))) {
    d.notSdp(res, 'INVITE', 'offer');
    return;
  }
  const offer = d.relay ? { ok: true as const, sdp: req.body } : filterCrypto(req.body, d.toSuites);
  if (!offer.ok) {
    d.noSuite(res, offer.reasonHeader, 'INVITE', 'offer');
    return;
  }
  const pending = (): void => d.refuse(res, 491, sipReason(491, `Request Pending: a re-INVITE is in progress on leg ${toName}`), 'INVITE', 'info', {},
    `b2bua: ${what} from leg ${side} refused: a re-INVITE is in progress on leg ${toName}`);
  // Checked before rtpengine is given the offer; leg-reinvite.ts checks again as it sends.
  if (reinviteBusy(to)) {
    pending();
    return;
  }
  const media = d.ctx.media;
  const hidden = (a: ReinviteAnswer): boolean => d.guarded && a.body !== undefined
    && (hidesSdp(a.res ? contentTypeOf(a.res) : undefined, a.body) || untypedHidesSdp(a.body));
  const usable = (a: ReinviteAnswer): a is ReinviteAnswer & { body: string } => a.status < 300 && a.body !== undefined && !hidden(a);
  (media ? relayed(media.offer(side, offer.sdp)) : Promise.resolve(offer.sdp))
    .then((sdp) => sendReinvite(to, sdp, d.relayHeaders()))
    .then(async (a) => ({ a, answer: usable(a) && media ? await relayed(media.answer(side, a.body)) : a.body }))
    .then(({ a, answer }) => {
      if (a.pending) {
        pending();
        return;
      }
      if (a.status >= 300) {
        d.relayFailure(res, a.status, a.res);
        return;
      }
      // Leg toName's 2xx refreshed its session, whatever becomes of the answer.
      d.relayAnswered(a.res);
      if (hidden(a)) {
        d.notSdp(res, 'INVITE', 'answer');
        return;
      }
      if (answer === undefined || answer === '') {
        d.refuse(res, 502, sipReason(502, `Leg ${toName} accepted the re-INVITE without an SDP answer`), 'INVITE', 'warn', {},
          `b2bua: ${what} from leg ${side} refused: leg ${toName} accepted it without an answer`);
        return;
      }
      const back = filterCrypto(answer, d.fromSuites);
      if (!back.ok) {
        d.noSuite(res, back.reasonHeader, 'INVITE', 'answer');
        return;
      }
      res.send(200, { body: back.sdp, headers: { 'Content-Type': SDP, ...refresh.headers } });
      refresh.answered();
      if (from.local) from.local.sdp = back.sdp;
    }, (err: unknown) => d.fail(res, err, 'INVITE'))
    .catch((err: unknown) => d.broken(res, err, 'INVITE'));
}
