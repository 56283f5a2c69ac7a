import type { SipRequest } from '../../sip/message/types.js';
import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { AppHub } from '../types.js';
import type { AppNotify } from './app-notify.js';
import type { CoreGuard } from './core-guard.js';
import { cseqNumber } from './core-util.js';
import type { DialogStore } from './dialog-store.js';
import type { EngineDialog } from './engine-dialog.js';
import { NO_DIALOG, refuseRequest } from './refuse.js';
import { ReliableProvisional } from './reliable-provisional.js';
import type { RequestForApp } from './request-for-app.js';
import type { ServerRequests } from './server-requests.js';
import { getHeader, serializeMessageText, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';

/** What a request from the network inside one of our dialogs needs: the owners it reads and writes, and the apps. */
export interface InDialogDeps {
  readonly hub: Pick<AppHub, 'isConnected' | 'sendSip'>;
  readonly guard: Pick<CoreGuard, 'admitServer' | 'counted'>;
  readonly server: Pick<ServerRequests, 'create'>;
  readonly dialogs: Pick<DialogStore, 'end'>;
  readonly notify: Pick<AppNotify, 'cdr' | 'now'>;
  readonly forApp: Pick<RequestForApp, 'text'>;
}

/**
 * A request from the network matched to dialog `d` (RFC 3261 §12.2.2): CSeq order, the INVITE glare rules of §14.2,
 * PRACK (RFC 3262), target refresh and BYE, then handed to the app that owns the dialog (docs/control-protocol.md §2.3).
 */
export function onNetworkInDialog(c: InDialogDeps, request: SipRequest, flow: Flow, txn: ServerTransaction, d: EngineDialog): void {
  const method = request.method;
  if (!d.acceptRemoteSeq(cseqNumber(request), method)) {
    refuseRequest(txn, { status: 500, phrase: 'Server Internal Error', text: 'CSeq out of order' }, c.notify);
    return;
  }
  if (!c.hub.isConnected(d.owner)) {
    // The owner is gone: no failover (§2.6); a BYE also clears the dialog.
    refuseRequest(txn, { ...NO_DIALOG, text: 'application disconnected' }, c.notify);
    if (method === 'BYE') c.dialogs.end(d);
    return;
  }
  if (method === 'INVITE') {
    // "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a lower
    // CSeq sequence number on the same dialog MUST return a 500 [...] A UAS that receives an INVITE on a dialog
    // while an INVITE it had sent on that dialog is in progress MUST return a 491"
    // https://www.rfc-editor.org/rfc/rfc3261#section-14.2
    const slots = d.invites;
    if (slots?.serverInvite && !slots.serverInvite.final) {
      // "[...] MUST include a Retry-After header field with a randomly chosen value of between 0 and 10 seconds."
      refuseRequest(txn, { status: 500, phrase: 'Server Internal Error', text: 'an INVITE is already in progress', retryAfter: Math.floor(Math.random() * 11) }, c.notify);
      return;
    }
    if (slots?.clientInvite !== undefined || d.confirmed?.awaitingAck) {
      refuseRequest(txn, { status: 491, phrase: 'Request Pending' }, c.notify);
      return;
    }
  }
  const acknowledged = method === 'PRACK' ? prackFor(c, request, flow, txn, d) : undefined;
  if (method === 'PRACK' && acknowledged === undefined) return;
  const full = c.guard.admitServer(method, flow, true);
  if (full) {
    refuseRequest(txn, full, c.notify);
    return;
  }
  if (acknowledged instanceof ReliableProvisional) acknowledged.acknowledged();
  if (method === 'INVITE' || method === 'UPDATE') {
    // Target refresh: "the remote target URI [...] is replaced by the Contact of the request"
    // https://www.rfc-editor.org/rfc/rfc3261#section-12.2.2
    const contact = getHeader(request, 'contact');
    if (contact !== undefined && uriOrUndefined(uriTextOf(contact)) !== undefined) d.remoteTarget = uriTextOf(contact);
  }
  if (method === 'BYE') {
    const cf = d.confirmed;
    cf?.awaitingAck?.stop();
    if (cf) cf.awaitingAck = undefined;
    c.notify.cdr('stop', ['network', c.notify.now(), 'normal-release'], () => serializeMessageText(request));
  }
  const p = c.server.create(d.owner, txn, request, flow, d);
  const slots = d.invites;
  if (method === 'INVITE' && slots) slots.serverInvite = p;
  c.hub.sendSip(d.owner, {
    source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, time: c.notify.now(),
    transactionId: p.txnId, dialogId: d.id,
  }, c.forApp.text(request, flow));
}

/**
 * The reliable provisional in flight of the dialog's pending INVITE that `prack` acknowledges; once the PRACK is
 * admitted its retransmission stops, the next one queued goes out, and the PRACK goes on to the app. Any other PRACK
 * is answered here (undefined):
 * "If a PRACK request is received by the UA core that does not match any unacknowledged reliable provisional
 * response, the UAS MUST respond to the PRACK with a 481 response." https://www.rfc-editor.org/rfc/rfc3262#section-3
 * A retransmission of a PRACK already answered never gets here: its server transaction repeats the answer. Once the
 * INVITE has its final answer the PRACK goes to the app ('app').
 */
function prackFor(c: InDialogDeps, prack: SipRequest, flow: Flow, txn: ServerTransaction, d: EngineDialog): ReliableProvisional | 'app' | undefined {
  const pending = d.invites?.serverInvite;
  // The INVITE has its final answer: a reliable provisional the 2xx overtook (RFC 3262 §3 lets a 2xx go first when
  // the provisional carried no SDP) may still be PRACKed, and the engine no longer holds which one was: the app,
  // which sent it, answers. A 481 here would tell the caller to end the call it was just answered.
  if (pending === undefined) return 'app';
  const r = pending.reliable;
  if (r instanceof ReliableProvisional && r.matches(prack)) return r;
  const text = 'no unacknowledged reliable provisional matches the RAck';
  c.guard.counted('prackUnmatched', 'ERR_ENGINE_PRACK_UNMATCHED', text, flow, `PRACK answered 481: ${text}`);
  refuseRequest(txn, { ...NO_DIALOG, text }, c.notify);
  return undefined;
}
