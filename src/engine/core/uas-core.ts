import type { Clock } from '../../common/clock.js';
import type { SipRequest, SipResponse } from '../../sip/message/types.js';
import { dialogIdOf } from '../../sip/dialog/dialog.js';
import { buildResponse, type TransactionLayer } from '../../sip/transaction/index.js';
import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { AppHub, AppSipCommand } from '../types.js';
import { responseSentFields } from '../wire/server-messages.js';
import type { LocalAddresses } from './addressing.js';
import { cseqMethod, cseqNumber, newTag, randomSeq, responseHeaders } from './core-util.js';
import { EngineDialog, type ServerPending } from './engine-dialog.js';
import { getHeader, getHeaderValues, header, parseOneVia, serializeMessageText, tagOf, uriTextOf } from '../../sip/message/index.js';
import { refusalResponse, type Refusal } from './reject.js';
import { refuseRequest } from './refuse.js';
import type { UacCore } from './uac-core.js';
import type { AppNotify } from './app-notify.js';
import type { DialogStore } from './dialog-store.js';
import type { ServerRequests } from './server-requests.js';
import type { CoreGuard } from './core-guard.js';
import { MAX_QUEUED_RELIABLE, ReliableProvisional, type ReliableHost } from './reliable-provisional.js';

/** What the UAS side works with; the dialogs and the pending requests are owned by their stores. */
export interface UasDeps {
  readonly tl: TransactionLayer;
  readonly hub: AppHub;
  readonly clock: Clock;
  readonly addr: LocalAddresses;
  readonly T1: number;
  readonly dialogs: DialogStore;
  readonly server: ServerRequests;
  readonly uac: UacCore;
  readonly notify: AppNotify;
  /** How long an INVITE the app is answering may wait for its final response. */
  readonly finalTimeoutMs: number;
  /**
   * A new request was refused as a merged request: counted and logged by the owner, and told for its CDR when no
   * app saw it (`byApp` false); one an app saw has its app's (merged-requests.ts `mergedRefusals`).
   */
  readonly merged: (request: SipRequest, flow: Flow, r: Refusal, byApp: boolean) => void;
  readonly guard: Pick<CoreGuard, 'counted'>;
  /** The engine's own final answer to a request of an app (app-commands.ts `answerForApp`). */
  readonly answerForApp: (p: ServerPending, r: Refusal, cdrCause: string) => void;
}

/** The answer to a merged request (https://www.rfc-editor.org/rfc/rfc3261#section-8.2.2.2). */
const MERGED: Refusal = { status: 482, phrase: 'Loop Detected', text: 'merged request' };

/** The answer to a request whose reliable provisional no PRACK acknowledged (https://www.rfc-editor.org/rfc/rfc3262#section-3). */
const NO_PRACK: Refusal = { status: 504, phrase: 'Server Time-out', text: 'no PRACK for the reliable provisional' };

/**
 * The engine's UAS side: an app's responses to requests from the network, completed as drachtio-server
 * completes them (docs/control-protocol.md §2.2, §2.8): To tag, Contact, Record-Route, RSeq and reliable
 * provisionals (RFC 3262), the dialog a response creates, the 2xx retransmitted until its ACK, and CDRs.
 */
export class UasCore {
  readonly #c: UasDeps;
  readonly #reliable: ReliableHost;

  constructor(deps: UasDeps) {
    this.#c = deps;
    this.#reliable = {
      clock: deps.clock, T1: deps.T1, T2: deps.tl.timerSettings.T2,
      noPrack: (p) => {
        deps.guard.counted('prackTimeout', 'ERR_ENGINE_PRACK_TIMEOUT', NO_PRACK.text!, p.flow, `${p.method} answered 504 by the engine: no PRACK within 64*T1`);
        deps.answerForApp(p, NO_PRACK, 'prack-timeout');
      },
    };
  }

  /**
   * "If the request has no tag in the To header field, the UAS core MUST check the request against ongoing
   * transactions. If the From tag, Call-ID, and CSeq exactly match those associated with an ongoing transaction,
   * but the request does not match that transaction (based on the matching rules in Section 17.2.3), the UAS core
   * SHOULD generate a 482 (Loop Detected) response" https://www.rfc-editor.org/rfc/rfc3261#section-8.2.2.2
   * A new request of any method whose Call-ID, From tag and CSeq are those of a request whose server transaction
   * still lives (its Completed state included) is answered so here, before any app sees it. So is a new INVITE whose
   * Call-ID and From tag are those of a new INVITE still under way (whatever its CSeq) or of a live dialog: both
   * would make the one dialog the Call-ID and From tag name, so the app's answer to the second one would end, or
   * take over, the call already there. A request that left through us and came back (a spiral, §16.3 step 4: the
   * Via of the one under way is in its stack) is a new request. True when `request` was refused.
   */
  refuseMerged(request: SipRequest, flow: Flow, txn: ServerTransaction): boolean {
    if (tagOf(getHeader(request, 'to')) !== undefined) return false;
    const o = this.#c.server.ongoing(request);
    const underWay = o !== undefined && o.txn.id !== txn.id && !cameBackThrough(request, o.branch);
    if (!underWay && (request.method !== 'INVITE' || !this.#liveDialog(request))) return false;
    this.#c.merged(request, flow, MERGED, false);
    refuseRequest(txn, MERGED, this.#c.notify);
    return true;
  }

  /** Whether the Call-ID and From tag of `request` name a live dialog. */
  #liveDialog(request: SipRequest): boolean {
    return this.#c.dialogs.get(dialogIdOf(getHeader(request, 'call-id') ?? '', tagOf(getHeader(request, 'from')) ?? '')) !== undefined;
  }

  /**
   * The app's response to a request from the network, completed and sent (§2.2), with the dialog it makes. `p` is
   * the request the command names, when there is one and it is this app's (app-commands.ts).
   */
  onAppResponse(cmd: AppSipCommand, msg: SipResponse, p: ServerPending | undefined): void {
    // A request the app had the engine proxy is the proxy's to answer (§2.5): the app's own response is refused.
    if (!p || p.final || p.proxied) {
      const reason = cseqMethod(msg) === 'CANCEL'
        ? '200 OK to incoming CANCEL is automatically generated by the stack'
        : 'Response not sent due to unknown transaction';
      this.#c.notify.nok(cmd, reason);
      return;
    }
    const status = msg.status;
    const request = p.request;
    const isInvite = p.method === 'INVITE';
    const createsDialog = !p.inDialog && (isInvite || p.method === 'SUBSCRIBE');
    if (status > 100 && p.toTag === undefined) {
      // "the UAS MUST add a tag to the To header field in the response" https://www.rfc-editor.org/rfc/rfc3261#section-8.2.6.2
      p.toTag = tagOf(getHeader(msg, 'to')) ?? newTag();
    }
    const reliable = isInvite && status > 100 && status < 200 && /\b100rel\b/i.test(getHeader(msg, 'require') ?? '');
    if (reliable && !ReliableProvisional.hasRoom(p)) {
      const text = `${MAX_QUEUED_RELIABLE} reliable provisionals already wait for the PRACK of the one sent`;
      this.#c.guard.counted('reliableQueueFull', 'ERR_ENGINE_TABLE_FULL', text, p.flow, `reliable ${status} from the app not sent: ${text}`);
      this.#c.notify.nok(cmd, `Response not sent: ${text}`);
      return;
    }
    const contactWanted = createsDialog || p.inDialog
      ? (status >= 200 && status < 300 && (isInvite || p.method === 'SUBSCRIBE')) || reliable
      : false;
    const local = this.#c.addr.flowHostport(p.flow);
    const localContact = p.dialog?.localContact ?? this.#c.addr.contactFor(p.flow.protocol, local);
    const { extra, hasContact } = responseHeaders(msg, request, {
      local, localContact, contactWanted, copyRecordRoute: createsDialog && status > 100 && status < 300, protocol: p.flow.protocol,
    });
    let rseq = 0;
    if (reliable) {
      // "The provisional response MUST establish a dialog if one is not yet created. [...] The value of the
      // header field for the first reliable provisional response in a transaction MUST be between 1 and 2**31 - 1."
      // https://www.rfc-editor.org/rfc/rfc3262#section-3
      rseq = p.lastRseq === 0 ? randomSeq() : p.lastRseq + 1;
      p.lastRseq = rseq;
      extra.push(header('RSeq', String(rseq)));
    }
    // No spread here: on this path (every response an app sends) an object spread before other properties costs
    // V8 a map transition per call, about half a microsecond (docs/performance.md).
    const response = buildResponse(request, status, msg.reason, {
      toTag: status > 100 ? p.toTag : undefined, headers: extra, body: msg.body,
    });

    // Dialog bookkeeping before sending, so that a fast ACK or PRACK finds it.
    let d = p.dialog;
    if (createsDialog && status > 100 && status < 300 && p.toTag !== undefined) {
      const made = this.#uasDialog(p, response, hasContact ? getHeader(msg, 'contact')! : localContact);
      if (made === undefined) {
        this.#refuseTaken(cmd, p);
        return;
      }
      d = made;
      p.dialogId = d.id;
      // The transaction keeps its early dialog, so that a later failure response ends it (§12.1: an early dialog
      // ends with a non-2xx final response).
      p.dialog = d;
      this.#c.server.releaseDialogSlot(p);
    }

    if (isInvite && status >= 200 && status < 300 && d) {
      const retrans = this.#c.tl.respond2xx(p.txn, response, { onTimeout: () => this.#onAckTimeout(d!) });
      const c = d.confirm();
      if (c) c.awaitingAck = { txnId: p.txnId, stop: () => retrans.stop() };
      else retrans.stop();
    } else if (reliable) {
      ReliableProvisional.send(this.#reliable, p, response, rseq);
    } else if (!(isInvite && status === 100)) {
      p.txn.respond(response);
    }
    // An app's 100 to an INVITE is its word that it is working on the call: the network already has the engine's
    // own 100 Trying (§2.8), so it is not sent twice; it only moves the app to the final-answer time below.
    if (status < 200 && isInvite && !p.answering) {
      // The app is on it (any provisional, a 100 included): it now has the final-answer time, once.
      p.answering = true;
      this.#c.server.armCap(p, this.#c.finalTimeoutMs);
    }
    if (status > 100 && status < 200) p.provisional = true;

    const text = serializeMessageText(response);
    const echoDialogId = d && (createsDialog || p.inDialog) && status > 100 ? d.id : '';
    const remote = { protocol: p.flow.protocol, address: p.flow.remoteAddress, port: p.flow.remotePort };
    this.#c.hub.reply(cmd.connId, cmd.msgId, responseSentFields(text, remote, this.#c.notify.now(), p.txnId, echoDialogId), text);

    if (status >= 200) {
      p.final = true;
      this.#c.server.clear(p);
      if (isInvite && !p.inDialog) {
        if (status >= 300) this.#c.notify.cdr('stop', ['application', this.#c.notify.now(), 'call-rejected'], text);
        else this.#c.notify.cdr('start', ['application', this.#c.notify.now(), 'uas'], text);
      }
      // Only the early dialog this transaction made ends with its failure (§12.1); never a confirmed call.
      if (createsDialog && status >= 300 && d && d.phase.kind === 'early') this.#c.dialogs.end(d);
      if (p.method === 'BYE' && p.dialog) this.#c.dialogs.end(p.dialog);
      const slots = isInvite && p.inDialog && status >= 300 ? d?.invites : undefined;
      if (slots) slots.serverInvite = undefined;
    }
  }

  /**
   * The dialog the response makes, or the one this transaction made already; undefined when another transaction's
   * dialog has its Call-ID and From tag (a merged request that came past `refuseMerged`): that one is not touched.
   */
  #uasDialog(p: ServerPending, response: SipResponse, localContact: string): EngineDialog | undefined {
    const request = p.request;
    const fromTag = tagOf(getHeader(request, 'from')) ?? '';
    const existing = this.#c.dialogs.get(dialogIdOf(p.callId, fromTag));
    if (existing) return existing === p.dialog ? existing : undefined;
    const contact = getHeader(request, 'contact');
    const d = new EngineDialog({
      role: 'uas', callId: p.callId, localTag: p.toTag!, remoteTag: fromTag,
      localUri: getHeader(response, 'to') ?? '', remoteUri: getHeader(request, 'from') ?? '',
      localSeq: randomSeq(), remoteSeq: cseqNumber(request),
      // "The route set MUST be set to the list of URIs in the Record-Route header field from the request, taken
      // in order and preserving all URI parameters." https://www.rfc-editor.org/rfc/rfc3261#section-12.1.1
      routeSet: getHeaderValues(request, 'record-route'),
      remoteTarget: contact === undefined ? '' : uriTextOf(contact),
      secure: request.uri.startsWith('sips:') && p.flow.protocol === 'tls',
      flow: p.flow, localContact,
    }, p.connId, 'network');
    if (p.method === 'INVITE') d.serverTxnId = p.txn.id;
    const slots = d.invites;
    if (slots && p.method === 'INVITE') slots.serverInvite = p;
    this.#c.dialogs.add(d);
    return d;
  }

  /** The app answered a request whose dialog another transaction holds: 482 to the network instead, NOK to the app. */
  #refuseTaken(cmd: AppSipCommand, p: ServerPending): void {
    this.#c.merged(p.request, p.flow, MERGED, true);
    p.txn.respond(refusalResponse(p.request, MERGED, p.toTag ?? newTag()));
    p.final = true;
    this.#c.server.clear(p);
    this.#c.notify.cdr('stop', ['application', this.#c.notify.now(), 'merged-request'], () => serializeMessageText(p.request));
    this.#c.notify.nok(cmd, 'Response not sent: another transaction has the dialog of this Call-ID and From tag');
  }

  #onAckTimeout(d: EngineDialog): void {
    const c = d.confirmed;
    if (!c) return;
    c.awaitingAck = undefined;
    // "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog is
    // confirmed, but the session SHOULD be terminated. This is accomplished with a BYE"
    // https://www.rfc-editor.org/rfc/rfc3261#section-13.3.1.4
    this.#c.uac.byeFromEngine(d, 'ACK timeout', { cause: 408, cdrCause: 'ack-timeout' });
  }
}

/** Whether `request` carries, below its top, a Via with `branch` (the first's top one): it went out through us and came back. */
function cameBackThrough(request: SipRequest, branch: string | undefined): boolean {
  if (branch === undefined) return false;
  const vias = getHeaderValues(request, 'via');
  for (let i = 1; i < vias.length; i++) {
    const v = parseOneVia(vias[i]!);
    if (v.ok && v.value.params.branch === branch) return true;
  }
  return false;
}
