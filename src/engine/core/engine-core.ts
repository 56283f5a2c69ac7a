import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { SipMessage, SipRequest, SipResponse } from '../../sip/message/types.js';
import { checkRequest } from '../../sip/message/validate.js';
import { DialogTable } from '../../sip/dialog/dialog-table.js';
import { dialogIdOf } from '../../sip/dialog/dialog.js';
import { buildResponse, type TransactionLayer } from '../../sip/transaction/index.js';
import type { ServerTransaction, TransactionUser } from '../../sip/transaction/types.js';
import type { Flow, TransportSender, TransportUser } from '../../sip/transport/types.js';
import type { AppHub, AppProxyCommand, AppSipCommand, EngineCore as EngineCoreContract } from '../types.js';
import { formatStackTime } from '../wire/server-messages.js';
import { LocalAddresses } from './addressing.js';
import { ProxyCore } from './proxy-core.js';
import { UacCore } from './uac-core.js';
import {
  OFFERED, cseqMethod, cseqNumber, newTag, randomSeq, responseHeaders,
} from './core-util.js';
import { peerHeader, stripInternal } from './internal-headers.js';
import { EngineDialog, type ClientPending, type ServerPending } from './engine-dialog.js';
import {
  getHeader, getHeaders, hdr, parseSipText, serializeSip, splitList, tagOf, uriOf,
} from './sip-text.js';

export interface EngineCoreOptions {
  transactions: TransactionLayer;
  transport: TransportSender;
  hub: AppHub;
  clock?: Clock;
  log?: Logger;
  /** Host written in Via, Contact and hostports for listeners bound to a wildcard address (default 127.0.0.1). */
  advertiseHost?: string;
  /** How long a new request may wait for the app's first final response before its state is dropped (64*T1). */
  appAnswerTimeoutMs?: number;
}

/**
 * The engine's SIP core: the transaction user under the drachtio control protocol. It does what drachtio-server
 * does between the network and its apps (drachtio-protocol.md §2.2-§2.8): 100 Trying, choosing an app, filling
 * the minimal messages apps send, dialogs, 2xx retransmission and the ACK-timeout BYE, CANCEL, PRACK, CDRs.
 */
export class EngineCore implements EngineCoreContract, TransactionUser, TransportUser {
  readonly #tl: TransactionLayer;
  readonly #transport: TransportSender;
  readonly #hub: AppHub;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  /** Tenant of each listener, read once the listeners are open. */
  #tenants: Map<string, string | undefined> | undefined;
  /** New requests that parsed but were refused by the UAS checks (400, 416) before any app saw them. */
  #refused = 0;
  readonly #addr: LocalAddresses;
  readonly #T1: number;
  readonly #answerTimeout: number;
  readonly #dialogs = new DialogTable<EngineDialog>();
  readonly #server = new Map<string, ServerPending>();
  readonly #client = new Map<string, ClientPending>();
  /** Pending INVITEs by server transaction id, for CANCEL matching. */
  readonly #invites = new Map<string, ServerPending>();
  readonly #proxy: ProxyCore;
  readonly #uac: UacCore;
  #closed = false;

  constructor(o: EngineCoreOptions) {
    this.#tl = o.transactions;
    this.#transport = o.transport;
    this.#hub = o.hub;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log;
    this.#addr = new LocalAddresses(o.transport, o.advertiseHost ?? '127.0.0.1');
    this.#T1 = this.#tl.timerSettings.T1;
    this.#answerTimeout = o.appAnswerTimeoutMs ?? 64 * this.#T1;
    this.#tl.setUser(this);
    this.#uac = new UacCore({
      tl: this.#tl, hub: this.#hub, clock: this.#clock, log: this.#log, addr: this.#addr, T1: this.#T1,
      dialogs: this.#dialogs, client: this.#client,
      now: () => this.#now(),
      nok: (cmd, reason) => this.#nok(cmd, reason),
      cdr: (kind, fields, sip) => this.#cdr(kind, fields, sip),
      endDialog: (d) => this.#endDialog(d),
    });
    this.#proxy = new ProxyCore({
      transactions: this.#tl, hub: this.#hub, clock: this.#clock, log: this.#log,
      now: () => this.#now(),
      viaFor: (protocol) => this.#addr.viaFor(protocol),
      recordRouteFor: (protocol) => this.#addr.recordRouteFor(protocol),
      isLocal: (address, port) => this.#addr.isLocal(address, port),
      release: (p) => this.#clearServer(p),
      newTag,
    });
  }

  /** Live dialogs and pending transactions, for tests and the admin API. */
  stats(): { dialogs: number; serverPending: number; clientPending: number; refusedRequests: number } {
    return {
      dialogs: this.#dialogs.size, serverPending: this.#server.size, clientPending: this.#client.size,
      refusedRequests: this.#refused,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#server.values()) this.#clearServer(p);
    for (const d of this.#dialogs.values()) {
      d.awaitingAck?.stop();
      d.expiry?.cancel();
    }
  }

  // ---------------------------------------------------------------- transport and transaction callbacks

  onMessage(message: SipMessage, raw: Buffer, flow: Flow): void {
    if (this.#closed) return;
    // X-Trunkgate-Peer and X-Trunkgate-Route are the engine's word to its apps: a copy from the network is removed.
    stripInternal(message.headers);
    this.#tl.receive(message, raw, flow);
  }

  onRequest(request: SipRequest, flow: Flow, txn: ServerTransaction): void {
    const method = request.method;
    // New requests get the checks a UAS makes after parsing (RFC 3261 §8.2); in-dialog requests are matched to
    // their dialog first, as drachtio-server does, so a peer's odd Request-URI there does not break a call.
    if (method !== 'CANCEL' && tagOf(getHeader(request, 'to')) === undefined) {
      const problem = checkRequest(request);
      if (problem) {
        this.#refused++;
        this.#log?.info({ status: problem.status, reason: problem.reason, method, remote: `${flow.remoteAddress}:${flow.remotePort}`,
          protocol: flow.protocol }, `refused ${method} with ${problem.status} ${problem.reason}`);
        this.#reject(txn, problem.status, problem.reason);
        return;
      }
    }
    // A request routed through us (we Record-Routed it as a proxy) is relayed, not answered (§16.4).
    if (method !== 'CANCEL' && getHeader(request, 'route') !== undefined && this.#proxy.routeThrough(request, flow, txn)) return;
    if (method === 'INVITE') {
      // drachtio sends 100 Trying for every new INVITE and re-INVITE before the app sees it (§2.8).
      txn.respond(buildResponse(request, 100, 'Trying'));
    }
    if (method === 'CANCEL') {
      this.#onNetworkCancel(request, flow, txn);
      return;
    }
    const callId = getHeader(request, 'call-id') ?? '';
    const toTag = tagOf(getHeader(request, 'to'));
    if (toTag !== undefined) {
      const fromTag = tagOf(getHeader(request, 'from')) ?? '';
      const d = this.#dialogs.match(callId, toTag, fromTag);
      if (d) {
        this.#onNetworkInDialog(request, flow, txn, d);
        return;
      }
      // "If the request has a tag in the To header field, but the dialog identifier does not match any existing
      // dialogs, the UAS may have crashed and restarted [...] the UAS SHOULD reject the request with a 481"
      // https://www.rfc-editor.org/rfc/rfc3261#section-12.2.2
      this.#reject(txn, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (method === 'BYE' || method === 'UPDATE') {
      this.#reject(txn, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    // Out-of-dialog PRACK, REFER and unknown methods are silently discarded (§2.6).
    if (!OFFERED.has(method)) return;
    const connId = this.#hub.selectApp(method.toLowerCase());
    if (connId === undefined) {
      this.#reject(txn, 503, 'Service Unavailable');
      return;
    }
    const p = this.#newServerPending(connId, txn, request, flow, undefined);
    if (method === 'INVITE') this.#cdr('attempt', ['network', this.#now()], () => serializeSip(request));
    this.#hub.sendSip(connId, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort,
      time: this.#now(), transactionId: p.txnId, dialogId: '', recvAddr: flow.localAddress, recvPort: flow.localPort,
    }, this.#forApp(request, flow));
  }

  onAck(request: SipRequest, flow: Flow): void {
    if (getHeader(request, 'route') !== undefined && this.#proxy.routeThrough(request, flow, undefined)) return;
    const callId = getHeader(request, 'call-id') ?? '';
    const d = this.#dialogs.match(callId, tagOf(getHeader(request, 'to')) ?? '', tagOf(getHeader(request, 'from')) ?? '');
    if (!d || !d.awaitingAck) return;
    const pendingAck = d.awaitingAck;
    d.awaitingAck = undefined;
    pendingAck.stop();
    d.state = 'confirmed';
    // The first ACK carries the INVITE's transactionId (§2.3).
    this.#hub.sendSip(d.owner, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, time: this.#now(),
      transactionId: pendingAck.txnId, dialogId: d.id,
    }, this.#forApp(request, flow));
  }

  onStrayResponse(response: SipResponse, _flow: Flow): void {
    // A 2xx retransmitted after the INVITE client transaction ended: re-send our ACK (§13.2.2.4).
    if (response.status < 200 || response.status >= 300 || cseqMethod(response) !== 'INVITE') return;
    const callId = getHeader(response, 'call-id') ?? '';
    const d = this.#dialogs.match(callId, tagOf(getHeader(response, 'from')) ?? '', tagOf(getHeader(response, 'to')) ?? '');
    if (d?.lastAck) this.#tl.sendStateless(d.lastAck.request, d.lastAck.target).catch(() => undefined);
  }

  onServerTransactionError(txn: ServerTransaction, error: Error): void {
    this.#log?.debug({ err: error, transaction: txn.id }, 'server transaction failed');
  }

  // ---------------------------------------------------------------- app side

  hostports(): { hostports: string[]; localHostports: string[] } {
    const list = this.#transport.listeners().map((l) => `${l.protocol}/${this.#addr.hostportOf(l)}`);
    return { hostports: list, localHostports: list };
  }

  onAppSip(cmd: AppSipCommand): void {
    const msg = parseSipText(cmd.sip);
    if (!msg) {
      this.#nok(cmd, 'invalid SIP message');
      return;
    }
    if (msg.kind === 'response') {
      this.#onAppResponse(cmd, msg);
      return;
    }
    if (cmd.dialogId) {
      const d = this.#dialogs.get(cmd.dialogId);
      if (!d) {
        this.#nok(cmd, `unable to find dialog for dialog id ${cmd.dialogId}`);
        return;
      }
      this.#uac.sendInDialog(cmd, msg, d);
      return;
    }
    if (cmd.transactionId) {
      if (msg.method === 'CANCEL') this.#uac.onAppCancel(cmd);
      else this.#nok(cmd, 'a request with a transaction id and no dialog id must be a CANCEL');
      return;
    }
    // A new request whose Call-ID matches an existing dialog is sent inside that dialog (§2.2 item 4).
    const callId = getHeader(msg, 'call-id');
    if (callId !== undefined) {
      const d = this.#dialogs.byCallId(callId);
      // A dialog whose INVITE failed only waits for the ACK srf still sends; a new request with its Call-ID
      // (a digest retry, https://www.rfc-editor.org/rfc/rfc3261#section-22.2) starts afresh.
      if (d && d.failedStatus !== undefined) this.#endDialog(d);
      else if (d) {
        this.#uac.sendInDialog(cmd, msg, d);
        return;
      }
    }
    this.#uac.sendNew(cmd, msg).catch((err: unknown) => {
      this.#log?.warn({ err }, 'sending a new request failed');
      this.#nok(cmd, err instanceof Error ? err.message : String(err));
    });
  }

  onAppProxy(cmd: AppProxyCommand): void {
    const p = this.#server.get(cmd.transactionId);
    if (!p || p.final || p.proxied || p.inDialog) {
      this.#hub.reply(cmd.connId, cmd.msgId, ['NOK', `unable to find transaction ${cmd.transactionId} to proxy`]);
      return;
    }
    this.#proxy.start(cmd, p);
  }

  /**
   * A TCP/TLS connection was reset or failed: the confirmed dialogs that lived on it have lost their peer. Each
   * is ended as for an ACK timeout: a BYE (best effort) and an unsolicited BYE to the app with Reason
   * "Connection lost", so the app can end the other leg at once. A connection the peer closed cleanly is not a
   * loss (RFC 3261 §18 lets a later request open a new one).
   */
  onConnectionLost(connectionId: string, reason: string): void {
    if (this.#closed) return;
    for (const d of [...this.#dialogs.values()]) {
      if (d.state === 'confirmed' && d.flow?.connectionId === connectionId) this.#uac.byeFromEngine(d, `Connection lost (${reason})`);
    }
  }

  /** The peer closed a connection we opened: the confirmed dialogs on it are probed (UacCore.probeDialog). */
  onConnectionClosedByPeer(connectionId: string): void {
    if (this.#closed) return;
    for (const d of [...this.#dialogs.values()]) {
      if (d.state === 'confirmed' && d.flow?.connectionId === connectionId) this.#uac.probeDialog(d);
    }
  }

  onAppDisconnected(connId: string): void {
    // In-dialog requests for this app's dialogs now get 481 (§2.6); pending requests are dropped by their cap.
    this.#log?.debug({ connId }, 'app disconnected');
  }

  // ---------------------------------------------------------------- network requests

  #newServerPending(connId: string, txn: ServerTransaction, request: SipRequest, flow: Flow, d: EngineDialog | undefined): ServerPending {
    const callId = getHeader(request, 'call-id') ?? '';
    const method = request.method;
    const p: ServerPending = {
      txnId: randomUUID(), connId, txn, request, flow, method, callId,
      dialogId: d ? d.id : '', dialog: d, inDialog: d !== undefined,
      toTag: d ? d.localTag : undefined, provisional: false, final: false, cap: undefined, reliable: undefined, lastRseq: 0,
    };
    this.#server.set(p.txnId, p);
    if (method === 'INVITE') this.#invites.set(txn.id, p);
    // A request the app never answers is forgotten after 64 s; nothing is sent (§2.6).
    p.cap = this.#clock.setTimeout(() => {
      p.cap = undefined;
      if (!p.final) this.#clearServer(p);
    }, this.#answerTimeout);
    return p;
  }

  #clearServer(p: ServerPending): void {
    p.cap?.cancel();
    p.cap = undefined;
    if (p.reliable) {
      p.reliable.timer?.cancel();
      p.reliable = undefined;
    }
    if (this.#server.get(p.txnId) === p) this.#server.delete(p.txnId);
    if (this.#invites.get(p.txn.id) === p) this.#invites.delete(p.txn.id);
    if (p.dialog?.serverInvite === p) p.dialog.serverInvite = undefined;
  }

  #onNetworkInDialog(request: SipRequest, flow: Flow, txn: ServerTransaction, d: EngineDialog): void {
    const method = request.method;
    if (!d.acceptRemoteSeq(cseqNumber(request), method)) {
      this.#reject(txn, 500, 'Server Internal Error');
      return;
    }
    if (!this.#hub.isConnected(d.owner)) {
      // The owner is gone: no failover (§2.6); a BYE also clears the dialog.
      this.#reject(txn, 481, 'Call/Transaction Does Not Exist');
      if (method === 'BYE') this.#endDialog(d);
      return;
    }
    if (method === 'INVITE') {
      // "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a lower
      // CSeq sequence number on the same dialog MUST return a 500 [...] A UAS that receives an INVITE on a dialog
      // while an INVITE it had sent on that dialog is in progress MUST return a 491"
      // https://www.rfc-editor.org/rfc/rfc3261#section-14.2
      if (d.serverInvite && !d.serverInvite.final) {
        this.#reject(txn, 500, 'Server Internal Error');
        return;
      }
      if (d.clientInvite !== undefined || d.awaitingAck) {
        this.#reject(txn, 491, 'Request Pending');
        return;
      }
    }
    if (method === 'PRACK') this.#onPrack(request, d);
    if (method === 'INVITE' || method === 'UPDATE') {
      // Target refresh: "the remote target URI [...] is replaced by the Contact of the request"
      // https://www.rfc-editor.org/rfc/rfc3261#section-12.2.2
      const contact = getHeader(request, 'contact');
      if (contact !== undefined) d.remoteTarget = uriOf(contact);
    }
    if (method === 'BYE') {
      d.awaitingAck?.stop();
      d.awaitingAck = undefined;
      this.#cdr('stop', ['network', this.#now(), 'normal-release'], () => serializeSip(request));
    }
    const p = this.#newServerPending(d.owner, txn, request, flow, d);
    if (method === 'INVITE') d.serverInvite = p;
    this.#hub.sendSip(d.owner, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, time: this.#now(),
      transactionId: p.txnId, dialogId: d.id,
    }, this.#forApp(request, flow));
  }

  #onPrack(prack: SipRequest, d: EngineDialog): void {
    const p = d.serverInvite;
    const rack = getHeader(prack, 'rack');
    if (!p?.reliable || rack === undefined) return;
    // "the RAck header field [...] contains two numbers and a method tag. The first number is the value from
    // the RSeq header in the provisional response that is being acknowledged." https://www.rfc-editor.org/rfc/rfc3262#section-7.2
    if (Number.parseInt(rack, 10) === p.reliable.rseq) {
      p.reliable.timer?.cancel();
      p.reliable = undefined;
    }
  }

  #onNetworkCancel(cancel: SipRequest, flow: Flow, txn: ServerTransaction): void {
    const ist = this.#tl.findInviteServerTransaction(cancel);
    const p = ist ? this.#invites.get(ist.id) : undefined;
    if (p?.proxied) {
      // A proxy answers the CANCEL itself and cancels its branches; their 487 goes upstream (§16.10).
      txn.respond(buildResponse(cancel, 200, 'OK', { toTag: newTag() }));
      p.proxied.cancel();
      return;
    }
    if (!p || p.final) {
      const callId = getHeader(cancel, 'call-id') ?? '';
      const d = this.#dialogs.get(dialogIdOf(callId, tagOf(getHeader(cancel, 'from')) ?? ''));
      this.#reject(txn, 481, 'Call/Transaction Does Not Exist');
      if (d && d.role === 'uas' && ist && ist.state !== 'Proceeding') {
        // A CANCEL after the 200 gets 481, a BYE and an unsolicited BYE to the app (§2.8).
        this.#uac.byeFromEngine(d, 'CANCEL after 200 OK');
      }
      return;
    }
    // "the UAS SHOULD respond to the INVITE with a 487 (Request Terminated)" and "a UAS [...] responds to the
    // CANCEL itself with a 200 (OK)". https://www.rfc-editor.org/rfc/rfc3261#section-9.2
    txn.respond(buildResponse(cancel, 200, 'OK', { toTag: p.toTag ?? newTag() }));
    p.toTag ??= newTag();
    p.txn.respond(buildResponse(p.request, 487, 'Request Terminated', { toTag: p.toTag }));
    p.final = true;
    this.#cdr('stop', ['network', this.#now(), 'call-canceled'], () => serializeSip(cancel));
    const d = p.dialog ?? this.#dialogs.get(p.dialogId);
    this.#clearServer(p);
    if (!p.inDialog && d && d.role === 'uas' && d.state === 'early') this.#endDialog(d);
    this.#hub.sendSip(p.connId, {
      source: 'network', protocol: p.flow.protocol, address: p.flow.remoteAddress, port: p.flow.remotePort,
      time: this.#now(), transactionId: p.txnId, dialogId: p.provisional ? p.dialogId : '',
    }, this.#forApp(cancel, flow));
  }

  #reject(txn: ServerTransaction, status: number, reason: string): void {
    txn.respond(buildResponse(txn.request, status, reason, { toTag: newTag() }));
  }

  // ---------------------------------------------------------------- app responses

  #onAppResponse(cmd: AppSipCommand, msg: SipResponse): void {
    const p = cmd.transactionId ? this.#server.get(cmd.transactionId) : undefined;
    if (!p || p.final) {
      const reason = cseqMethod(msg) === 'CANCEL'
        ? '200 OK to incoming CANCEL is automatically generated by the stack'
        : 'Response not sent due to unknown transaction';
      this.#nok(cmd, reason);
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
    const contactWanted = createsDialog || p.inDialog
      ? (status >= 200 && status < 300 && (isInvite || p.method === 'SUBSCRIBE')) || reliable
      : false;
    const local = this.#addr.flowHostport(p.flow);
    const localContact = p.dialog?.localContact ?? this.#addr.contactFor(p.flow.protocol, local);
    const { extra, hasContact } = responseHeaders(msg, request, {
      local, localContact, contactWanted, copyRecordRoute: createsDialog && status > 100 && status < 300,
    });
    let rseq = 0;
    if (reliable) {
      // "The provisional response MUST establish a dialog if one is not yet created. [...] The value of the
      // header field for the first reliable provisional response in a transaction MUST be between 1 and 2**31 - 1."
      // https://www.rfc-editor.org/rfc/rfc3262#section-3
      rseq = p.lastRseq === 0 ? randomSeq() : p.lastRseq + 1;
      p.lastRseq = rseq;
      extra.push(hdr('RSeq', String(rseq)));
    }
    const response = buildResponse(request, status, msg.reason, {
      ...(status > 100 && p.toTag !== undefined ? { toTag: p.toTag } : {}),
      headers: extra, body: msg.body,
    });

    // Dialog bookkeeping before sending, so that a fast ACK or PRACK finds it.
    let d = p.dialog;
    if (createsDialog && status > 100 && status < 300 && p.toTag !== undefined) {
      d = this.#uasDialog(p, response, hasContact ? getHeader(msg, 'contact')! : localContact);
      p.dialogId = d.id;
    }

    if (isInvite && status >= 200 && status < 300 && d) {
      const retrans = this.#tl.respond2xx(p.txn, response, { onTimeout: () => this.#onAckTimeout(d!) });
      d.awaitingAck = { txnId: p.txnId, stop: () => retrans.stop() };
      d.state = 'confirmed';
    } else {
      p.txn.respond(response);
    }
    if (status > 100 && status < 200) p.provisional = true;
    if (reliable) this.#startReliable(p, response, rseq);

    const text = serializeSip(response);
    const echoDialogId = d && (createsDialog || p.inDialog) && status > 100 ? d.id : '';
    this.#hub.reply(cmd.connId, cmd.msgId, [
      'OK', 'application', String(Buffer.byteLength(text)), p.flow.protocol, p.flow.remoteAddress, String(p.flow.remotePort),
      this.#now(), p.txnId, echoDialogId, '', 'Msg sent:', '',
    ], text);

    if (status >= 200) {
      p.final = true;
      this.#clearServer(p);
      if (isInvite && !p.inDialog) {
        if (status >= 300) this.#cdr('stop', ['application', this.#now(), 'call-rejected'], text);
        else this.#cdr('start', ['application', this.#now(), 'uas'], text);
      }
      if (createsDialog && status >= 300 && d) this.#endDialog(d);
      if (p.method === 'BYE' && p.dialog) this.#endDialog(p.dialog);
      if (isInvite && d && p.inDialog && status >= 300) d.serverInvite = undefined;
    }
  }

  #uasDialog(p: ServerPending, response: SipResponse, localContact: string): EngineDialog {
    const request = p.request;
    const fromTag = tagOf(getHeader(request, 'from')) ?? '';
    const existing = this.#dialogs.get(dialogIdOf(p.callId, fromTag));
    if (existing && existing.role === 'uas') return existing;
    const contact = getHeader(request, 'contact');
    const d = new EngineDialog({
      role: 'uas', callId: p.callId, localTag: p.toTag!, remoteTag: fromTag,
      localUri: getHeader(response, 'to') ?? '', remoteUri: getHeader(request, 'from') ?? '',
      localSeq: randomSeq(), remoteSeq: cseqNumber(request),
      // "The route set MUST be set to the list of URIs in the Record-Route header field from the request, taken
      // in order and preserving all URI parameters." https://www.rfc-editor.org/rfc/rfc3261#section-12.1.1
      routeSet: getHeaders(request, 'record-route').flatMap(splitList),
      remoteTarget: contact === undefined ? '' : uriOf(contact),
      secure: request.uri.startsWith('sips:') && p.flow.protocol === 'tls',
      flow: p.flow, localContact,
    }, p.connId, 'network');
    d.serverInvite = p.method === 'INVITE' ? p : undefined;
    this.#dialogs.add(d);
    return d;
  }

  #startReliable(p: ServerPending, response: SipResponse, rseq: number): void {
    p.reliable?.timer?.cancel();
    const r = { rseq, response, timer: undefined as ReturnType<Clock['setTimeout']> | undefined, interval: this.#T1, elapsed: 0 };
    p.reliable = r;
    if (p.flow.protocol !== 'udp') return;
    // "The UAS MUST send a reliable provisional response [...] retransmitted with an exponential backoff that
    // starts at T1 seconds and doubles each time until it reaches T2 [...] Retransmissions cease when a matching
    // PRACK is received" https://www.rfc-editor.org/rfc/rfc3262#section-3
    const tick = (): void => {
      if (p.reliable !== r || p.final) return;
      r.elapsed += r.interval;
      if (r.elapsed >= 64 * this.#T1) {
        p.reliable = undefined;
        return;
      }
      p.txn.respond(r.response);
      r.interval = Math.min(2 * r.interval, this.#tl.timerSettings.T2);
      r.timer = this.#clock.setTimeout(tick, r.interval);
    };
    r.timer = this.#clock.setTimeout(tick, r.interval);
  }

  #onAckTimeout(d: EngineDialog): void {
    if (d.state === 'terminated') return;
    d.awaitingAck = undefined;
    // "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog is
    // confirmed, but the session SHOULD be terminated. This is accomplished with a BYE"
    // https://www.rfc-editor.org/rfc/rfc3261#section-13.3.1.4
    this.#uac.byeFromEngine(d, 'ACK timeout');
  }


  #endDialog(d: EngineDialog): void {
    d.awaitingAck?.stop();
    d.awaitingAck = undefined;
    d.expiry?.cancel();
    d.expiry = undefined;
    this.#dialogs.remove(d);
  }

  // ---------------------------------------------------------------- app requests












  /** A request as an app gets it: with X-Trunkgate-Peer saying how it arrived and who sent it (ARCHITECTURE §1). */
  #forApp(request: SipRequest, flow: Flow): string {
    const tenant = flow.listenerId !== undefined ? this.#listenerTenant(flow.listenerId) : undefined;
    return serializeSip({ ...request, headers: [...request.headers, peerHeader(flow, tenant)] });
  }

  #listenerTenant(id: string): string | undefined {
    let m = this.#tenants;
    if (!m) {
      m = new Map(this.#transport.listeners().map((l) => [l.id, l.tenant]));
      if (m.size > 0) this.#tenants = m;
    }
    return m.get(id);
  }

  // ---------------------------------------------------------------- frames

  #now(): string {
    return formatStackTime(new Date(this.#clock.now()));
  }

  #nok(cmd: AppSipCommand, reason: string): void {
    this.#hub.reply(cmd.connId, cmd.msgId, ['NOK', reason]);
  }

  /** A CDR to the app that routed it; the SIP text is only built when some app did. */
  #cdr(kind: 'attempt' | 'start' | 'stop', fields: string[], sip: string | (() => string)): void {
    if (this.#hub.wantsCdr?.(kind) === false) return;
    this.#hub.sendCdr(kind, fields, typeof sip === 'function' ? sip() : sip);
  }
}
