import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { AppNotify } from './app-notify.js';
import { newTag } from './core-util.js';
import { ALLOW } from './ingress.js';
import { refusalResponse, type Refusal } from './reject.js';
import { getHeader, serializeMessageText, tagOf } from '../../sip/message/index.js';

/** 481 for a request that names no dialog or transaction of ours (https://www.rfc-editor.org/rfc/rfc3261#section-12.2.2). */
export const NO_DIALOG: Refusal = { status: 481, phrase: 'Call/Transaction Does Not Exist' };

/** The methods RFC 3261 and its extensions define: one of them that no app is offered is 405, any other 501. */
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);

/**
 * The answer to a request outside a dialog whose method no app is offered (docs/control-protocol.md §2.6): 481 for a
 * PRACK, which only an early dialog could match; 405 with Allow for another known method (REFER); 501 for a method
 * the gateway does not know ("If a UAS does not understand a request method, it MUST respond with a 501",
 * https://www.rfc-editor.org/rfc/rfc3261#section-8.2.1).
 */
export function methodNotOffered(method: string): Refusal {
  if (method === 'PRACK') return { ...NO_DIALOG, text: 'PRACK outside a dialog' };
  if (KNOWN_METHODS.has(method)) {
    const allow = ALLOW.split(', ').filter((m) => m !== method).join(', ');
    return { status: 405, phrase: 'Method Not Allowed', text: `${method} outside a dialog`, allow };
  }
  return { status: 501, phrase: 'Not Implemented', text: `method ${method} not implemented` };
}

/**
 * Every final response the engine generates for a request from the network goes out here, with its Reason
 * (RFC 3326). A new INVITE refused before any app saw it also gets drachtio's CDR notifications to the apps that
 * ask for them (attempt, then stop with the status as its cause); the gateway's own CDR of it comes from the
 * refusal told to refusal-records.ts.
 */
export function refuseRequest(txn: ServerTransaction, r: Refusal, notify: Pick<AppNotify, 'cdr' | 'now'>): void {
  const request = txn.request;
  txn.respond(refusalResponse(request, r, newTag()));
  if (request.method === 'INVITE' && r.status >= 300 && tagOf(getHeader(request, 'to')) === undefined) {
    notify.cdr('attempt', ['network', notify.now()], () => serializeMessageText(request));
    notify.cdr('stop', ['application', notify.now(), `refused-${r.status}`], () => serializeMessageText(request));
  }
}
