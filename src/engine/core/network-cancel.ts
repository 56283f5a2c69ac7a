import type { SipRequest } from '../../sip/message/types.js';
import { dialogIdOf } from '../../sip/dialog/dialog.js';
import { buildResponse, type TransactionLayer } from '../../sip/transaction/index.js';
import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { AppHub } from '../types.js';
import type { AppNotify } from './app-notify.js';
import type { CoreGuard } from './core-guard.js';
import { newTag } from './core-util.js';
import type { DialogStore } from './dialog-store.js';
import { refusalResponse } from './reject.js';
import { NO_DIALOG, refuseRequest } from './refuse.js';
import type { RequestForApp } from './request-for-app.js';
import type { ServerRequests } from './server-requests.js';
import type { UacCore } from './uac-core.js';
import { getHeader, serializeMessageText, tagOf } from '../../sip/message/index.js';

/** What a CANCEL from the network needs: the INVITE it cancels, the owners it reads and writes, and the apps. */
export interface NetworkCancelDeps {
  readonly tl: Pick<TransactionLayer, 'findInviteServerTransaction'>;
  readonly hub: Pick<AppHub, 'sendSip'>;
  readonly server: Pick<ServerRequests, 'inviteOf' | 'clear'>;
  readonly dialogs: Pick<DialogStore, 'get' | 'end'>;
  readonly notify: Pick<AppNotify, 'cdr' | 'now'>;
  readonly uac: Pick<UacCore, 'byeFromEngine'>;
  readonly forApp: Pick<RequestForApp, 'text'>;
  readonly guard: Pick<CoreGuard, 'counted'>;
}

/**
 * A CANCEL from the network (RFC 3261 §9.2): a proxied INVITE's branches are cancelled; an INVITE its app has not
 * answered finally gets 487 and the app the CANCEL; a CANCEL that crosses the 200 gets 481, and the call a BYE
 * (docs/control-protocol.md §2.8).
 */
export function onNetworkCancel(c: NetworkCancelDeps, cancel: SipRequest, flow: Flow, txn: ServerTransaction): void {
  // Only from where its INVITE came from (docs/control-protocol.md §2.8): the transaction layer answers one from
  // elsewhere 481 itself, and here it would match nothing.
  const ist = c.tl.findInviteServerTransaction(cancel, flow);
  const p = ist ? c.server.inviteOf(ist.id) : undefined;
  if (p?.proxied) {
    // A proxy answers the CANCEL itself and cancels its branches; their 487 goes upstream (§16.10).
    txn.respond(buildResponse(cancel, 200, 'OK', { toTag: newTag() }));
    p.proxied.cancel();
    return;
  }
  if (!p || p.final) {
    const callId = getHeader(cancel, 'call-id') ?? '';
    const d = c.dialogs.get(dialogIdOf(callId, tagOf(getHeader(cancel, 'from')) ?? ''));
    // It cancels nothing (its INVITE was answered already, or is not one of ours): counted and told, as the edge
    // does for a CANCEL that matches no INVITE transaction at all.
    c.guard.counted('unmatchedCancel', 'ERR_ENGINE_NO_DIALOG', 'no INVITE under way', flow, 'CANCEL for no INVITE under way: 481');
    refuseRequest(txn, NO_DIALOG, c.notify);
    // The dialog is found by the CANCEL's own Call-ID and From tag, which any peer can write: it is ended only when
    // the INVITE transaction the CANCEL matched (from where that INVITE came from) made it.
    if (d && d.role === 'uas' && ist && ist.state !== 'Proceeding' && d.serverTxnId === ist.id) {
      // A CANCEL after the 200 gets 481, a BYE and an unsolicited BYE to the app (§2.8).
      c.uac.byeFromEngine(d, 'CANCEL after 200 OK', { cause: 487, cdrCause: 'cancel-race' });
    }
    return;
  }
  // "the UAS SHOULD respond to the INVITE with a 487 (Request Terminated)" and "a UAS [...] responds to the
  // CANCEL itself with a 200 (OK)"; "The To tag of the response to the CANCEL and the To tag in the response to the
  // original request SHOULD be the same." https://www.rfc-editor.org/rfc/rfc3261#section-9.2
  p.toTag ??= newTag();
  txn.respond(buildResponse(cancel, 200, 'OK', { toTag: p.toTag }));
  p.txn.respond(refusalResponse(p.request, { status: 487, phrase: 'Request Terminated', text: 'CANCEL from the caller' }, p.toTag));
  p.final = true;
  c.notify.cdr('stop', ['network', c.notify.now(), 'call-canceled'], () => serializeMessageText(cancel));
  const d = p.dialog ?? c.dialogs.get(p.dialogId);
  c.server.clear(p);
  if (!p.inDialog && d && d.role === 'uas' && d.phase.kind === 'early') c.dialogs.end(d);
  c.hub.sendSip(p.connId, {
    source: 'network', protocol: p.flow.protocol, address: p.flow.remoteAddress, port: p.flow.remotePort,
    time: c.notify.now(), transactionId: p.txnId, dialogId: p.provisional ? p.dialogId : '',
  }, c.forApp.text(cancel, flow));
}
