import { systemClock, type Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { SipMessage, SipRequest, SipResponse } from '../../sip/message/types.js';
import { dialogIdOf } from '../../sip/dialog/dialog.js';
import { buildCancel, buildResponse, type TransactionLayer } from '../../sip/transaction/index.js';
import type { ServerTransaction, TransactionUser } from '../../sip/transaction/types.js';
import type { Flow, TransportSender, TransportUser } from '../../sip/transport/types.js';
import type { AppHub, AppProxyCommand, AppSipCommand, EngineCore as EngineCoreContract } from '../types.js';
import { nokFields } from '../wire/server-messages.js';
import { LocalAddresses } from './addressing.js';
import type { CoreErrorCode } from './errors.js';
import { optionsResponse, ourRouteToken, screenRequest } from './ingress.js';
import { CoreGuard } from './core-guard.js';
import type { CoreLimits } from './limits.js';
import { ProxiedDialogs } from './proxied-dialogs.js';
import { refusalResponse, type Refusal } from './reject.js';
import { RequestGate } from './request-gate.js';
import { ProxyCore } from './proxy-core.js';
import { UacCore } from './uac-core.js';
import { UasCore } from './uas-core.js';
import { OFFERED, cseqMethod, cseqNumber, newTag } from './core-util.js';
import { peerHeader, stripInternal } from './internal-headers.js';
import { ProxyIdentity, type ProxyIdentityTenant } from './proxy-identity.js';
import type { EngineDialog, ServerPending } from './engine-dialog.js';
import { AppNotify } from './app-notify.js';
import { DialogStore } from './dialog-store.js';
import { ServerRequests } from './server-requests.js';
import { getHeader, header, parseAppText, serializeMessageText, tagOf, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';
import type { SipUri } from '../../sip/message/index.js';
import type { StageTimes } from './stage-times.js';

export interface EngineCoreOptions {
  transactions: TransactionLayer;
  transport: TransportSender;
  hub: AppHub;
  clock?: Clock;
  log?: Logger;
  /** Host written in Via, Contact and hostports for listeners bound to a wildcard address (default 127.0.0.1). */
  advertiseHost?: string;
  /** Answer times and table caps (defaults in limits.ts). */
  limits?: CoreLimits;
  /** @deprecated use limits.appAnswerTimeoutMs. */
  appAnswerTimeoutMs?: number;
  /** Per-stage timings, shared with the transport that marks each message in hand and parsed. */
  stages?: StageTimes;
  /** Tenants that take their callers' TLS identities from a trusted proxy's header (proxy-identity.ts). */
  proxyIdentity?: ProxyIdentityTenant[];
}

/**
 * The engine's SIP core: the transaction user under the drachtio control protocol. It does what drachtio-server
 * does between the network and its apps (docs/control-protocol.md §2.2-§2.8): 100 Trying, choosing an app, filling
 * the minimal messages apps send, dialogs, 2xx retransmission and the ACK-timeout BYE, CANCEL, PRACK, CDRs.
 */
const NO_DIALOG: Refusal = { status: 481, phrase: 'Call/Transaction Does Not Exist' };

export class EngineCore implements EngineCoreContract, TransactionUser, TransportUser {
  readonly #tl: TransactionLayer;
  readonly #transport: TransportSender;
  readonly #hub: AppHub;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  /** Tenant of each listener, read once the listeners are open. */
  #tenants: Map<string, string | undefined> | undefined;
  /** Table caps, answer times, counters and the rate-limited log of refusals. */
  readonly #guard: CoreGuard;
  readonly #gate: RequestGate;
  readonly #proxiedDialogs: ProxiedDialogs;
  readonly #addr: LocalAddresses;
  readonly #T1: number;
  readonly #dialogs = new DialogStore();
  readonly #server: ServerRequests;
  readonly #notify: AppNotify;
  readonly #proxy: ProxyCore;
  readonly #uac: UacCore;
  readonly #uas: UasCore;
  readonly #stages: StageTimes | undefined;
  readonly #proxyIds: ProxyIdentity;
  #closed = false;
  /** Set by drain(): OPTIONS to the gateway get this refusal instead of 200. */
  #draining: Refusal | undefined;

  constructor(o: EngineCoreOptions) {
    this.#tl = o.transactions;
    this.#transport = o.transport;
    this.#hub = o.hub;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log;
    this.#stages = o.stages;
    this.#addr = new LocalAddresses(o.transport, o.advertiseHost ?? '127.0.0.1');
    this.#T1 = this.#tl.timerSettings.T1;
    this.#guard = new CoreGuard({
      limits: { ...(o.appAnswerTimeoutMs !== undefined ? { appAnswerTimeoutMs: o.appAnswerTimeoutMs } : {}), ...o.limits },
      log: o.log, clock: this.#clock,
      sizes: { server: () => this.#server.size, client: () => this.#uac.pendingCount, dialogs: () => this.#dialogs.size },
    });
    this.#proxyIds = new ProxyIdentity(o.proxyIdentity ?? [], (source, tenant) => this.#guard.counted(
      'proxyIdentityIgnored', 'ERR_ENGINE_PROXY_IDENTITY_UNTRUSTED', 'proxy identity header from an untrusted source', undefined,
      `proxy identity header from ${source} (tenant ${tenant ?? '-'}) removed: not a trusted proxy of that tenant`));
    this.#notify = new AppNotify(this.#hub, this.#clock);
    this.#server = new ServerRequests({
      clock: this.#clock, answerTimeoutMs: this.#guard.limits.appAnswerTimeoutMs,
      onNoAnswer: (p, ms) => {
        const text = `no answer from the application within ${ms} ms`;
        this.#guard.counted('appNoAnswer', 'ERR_ENGINE_APP_NO_ANSWER', text, p.flow, `${p.method} answered 503 by the engine: ${text}`);
        this.#answerForApp(p, { status: 503, phrase: 'Service Unavailable', text }, 'app-no-answer');
      },
    });
    this.#gate = new RequestGate(this.#tl, this.#guard.log);
    this.#proxiedDialogs = new ProxiedDialogs({ clock: this.#clock, max: this.#guard.limits.maxProxiedDialogs });
    this.#tl.setUser(this);
    this.#uac = new UacCore({
      tl: this.#tl, send: this.#gate, hub: this.#hub, clock: this.#clock, log: this.#log, addr: this.#addr, T1: this.#T1,
      dialogs: this.#dialogs, notify: this.#notify, limits: this.#guard,
    });
    this.#uas = new UasCore({
      tl: this.#tl, hub: this.#hub, clock: this.#clock, addr: this.#addr, T1: this.#T1, dialogs: this.#dialogs,
      server: this.#server, uac: this.#uac, notify: this.#notify, finalTimeoutMs: this.#guard.limits.appFinalTimeoutMs,
    });
    this.#proxy = new ProxyCore({
      transactions: this.#gate, hub: this.#hub, clock: this.#clock, log: this.#log,
      now: () => this.#notify.now(),
      viaFor: (protocol) => this.#addr.viaFor(protocol),
      recordRouteFor: (protocol) => this.#addr.recordRouteFor(protocol),
      isLocal: (address, port) => this.#addr.isLocal(address, port),
      release: (p) => this.#server.clear(p),
      newTag,
      proxiedDialog: (callId, fromTag, toTag) => this.#proxiedDialogs.add(callId, fromTag, toTag),
      tooManyHops: (request, flow) => this.#guard.counted('tooManyHops', 'ERR_ENGINE_TOO_MANY_HOPS', 'Max-Forwards reached 0', flow,
        `${request.method} not forwarded: Max-Forwards reached 0`),
    });
  }

  /** Live dialogs, pending transactions and every refusal and limit counter, for tests and the admin API. */
  stats(): Record<string, number> {
    return {
      dialogs: this.#dialogs.size, serverPending: this.#server.size, clientPending: this.#uac.pendingCount,
      invitesPending: this.#server.invites, invitesUnanswered: this.#server.unanswered, proxiedDialogs: this.#proxiedDialogs.size,
      proxiedDialogsEvicted: this.#proxiedDialogs.evicted, requestUriRefused: this.#gate.refused,
      ...this.#guard.count.snapshot(),
      ...this.#hub.counters?.(),
    };
  }

  /** New INVITEs handed to an app that has not answered them at all yet (the overload guard's queue depth). */
  /** From now on OPTIONS to the gateway itself are answered 503 (a load balancer's probe takes it out). */
  drain(retryAfterSeconds: number): void {
    this.#draining = { status: 503, phrase: 'Service Unavailable', text: 'draining', retryAfter: retryAfterSeconds };
  }

  unansweredInvites(): number {
    return this.#server.unanswered;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#server.list()) this.#server.clear(p);
    this.#dialogs.stopTimers();
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
    const inDialog = tagOf(getHeader(request, 'to')) !== undefined;
    // Loose routing happens only inside a dialog the engine record-routed for an app that proxied it (§16.4);
    // nothing else is ever relayed by the engine on its own.
    if (inDialog && method !== 'CANCEL' && this.#relayIfProxied(request, flow, txn)) return;
    // New requests get the checks a UAS makes after parsing (RFC 3261 §8.2); in-dialog requests are matched to
    // their dialog first, as drachtio-server does, so a peer's odd Request-URI there does not break a call.
    // A flow token in our own Route (a request to a registration relayed with Path) goes to the app before the
    // Route is removed; only a new request can carry one.
    const flowToken = inDialog ? undefined : ourRouteToken(request, (uri) => this.#proxy.isOurs(uri));
    const screen = screenRequest(request, inDialog, (uri) => this.#proxy.isOurs(uri));
    if (screen.action === 'options') {
      this.#guard.count.optionsAnswered++;
      if (this.#draining) this.#refuse(txn, this.#draining);
      else txn.respond(optionsResponse(request, newTag()));
      return;
    }
    if (screen.action === 'refuse') {
      const r = screen.refusal;
      const name = screen.code === 'ERR_ENGINE_TOO_MANY_HOPS' ? 'tooManyHops' : screen.code === 'ERR_ENGINE_BAD_CONTACT' ? 'badContact' : 'refusedRequests';
      this.#guard.counted(name, screen.code, r.text ?? r.phrase, flow, `refused ${method} with ${r.status} ${r.phrase}`);
      this.#refuse(txn, r);
      return;
    }
    if (screen.foreignRoute && !inDialog) {
      this.#guard.counted('routeNotFollowed', 'ERR_ENGINE_ROUTE_NOT_FOLLOWED', 'Route names another host', flow,
        `${method} with a Route to another host: not followed, handed to the app`);
    }
    if (method === 'INVITE') {
      // drachtio sends 100 Trying for every new INVITE and re-INVITE before the app sees it (§2.8).
      txn.respond(buildResponse(request, 100, 'Trying'));
      this.#stages?.trying();
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
      this.#refuse(txn, NO_DIALOG);
      return;
    }
    if (method === 'BYE' || method === 'UPDATE') {
      this.#refuse(txn, NO_DIALOG);
      return;
    }
    // Out-of-dialog PRACK, REFER and unknown methods are silently discarded (§2.6).
    if (!OFFERED.has(method)) return;
    const full = this.#guard.admitServer(method, flow);
    if (full) {
      this.#refuse(txn, full);
      return;
    }
    const connId = this.#hub.selectApp(method.toLowerCase());
    if (connId === undefined) {
      this.#guard.counted('noApp', 'ERR_ENGINE_NO_APP', `no app for ${method}`, flow, `${method} refused: no app routed it`);
      this.#refuse(txn, this.#guard.busy('no application'));
      return;
    }
    if (method === 'INVITE' && this.#hub.backlogged?.(connId) === true) {
      this.#guard.counted('appBacklog', 'ERR_ENGINE_APP_BACKLOG', `control connection ${connId} backed up`, flow,
        'INVITE refused: the application connection is backed up');
      this.#refuse(txn, this.#guard.busy('application overloaded'));
      return;
    }
    const p = this.#server.create(connId, txn, request, flow, undefined);
    if (method === 'INVITE') this.#notify.cdr('attempt', ['network', this.#notify.now()], () => serializeMessageText(request));
    this.#hub.sendSip(connId, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort,
      time: this.#notify.now(), transactionId: p.txnId, dialogId: '', recvAddr: flow.localAddress, recvPort: flow.localPort,
    }, this.#forApp(request, flow, flowToken));
    if (method === 'INVITE' && this.#stages) p.handedAt = this.#stages.handedToApp();
  }

  onAck(request: SipRequest, flow: Flow): void {
    if (this.#relayIfProxied(request, flow, undefined)) return;
    const callId = getHeader(request, 'call-id') ?? '';
    const d = this.#dialogs.match(callId, tagOf(getHeader(request, 'to')) ?? '', tagOf(getHeader(request, 'from')) ?? '');
    const c = d?.confirmed;
    if (!d || !c?.awaitingAck) return;
    const pendingAck = c.awaitingAck;
    c.awaitingAck = undefined;
    pendingAck.stop();
    // The first ACK carries the INVITE's transactionId (§2.3).
    this.#hub.sendSip(d.owner, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, time: this.#notify.now(),
      transactionId: pendingAck.txnId, dialogId: d.id,
    }, this.#forApp(request, flow));
  }

  onStrayResponse(response: SipResponse, _flow: Flow): void {
    // A 2xx retransmitted after the INVITE client transaction ended: re-send our ACK (§13.2.2.4).
    if (response.status < 200 || response.status >= 300 || cseqMethod(response) !== 'INVITE') return;
    const callId = getHeader(response, 'call-id') ?? '';
    const d = this.#dialogs.match(callId, tagOf(getHeader(response, 'from')) ?? '', tagOf(getHeader(response, 'to')) ?? '');
    const lastAck = d?.confirmed?.lastAck;
    if (lastAck) this.#gate.sendStateless(lastAck.request, lastAck.target).catch(() => undefined);
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
    const arrivedAt = this.#stages ? performance.now() : 0;
    const msg = parseAppText(cmd.sip);
    if (!msg) {
      this.#notify.nok(cmd, 'invalid SIP message');
      return;
    }
    if (msg.kind === 'response') {
      this.#answered(cmd.transactionId);
      this.#uas.onAppResponse(cmd, msg);
      this.#stages?.sent(arrivedAt);
      return;
    }
    if (cmd.dialogId) {
      const d = this.#dialogs.get(cmd.dialogId);
      if (!d) {
        this.#notify.nok(cmd, `unable to find dialog for dialog id ${cmd.dialogId}`);
        return;
      }
      this.#uac.sendInDialog(cmd, msg, d);
      return;
    }
    if (cmd.transactionId) {
      if (msg.method === 'CANCEL') this.#uac.onAppCancel(cmd);
      else this.#notify.nok(cmd, 'a request with a transaction id and no dialog id must be a CANCEL');
      return;
    }
    // A new request whose Call-ID matches an existing dialog is sent inside that dialog (§2.2 item 4).
    const callId = getHeader(msg, 'call-id');
    if (callId !== undefined) {
      const d = this.#dialogs.byCallId(callId);
      // A dialog whose INVITE failed only waits for the ACK srf still sends; a new request with its Call-ID
      // (a digest retry, https://www.rfc-editor.org/rfc/rfc3261#section-22.2) starts afresh.
      if (d && d.phase.kind === 'terminating') this.#dialogs.end(d);
      else if (d) {
        this.#uac.sendInDialog(cmd, msg, d);
        return;
      }
    }
    this.#uac.sendNew(cmd, msg).then(() => this.#stages?.sent(arrivedAt), (err: unknown) => {
      this.#log?.warn({ err }, 'sending a new request failed');
      this.#notify.nok(cmd, err instanceof Error ? err.message : String(err));
    });
  }

  onAppProxy(cmd: AppProxyCommand): void {
    const p = this.#server.get(cmd.transactionId);
    if (!p || p.final || p.proxied || p.inDialog) {
      this.#hub.reply(cmd.connId, cmd.msgId, nokFields(`unable to find transaction ${cmd.transactionId} to proxy`));
      return;
    }
    this.#answered(cmd.transactionId);
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
    for (const d of this.#dialogs.list()) {
      if (d.phase.kind === 'confirmed' && d.flow?.connectionId === connectionId) this.#uac.byeFromEngine(d, `Connection lost (${reason})`, { cause: 503, cdrCause: 'connection-lost' });
    }
  }

  /** The peer closed a connection we opened: the confirmed dialogs on it are probed (UacCore.probeDialog). */
  onConnectionClosedByPeer(connectionId: string): void {
    if (this.#closed) return;
    for (const d of this.#dialogs.list()) {
      if (d.phase.kind === 'confirmed' && d.flow?.connectionId === connectionId) this.#uac.probeDialog(d);
    }
  }

  /**
   * An app's control connection is gone. Nothing of it may linger: every request it had to answer gets 503 with
   * a Reason now, every dialog it owned is ended (BYE to a confirmed leg, CANCEL to a leg still ringing, both
   * legs of a B2BUA call being its dialogs), each with a CDR stop and a counter, and one summary log line.
   */
  onAppDisconnected(connId: string): void {
    let answered = 0;
    for (const p of this.#server.list()) {
      if (p.connId !== connId || p.final || p.proxied) continue;
      this.#answerForApp(p, { status: 503, phrase: 'Service Unavailable', text: 'application disconnected' }, 'app-disconnected');
      answered++;
    }
    let ended = 0;
    for (const d of this.#dialogs.list()) {
      const ph = d.phase;
      if (d.owner !== connId || ph.kind === 'terminated') continue;
      ended++;
      if (ph.kind === 'terminating') {
        this.#dialogs.end(d);
      } else if (ph.kind === 'confirmed') {
        this.#uac.byeFromEngine(d, 'application disconnected', { cause: 503, cdrCause: 'app-disconnected' });
      } else if (ph.clientInvite !== undefined) {
        // A B leg still ringing: CANCEL it; a 200 that crosses the CANCEL is ACKed and BYEd (§2.8).
        this.#uac.cancelFromEngine(ph.clientInvite);
      } else {
        this.#dialogs.end(d);
      }
    }
    this.#guard.count.appGoneRequestsAnswered += answered;
    this.#guard.count.appGoneDialogsEnded += ended;
    const code: CoreErrorCode = 'ERR_ENGINE_APP_GONE';
    if (answered + ended > 0) {
      this.#log?.warn({ code, connId, dialogsEnded: ended, requestsAnswered: answered }, 'app disconnected: its dialogs ended and its pending requests answered 503');
    } else {
      this.#log?.info({ code, connId }, 'app disconnected');
    }
  }

  // ---------------------------------------------------------------- network requests

  /**
   * The engine answers a request its app did not: the final response with a Reason, the state freed, an early
   * dialog ended, and for an INVITE a CANCEL to the app (when still connected) so that it drops its side too.
   */
  #answerForApp(p: ServerPending, r: Refusal, cdrCause: string): void {
    p.toTag ??= newTag();
    p.txn.respond(refusalResponse(p.request, r, p.toTag));
    p.final = true;
    const d = p.dialog ?? (p.dialogId ? this.#dialogs.get(p.dialogId) : undefined);
    this.#server.clear(p);
    if (p.method !== 'INVITE') return;
    if (!p.inDialog) this.#notify.cdr('stop', ['application', this.#notify.now(), cdrCause], () => serializeMessageText(p.request));
    if (!p.inDialog && d && d.role === 'uas' && d.phase.kind === 'early') this.#dialogs.end(d);
    if (!this.#hub.isConnected(p.connId)) return;
    let cancel: SipRequest;
    try {
      cancel = buildCancel(p.request);
    } catch {
      return;
    }
    this.#hub.sendSip(p.connId, {
      source: 'network', protocol: p.flow.protocol, address: p.flow.remoteAddress, port: p.flow.remotePort,
      time: this.#notify.now(), transactionId: p.txnId, dialogId: p.provisional ? p.dialogId : '',
    }, serializeMessageText(cancel));
  }

  /** An in-dialog request (or ACK) of a dialog we proxied with Record-Route, relayed; false when it is not one. */
  #relayIfProxied(request: SipRequest, flow: Flow, txn: ServerTransaction | undefined): boolean {
    if (this.#proxiedDialogs.size === 0 || getHeader(request, 'route') === undefined) return false;
    const callId = getHeader(request, 'call-id') ?? '';
    const fromTag = tagOf(getHeader(request, 'from')) ?? '';
    const toTag = tagOf(getHeader(request, 'to'));
    if (toTag === undefined || !this.#proxiedDialogs.has(callId, fromTag, toTag)) return false;
    const outcome = this.#proxy.relayInDialog(request, flow, txn);
    if (outcome === undefined) return false;
    if (outcome === 'refused') return true;
    this.#guard.count.relayedInDialog++;
    // A BYE ends the dialog: its retransmissions are absorbed by its server transaction, nothing else follows.
    if (request.method === 'BYE') this.#proxiedDialogs.remove(callId, fromTag, toTag);
    return true;
  }

  /** The app answered (any response, or a proxy): the INVITE no longer counts as unanswered. */
  #answered(transactionId: string | undefined): void {
    const p = transactionId ? this.#server.get(transactionId) : undefined;
    if (!p) return;
    if (p.handedAt !== undefined) {
      this.#stages?.answered(p.handedAt);
      p.handedAt = undefined;
    }
    this.#server.settle(p);
  }

  #onNetworkInDialog(request: SipRequest, flow: Flow, txn: ServerTransaction, d: EngineDialog): void {
    const method = request.method;
    if (!d.acceptRemoteSeq(cseqNumber(request), method)) {
      this.#refuse(txn, { status: 500, phrase: 'Server Internal Error', text: 'CSeq out of order' });
      return;
    }
    if (!this.#hub.isConnected(d.owner)) {
      // The owner is gone: no failover (§2.6); a BYE also clears the dialog.
      this.#refuse(txn, { ...NO_DIALOG, text: 'application disconnected' });
      if (method === 'BYE') this.#dialogs.end(d);
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
        this.#refuse(txn, { status: 500, phrase: 'Server Internal Error', text: 'an INVITE is already in progress', retryAfter: Math.floor(Math.random() * 11) });
        return;
      }
      if (slots?.clientInvite !== undefined || d.confirmed?.awaitingAck) {
        this.#refuse(txn, { status: 491, phrase: 'Request Pending' });
        return;
      }
    }
    const full = this.#guard.admitServer(method === 'INVITE' ? 'in-dialog INVITE' : method, flow);
    if (full) {
      this.#refuse(txn, full);
      return;
    }
    if (method === 'PRACK') this.#onPrack(request, d);
    if (method === 'INVITE' || method === 'UPDATE') {
      // Target refresh: "the remote target URI [...] is replaced by the Contact of the request"
      // https://www.rfc-editor.org/rfc/rfc3261#section-12.2.2
      const contact = getHeader(request, 'contact');
      if (contact !== undefined && uriOrUndefined(uriTextOf(contact)) !== undefined) d.remoteTarget = uriTextOf(contact);
    }
    if (method === 'BYE') {
      const c = d.confirmed;
      c?.awaitingAck?.stop();
      if (c) c.awaitingAck = undefined;
      this.#notify.cdr('stop', ['network', this.#notify.now(), 'normal-release'], () => serializeMessageText(request));
    }
    const p = this.#server.create(d.owner, txn, request, flow, d);
    const slots = d.invites;
    if (method === 'INVITE' && slots) slots.serverInvite = p;
    this.#hub.sendSip(d.owner, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, time: this.#notify.now(),
      transactionId: p.txnId, dialogId: d.id,
    }, this.#forApp(request, flow));
  }

  #onPrack(prack: SipRequest, d: EngineDialog): void {
    const p = d.invites?.serverInvite;
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
    const p = ist ? this.#server.inviteOf(ist.id) : undefined;
    if (p?.proxied) {
      // A proxy answers the CANCEL itself and cancels its branches; their 487 goes upstream (§16.10).
      txn.respond(buildResponse(cancel, 200, 'OK', { toTag: newTag() }));
      p.proxied.cancel();
      return;
    }
    if (!p || p.final) {
      const callId = getHeader(cancel, 'call-id') ?? '';
      const d = this.#dialogs.get(dialogIdOf(callId, tagOf(getHeader(cancel, 'from')) ?? ''));
      this.#refuse(txn, NO_DIALOG);
      if (d && d.role === 'uas' && ist && ist.state !== 'Proceeding') {
        // A CANCEL after the 200 gets 481, a BYE and an unsolicited BYE to the app (§2.8).
        this.#uac.byeFromEngine(d, 'CANCEL after 200 OK', { cause: 487, cdrCause: 'cancel-race' });
      }
      return;
    }
    // "the UAS SHOULD respond to the INVITE with a 487 (Request Terminated)" and "a UAS [...] responds to the
    // CANCEL itself with a 200 (OK)". https://www.rfc-editor.org/rfc/rfc3261#section-9.2
    txn.respond(buildResponse(cancel, 200, 'OK', { toTag: p.toTag ?? newTag() }));
    p.toTag ??= newTag();
    p.txn.respond(refusalResponse(p.request, { status: 487, phrase: 'Request Terminated', text: 'CANCEL from the caller' }, p.toTag));
    p.final = true;
    this.#notify.cdr('stop', ['network', this.#notify.now(), 'call-canceled'], () => serializeMessageText(cancel));
    const d = p.dialog ?? this.#dialogs.get(p.dialogId);
    this.#server.clear(p);
    if (!p.inDialog && d && d.role === 'uas' && d.phase.kind === 'early') this.#dialogs.end(d);
    this.#hub.sendSip(p.connId, {
      source: 'network', protocol: p.flow.protocol, address: p.flow.remoteAddress, port: p.flow.remotePort,
      time: this.#notify.now(), transactionId: p.txnId, dialogId: p.provisional ? p.dialogId : '',
    }, this.#forApp(cancel, flow));
  }

  /**
   * Every final response the engine generates for a request goes out here, with its Reason (RFC 3326). A new
   * INVITE refused before any app saw it also gets its CDR (attempt, then stop with the status as its cause).
   */
  #refuse(txn: ServerTransaction, r: Refusal): void {
    const request = txn.request;
    txn.respond(refusalResponse(request, r, newTag()));
    if (request.method === 'INVITE' && r.status >= 300 && tagOf(getHeader(request, 'to')) === undefined) {
      this.#notify.cdr('attempt', ['network', this.#notify.now()], () => serializeMessageText(request));
      this.#notify.cdr('stop', ['application', this.#notify.now(), `refused-${r.status}`], () => serializeMessageText(request));
    }
  }

  // ---------------------------------------------------------------- frames to apps

  /**
   * A request as an app gets it: with X-Trunkgate-Peer saying how it arrived and who sent it (ARCHITECTURE §1).
   * A proxy identity header is taken (trusted proxy of the request's tenant) or removed here, before any app sees it.
   */
  #forApp(request: SipRequest, flow: Flow, flowToken?: string): string {
    const tenant = flow.listenerId !== undefined ? this.#listenerTenant(flow.listenerId) : undefined;
    const headers = [...request.headers];
    const r = { ...request, headers };
    const proxied = this.#proxyIds.empty ? undefined
      : this.#proxyIds.take(r, flow.remoteAddress, (flow.protocol === 'tls' ? flow.tls?.tenant : undefined) ?? flow.tenant ?? tenant);
    if (proxied) this.#guard.count.proxyIdentityTaken++;
    const peer = peerHeader(flow, tenant, proxied);
    headers.push(flowToken === undefined ? peer : header('X-Trunkgate-Peer', `${peer.value};flow=${flowToken}`));
    return serializeMessageText(r);
  }

  #listenerTenant(id: string): string | undefined {
    let m = this.#tenants;
    if (!m) {
      m = new Map(this.#transport.listeners().map((l) => [l.id, l.tenant]));
      if (m.size > 0) this.#tenants = m;
    }
    return m.get(id);
  }
}
