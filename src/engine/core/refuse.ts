import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { AppNotify } from './app-notify.js';
import { newTag } from './core-util.js';
import { refusalResponse, type Refusal } from './reject.js';
import { getHeader, serializeMessageText, tagOf } from '../../sip/message/index.js';

/** 481 for a request that names no dialog or transaction of ours (https://www.rfc-editor.org/rfc/rfc3261#section-12.2.2). */
export const NO_DIALOG: Refusal = { status: 481, phrase: 'Call/Transaction Does Not Exist' };

/**
 * Every final response the engine generates for a request from the network goes out here, with its Reason
 * (RFC 3326). A new INVITE refused before any app saw it also gets its CDR (attempt, then stop with the status
 * as its cause).
 */
export function refuseRequest(txn: ServerTransaction, r: Refusal, notify: Pick<AppNotify, 'cdr' | 'now'>): void {
  const request = txn.request;
  txn.respond(refusalResponse(request, r, newTag()));
  if (request.method === 'INVITE' && r.status >= 300 && tagOf(getHeader(request, 'to')) === undefined) {
    notify.cdr('attempt', ['network', notify.now()], () => serializeMessageText(request));
    notify.cdr('stop', ['application', notify.now(), `refused-${r.status}`], () => serializeMessageText(request));
  }
}
