import type { SlotMap } from '../../common/slot-map.js';
import type { CSeq, SipHeader, SipMessage, SipRequest, SipResponse, Via } from '../message/types.js';
import { ownString } from '../message/own-string.js';
import type { Flow, SendTarget } from '../transport/types.js';
import { buildResponse } from './build-response.js';
import { cancelFromInviteSource } from './cancel-source.js';
import type { Invite2xxRetransmitter } from './invite-2xx-retransmitter.js';
import type { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { cseqOf, header, reasonValue, toTagOf, topViaOf as topVia } from '../message/index.js';
import { newTag } from './new-branch.js';
import { ackKey, clientKey, isRfc3261Branch, serverKey } from './transaction-keys.js';
import type { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import { responseTarget } from './response-target.js';
import { callUser, type TransactionContext } from './transaction-context.js';
import type { TransactionUser } from './types.js';

/** Seconds in the Retry-After of the 503 past the cap on transactions at work, until the layer is given its own. */
export const OVER_LIMIT_RETRY_AFTER_S = 5;
/** The Reason of that 503 (RFC 3326). */
export const OVER_LIMIT_REASON = reasonValue(503, 'too many transactions at work');
/** The Reason of the 481 to a CANCEL from elsewhere than its INVITE: the one a CANCEL matching no INVITE gets. */
const NO_TRANSACTION_REASON = reasonValue(481, 'no such transaction');
/** The Reason of the 500 to a request whose TU threw before answering it. */
const TU_FAILED_REASON = reasonValue(500, 'request handler failed');
const overLimitHeaders = (retryAfterSeconds: number): SipHeader[] => [
  header('Reason', OVER_LIMIT_REASON),
  header('Retry-After', String(retryAfterSeconds)),
];

type ClientTxn = InviteClientTransaction | NonInviteClientTransaction;
type ServerTxn = InviteServerTransaction | NonInviteServerTransaction;

/** What the transaction layer (transaction-layer.ts) lends its receive side: its own tables, not copies. */
export interface TransactionReceiverParts {
  readonly ctx: TransactionContext;
  readonly clients: SlotMap<string, ClientTxn>;
  readonly servers: SlotMap<string, ServerTxn>;
  /** The 2xx retransmissions still waiting for their ACK, by the ACK's key. */
  readonly awaitingAck: SlotMap<string, Invite2xxRetransmitter>;
  readonly autoTrying: boolean;
  /** Whether the cap on transactions still at work is reached. */
  atCap(): boolean;
  /** Retry-After (seconds) of the 503 past that cap, read at each (a configuration reload changes it). */
  retryAfterSeconds(): number;
  /** A request was refused at the cap (its 503 is on its way): the layer's rate-limited warn line, and whoever records refusals. */
  overLimit(request: SipRequest, flow: Flow): void;
  /** Sends a reply outside any transaction (the 503 past the cap). */
  sendStateless(message: SipMessage, target: SendTarget): Promise<Flow>;
}

/**
 * The layer's receive side: each message the transport delivers goes to the transaction it matches (RFC 3261
 * §17.1.3, §17.2.3); a new request starts a server transaction for the TU, and a stray response or the ACK for
 * a 2xx goes to the TU as it is.
 */
export class TransactionReceiver {
  readonly #p: TransactionReceiverParts;

  constructor(parts: TransactionReceiverParts) {
    this.#p = parts;
  }

  receive(message: SipMessage, flow: Flow): void {
    if (message.kind === 'response') this.#receiveResponse(message, flow);
    else this.#receiveRequest(message, flow);
  }

  #receiveResponse(response: SipResponse, flow: Flow): void {
    // "1. If the response has the same value of the branch parameter in the top Via header field as the branch
    // parameter in the top Via header field of the request that created the transaction.
    //  2. If the method parameter in the CSeq header field matches the method of the request that created the
    // transaction." https://www.rfc-editor.org/rfc/rfc3261#section-17.1.3
    const branch = topVia(response)?.params.branch;
    const cseq = cseqOf(response);
    const txn = branch && cseq ? this.#p.clients.get(clientKey(branch, cseq.method)) : undefined;
    if (txn) {
      txn.receiveResponse(response, flow);
      return;
    }
    // RFC 6026 §8.9 has the transport discard such responses; the TU decides (the engine drops them).
    this.#p.ctx.stats.strayResponses++;
    const tu = this.#p.ctx.tu();
    if (tu) callUser(this.#p.ctx, 'onStrayResponse', () => tu.onStrayResponse(response, flow));
  }

  #receiveRequest(request: SipRequest, flow: Flow): void {
    const via = topVia(request);
    const cseq = cseqOf(request);
    if (!via || !cseq) {
      this.#p.ctx.stats.badRequestsDropped++;
      this.#p.ctx.lines?.line('warn', 'ERR_SIP_TRANSACTION_BAD_REQUEST', { method: request.method.slice(0, 32) }, 'request without a usable Via or CSeq dropped');
      return;
    }
    if (request.method === 'ACK') {
      this.#receiveAck(request, via, cseq, flow);
      return;
    }
    // "If a matching server transaction is found, the request is passed to that transaction for processing."
    // https://www.rfc-editor.org/rfc/rfc6026#section-8.10
    const key = serverKey(request, via, cseq, request.method, toTagOf(request));
    const existing = this.#p.servers.get(key);
    if (existing) {
      existing.receiveRequest(request, flow);
      return;
    }
    const tu = this.#p.ctx.tu();
    if (!tu) {
      this.#p.ctx.lines?.line('warn', 'ERR_SIP_TRANSACTION_CLOSED', { method: request.method.slice(0, 32) }, 'request dropped: no transaction user');
      return;
    }
    if (request.method === 'CANCEL' && this.#cancelFromElsewhere(request, via, cseq, flow, tu)) return;
    if (this.#p.atCap()) {
      this.#p.ctx.stats.rejectedOverLimit++;
      // The far end reads whose limit it was (RFC 3326) and when to try again (RFC 3261 §21.5.4).
      const busy = buildResponse(request, 503, 'Service Unavailable', { toTag: newTag(), headers: overLimitHeaders(this.#p.retryAfterSeconds()) });
      this.#p.sendStateless(busy, responseTarget(request, flow)).catch(() => undefined);
      this.#p.overLimit(request, flow);
      return;
    }
    const target = responseTarget(request, flow);
    // The key is kept through Timer J/L (32 s over UDP): a copy, not cuts of the request's header text.
    const id = ownString(key);
    const txn = request.method === 'INVITE'
      ? new InviteServerTransaction(this.#p.ctx, id, request, flow, target, { autoTrying: this.#p.autoTrying })
      : new NonInviteServerTransaction(this.#p.ctx, id, request, flow, target);
    this.#p.servers.set(id, txn);
    this.#p.ctx.stats.created[txn.kind]++;
    this.#p.ctx.stats.live[txn.kind]++;
    if (callUser(this.#p.ctx, 'onRequest', () => tu.onRequest(request, flow, txn))) return;
    // The TU threw before answering: nothing else would answer the request or end its transaction, which has no
    // timer running before its final response and would count against the cap for good. 500: "The server
    // encountered an unexpected condition that prevented it from fulfilling the request." The transaction then ends
    // by its own timers. https://www.rfc-editor.org/rfc/rfc3261#section-21.5.1
    if (txn.state === 'Trying' || txn.state === 'Proceeding') {
      txn.respond(buildResponse(request, 500, 'Server Internal Error', { toTag: newTag(), headers: [header('Reason', TU_FAILED_REASON)] }));
    }
  }

  /**
   * A CANCEL that matches an INVITE server transaction (§9.2) but did not come from where that INVITE came from
   * (cancel-source.ts) cancels nothing: it is answered 481 statelessly, as a CANCEL that matches no INVITE is, and
   * the TU is told. No transaction is made for it, so it cannot take the key of the CANCEL the INVITE's own sender
   * may send next (a transaction of it would absorb that one as a retransmission).
   */
  #cancelFromElsewhere(request: SipRequest, via: Via, cseq: CSeq, flow: Flow, tu: TransactionUser): boolean {
    const ist = this.#p.servers.get(serverKey(request, via, cseq, 'INVITE', toTagOf(request)));
    if (!(ist instanceof InviteServerTransaction) || cancelFromInviteSource(ist.flow, flow)) return false;
    const res = buildResponse(request, 481, 'Call/Transaction Does Not Exist', { toTag: newTag(), headers: [header('Reason', NO_TRANSACTION_REASON)] });
    this.#p.sendStateless(res, responseTarget(request, flow)).catch(() => undefined);
    callUser(this.#p.ctx, 'onCancelFromOtherSource', () => tu.onCancelFromOtherSource?.(request, flow));
    return true;
  }

  #receiveAck(ack: SipRequest, via: Via, cseq: CSeq, flow: Flow): void {
    // "the ACK request matches a transaction if [...]": the ACK for a non-2xx response carries the INVITE's branch;
    // the RFC 2543 form compares the To tag with the one of the response sent.
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.3
    const toTag = toTagOf(ack);
    let ist = this.#p.servers.get(serverKey(ack, via, cseq, 'INVITE', toTag));
    if (!ist && !isRfc3261Branch(via)) {
      const candidate = this.#p.servers.get(serverKey(ack, via, cseq, 'INVITE', undefined));
      if (candidate instanceof InviteServerTransaction && candidate.responseToTag === toTag) ist = candidate;
    }
    if (ist instanceof InviteServerTransaction && !ist.receiveAck(ack, flow)) return;
    // The ACK for a 2xx is the TU's (§17.2.1, RFC 6026 §8.7): stop our 2xx retransmission and pass it up. Only
    // an ACK with the To tag our 2xx carried stops it ("an ACK request for the response", §13.3.1.4); one with
    // another tag is for no dialog of ours, and the TU drops it.
    const k = ackKey(ack, toTag);
    const r = k === undefined ? undefined : this.#p.awaitingAck.get(k);
    r?.ack();
    const tu = this.#p.ctx.tu();
    if (tu) callUser(this.#p.ctx, 'onAck', () => tu.onAck(ack, flow));
  }
}
