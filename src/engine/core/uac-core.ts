import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import { buildCancel, buildResponse, newBranch, type TransactionLayer } from '../../sip/transaction/index.js';
import type { ClientTransactionUser } from '../../sip/transaction/types.js';
import type { Flow, ListenerInfo, SendTarget } from '../../sip/transport/types.js';
import { requestSentFields, type WireEndpoint } from '../wire/server-messages.js';
import type { AppHub, AppSipCommand } from '../types.js';
import { resolveHost, transportOf, unbracket, withLr, type LocalAddresses } from './addressing.js';
import { ROUTE_HEADER, engineOriginHeader, isInternalHeader, parseRouteHeader, peerHeader, tlsFailureReason, type RouteInfo } from './internal-headers.js';
import { EngineDialog, type ClientPending } from './engine-dialog.js';
import type { AppNotify } from './app-notify.js';
import type { DialogStore } from './dialog-store.js';
import { reasonHeader } from './reject.js';
import type { RequestGate } from './request-gate.js';
import { NOOP_USER, STACK_OWNED, appHeaders, cseqNumber, newTag, randomSeq, tlsTargetOf } from './core-util.js';
import { getHeader, getHeaderValues, header, serializeMessageText, splitList, tagOf, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';
import type { SipUri } from '../../sip/message/index.js';
import { localContactValue, replaceLocalhost } from './core-util.js';

/** What the UAC side works with: the layers below, the dialog store, and how to tell apps. Each owns its state. */
export interface UacDeps {
  readonly tl: TransactionLayer;
  /** Every request sent goes through the gate (no request without a usable Request-URI reaches the wire). */
  readonly send: RequestGate;
  readonly hub: AppHub;
  readonly clock: Clock;
  readonly log: Logger | undefined;
  readonly addr: LocalAddresses;
  readonly T1: number;
  readonly dialogs: DialogStore;
  readonly notify: AppNotify;
  /** The table caps (counted when hit): client transactions, dialogs. */
  readonly limits: { clientFull(): boolean; dialogsFull(): boolean };
}

/**
 * The engine's UAC side: requests an app sends (new ones, in-dialog ones, ACK and CANCEL), completed as
 * drachtio-server completes them (docs/control-protocol.md §2.2, §2.8), sent through client transactions, and their
 * responses back to the app; plus the BYEs the engine sends by itself.
 */
export class UacCore {
  readonly #c: UacDeps;
  /** Requests an app sent that await their final response, by transactionId: owned here. */
  readonly #pending = new Map<string, ClientPending>();

  constructor(deps: UacDeps) {
    this.#c = deps;
  }

  /** Requests sent for apps and not yet answered finally. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Sends a BYE the app did not ask for, and tells the app (when connected) with an unsolicited BYE (§2.3).
   * `cause` makes the Reason an RFC 3326 one with a cause; the CDR stop carries `cdrCause`.
   */
  byeFromEngine(d: EngineDialog, reasonText: string, o: { cause: number; cdrCause: string }): void {
    const reason = reasonHeader(o.cause, reasonText);
    const bye = this.#buildInDialog(d, 'BYE', d.remoteTarget, [reason], Buffer.alloc(0));
    this.#dialogTarget(d).then((target) => {
      const via = this.#c.addr.viaFor(target.protocol);
      bye.headers.unshift(header('Via', via));
      try {
        this.#c.send.sendRequest(bye, { target, user: NOOP_USER });
      } catch (err) {
        this.#c.log?.warn({ err }, 'engine BYE not sent');
      }
      const text = serializeMessageText(bye);
      this.#c.notify.cdr('stop', ['application', this.#c.notify.now(), o.cdrCause], text);
      if (this.#c.hub.isConnected(d.owner)) {
        const f = d.flow;
        this.#c.hub.sendSip(d.owner, {
          source: 'application', protocol: f?.protocol ?? target.protocol, address: f?.remoteAddress ?? target.address,
          port: f?.remotePort ?? target.port, time: this.#c.notify.now(), transactionId: 'unsolicited', dialogId: d.id,
        }, text);
      }
    }).catch((err: unknown) => this.#c.log?.warn({ err }, 'engine BYE: no target'));
    this.#c.dialogs.end(d);
  }

  /** CANCELs the INVITE client transaction `txnId` on the engine's own account (its app is gone). */
  cancelFromEngine(txnId: string): void {
    const p = this.#pending.get(txnId);
    if (!p || p.final || p.canceled || !p.txn) return;
    p.canceled = true;
    try {
      this.#c.send.cancel(p.txn, NOOP_USER);
    } catch (err) {
      this.#c.log?.debug({ err }, 'engine CANCEL not sent');
    }
  }

  /**
   * The peer closed the connection a confirmed dialog of ours lives on. That alone is no loss (a later request
   * may open a new connection, RFC 3261 §18), so an in-dialog OPTIONS (§11) asks whether the peer is still
   * there; a transport error, a timeout, 408 or 481 ends the dialog with a BYE and tells the app.
   */
  probeDialog(d: EngineDialog): void {
    const lost = (why: string) => {
      if (d.phase.kind === 'confirmed' && this.#c.dialogs.get(d.id) === d) this.byeFromEngine(d, `Connection lost (${why})`, { cause: 503, cdrCause: 'connection-lost' });
    };
    const probe = this.#buildInDialog(d, 'OPTIONS', d.remoteTarget, [], Buffer.alloc(0));
    this.#dialogTarget(d).then((target) => {
      probe.headers.unshift(header('Via', this.#c.addr.viaFor(target.protocol)));
      this.#c.send.sendRequest(probe, {
        target,
        user: {
          onResponse: (res) => {
            if (res.status === 408 || res.status === 481) lost(`probe answered ${res.status}`);
          },
          onTimeout: () => lost('probe timed out'),
          onTransportError: () => lost('peer unreachable'),
        },
      });
    }).catch(() => lost('no target'));
  }

  async sendNew(cmd: AppSipCommand, msg: SipRequest): Promise<void> {
    const method = msg.method;
    if (this.#c.limits.clientFull() || ((method === 'INVITE' || method === 'SUBSCRIBE') && this.#c.limits.dialogsFull())) {
      this.#c.notify.nok(cmd, 'too many pending requests or dialogs in the engine');
      return;
    }
    const ruri = uriOrUndefined(msg.uri);
    if (!ruri) {
      this.#c.notify.nok(cmd, `invalid request-uri: ${msg.uri}`);
      return;
    }
    const routeUri = cmd.routeUri ? uriTextOf(cmd.routeUri) : undefined;
    const dest = routeUri ? uriOrUndefined(routeUri) : ruri;
    if (!dest) {
      this.#c.notify.nok(cmd, `invalid route: ${cmd.routeUri}`);
      return;
    }
    const protocol = transportOf(dest);
    const listener = this.#c.addr.listenerFor(protocol);
    if (!listener) {
      this.#c.notify.nok(cmd, 'requested protocol/transport not available');
      return;
    }
    const local = this.#c.addr.hostportOf(listener);
    const contact = this.#c.addr.contactFor(protocol, local);

    const headers: SipHeader[] = [];
    let from: string | undefined;
    let to: string | undefined;
    let callId: string | undefined;
    let appSeq: number | undefined;
    let hasContact = false;
    let hasMaxForwards = false;
    let hasContentType = false;
    const others: SipHeader[] = [];
    // X-Trunkgate-Route: the app's choice of TLS profile and tenant for this leg; read here, never sent on.
    let route: RouteInfo = {};
    for (const h of msg.headers) {
      if (STACK_OWNED.has(h.name)) continue;
      if (isInternalHeader(h.name)) {
        if (h.name === ROUTE_HEADER) route = parseRouteHeader(h.value);
        continue;
      }
      switch (h.name) {
        case 'cseq': {
          // The app may carry on a sequence (srf's digest retry sends the challenged request's CSeq + 1).
          const n = Number.parseInt(h.value, 10);
          if (Number.isInteger(n) && n > 0 && n < 2 ** 31) appSeq = n;
          continue;
        }
        case 'from':
          // For new requests the From is rewritten if it contains localhost anywhere (§2.8).
          from = h.value.includes('localhost') ? replaceLocalhost(h.value, local) : h.value;
          continue;
        case 'to':
          to = replaceLocalhost(h.value, local);
          continue;
        case 'call-id':
          callId = h.value;
          continue;
        case 'contact':
          hasContact = true;
          others.push({ name: h.name, raw: h.raw, value: localContactValue(h.value, local, protocol) });
          continue;
        case 'max-forwards':
          hasMaxForwards = true;
          break;
        case 'content-type':
          hasContentType = true;
          break;
        case 'p-asserted-identity':
          others.push({ name: h.name, raw: h.raw, value: replaceLocalhost(h.value, local) });
          continue;
        default:
          break;
      }
      others.push(h);
    }
    if (msg.body.length > 0 && !hasContentType) {
      if (msg.body.subarray(0, 3).toString('latin1') !== 'v=0') {
        this.#c.notify.nok(cmd, 'missing content-type');
        return;
      }
      others.push(header('Content-Type', 'application/sdp'));
    }
    from ??= contact;
    let fromTag = tagOf(from);
    if (fromTag === undefined) {
      fromTag = newTag();
      from = `${from};tag=${fromTag}`;
    }
    to ??= `<${msg.uri}>`;
    callId ??= randomUUID();
    const seq = appSeq ?? randomSeq();

    const address = await resolveHost(dest.host);
    const port = dest.port ?? (protocol === 'tls' ? 5061 : 5060);
    if (this.#c.addr.isLocal(address, port)) {
      this.#c.notify.nok(cmd, 'can not send request to myself');
      return;
    }
    const target: SendTarget = { protocol, address, port };
    if (protocol === 'udp') target.listenerId = listener.id;
    if (protocol === 'tls') {
      // SNI and the RFC 5922 server check name the target's host; an IP address is never sent as SNI (RFC 6066 §3).
      const host = route.domain ?? unbracket(dest.host);
      if (isIP(host) === 0) target.servername = host.toLowerCase();
      if (route.profile !== undefined) target.tlsProfile = route.profile;
      if (route.tenant !== undefined) target.tenant = route.tenant;
    }

    headers.push(header('Via', `SIP/2.0/${protocol.toUpperCase()} ${local};rport;branch=${newBranch()}`));
    if (!hasMaxForwards) headers.push(header('Max-Forwards', '70'));
    if (routeUri) headers.push(header('Route', `<${withLr(routeUri)}>`));
    headers.push(header('From', from), header('To', to), header('Call-ID', callId), header('CSeq', `${seq} ${method}`));
    const dialogForming = method === 'INVITE' || method === 'SUBSCRIBE';
    if (dialogForming && !hasContact) headers.push(header('Contact', contact));
    for (const h of others) headers.push(h);
    const request: SipRequest = { kind: 'request', method, uri: msg.uri, version: 'SIP/2.0', headers, body: msg.body };

    const txnId = randomUUID();
    const p: ClientPending = {
      txnId, connId: cmd.connId, request, method, target, txn: undefined, dialog: undefined, inDialog: false,
      canceled: false, final: false,
    };
    if (dialogForming) {
      const localContact = hasContact ? getHeader(request, 'contact')! : contact;
      const d = new EngineDialog({
        role: 'uac', callId, localTag: fromTag, localUri: from, remoteUri: to, localSeq: seq,
        secure: msg.uri.startsWith('sips:') && protocol === 'tls', localContact,
      }, cmd.connId, 'application');
      if (method === 'INVITE') d.invites!.clientInvite = txnId;
      // Later requests of a TLS dialog reconnect, when they must, with the same profile, SNI and tenant.
      if (protocol === 'tls') d.tlsTarget = tlsTargetOf(target);
      p.dialog = d;
      this.#c.dialogs.add(d);
    }
    this.#startClient(p, cmd);
    if (method === 'INVITE') this.#c.notify.cdr('attempt', ['application', this.#c.notify.now()], () => serializeMessageText(request));
  }

  #startClient(p: ClientPending, cmd: AppSipCommand): void {
    const user: ClientTransactionUser = {
      onResponse: (res, flow) => this.#onClientResponse(p, res, flow),
      onTimeout: () => this.#onClientFailure(p, 408, 'Request Timeout'),
      onTransportError: (err) => this.#onClientFailure(p, 503, 'Service Unavailable', tlsFailureReason(err)),
    };
    try {
      p.txn = this.#c.send.sendRequest(p.request, { target: p.target, user });
    } catch (err) {
      if (p.dialog && !p.inDialog) this.#c.dialogs.end(p.dialog);
      this.#c.notify.nok(cmd, err instanceof Error ? err.message : 'Error creating sip transaction');
      return;
    }
    this.#pending.set(p.txnId, p);
    const text = serializeMessageText(p.request);
    const l = this.#c.addr.listenerFor(p.target.protocol);
    this.#c.hub.reply(cmd.connId, cmd.msgId, requestSentFields(text, localEnd(p.target.protocol, l, this.#c.addr), this.#c.notify.now(), p.txnId), text);
  }

  #onClientFailure(p: ClientPending, status: number, reason: string, reasonValue?: string): void {
    // "If a fatal transport error is reported by the transport layer [...] the condition MUST be treated as a 503
    // (Service Unavailable) status code." / a timeout "MUST be treated as a 408 (Request Timeout)"
    // https://www.rfc-editor.org/rfc/rfc3261#section-8.1.3.1
    // A failed TLS handshake is named in a Reason header (RFC 3326), so the app can fail over or pass it on.
    const t = p.target;
    const why = status === 408 ? `no answer from ${t.address}:${t.port}` : `${t.protocol} transport to ${t.address}:${t.port} failed`;
    // X-Trunkgate-Peer `origin=engine` tells the app this answer is the engine's, not the far end's (for its CDR).
    const res = buildResponse(p.request, status, reason, {
      headers: [reasonValue !== undefined ? header('Reason', reasonValue) : reasonHeader(status, why), engineOriginHeader(t.protocol)],
    });
    this.#onClientResponse(p, res, { protocol: t.protocol, localAddress: '', localPort: 0, remoteAddress: t.address, remotePort: t.port });
  }

  #onClientResponse(p: ClientPending, res: SipResponse, flow: Flow): void {
    const status = res.status;
    const d = p.dialog;
    if (p.method === 'INVITE' && d) {
      if (status >= 200 && status < 300) {
        if (p.final) {
          // A retransmitted 2xx: re-send the ACK (§13.2.2.4), nothing for the app.
          const lastAck = d.confirmed?.lastAck;
          if (lastAck) this.#c.send.sendStateless(lastAck.request, lastAck.target).catch(() => undefined);
          return;
        }
        p.final = true;
        this.#learnRemote(d, res, flow, p.inDialog);
        const c = d.confirm();
        if (c) {
          c.clientInvite = undefined;
          c.ackSeq = cseqNumber(p.request);
        }
        if (p.canceled) {
          // "If a 200 arrives after the app's CANCEL, the server ACKs and then BYEs by itself" (§2.8).
          this.#pending.delete(p.txnId);
          this.#sendAck(d, [], Buffer.alloc(0)).catch(() => undefined);
          this.byeFromEngine(d, 'CANCEL race', { cause: 487, cdrCause: 'cancel-race' });
          return;
        }
        if (!p.inDialog) this.#c.notify.cdr('start', ['network', this.#c.notify.now(), 'uac'], () => serializeMessageText(res));
      } else if (status > 100 && status < 200) {
        if (!p.inDialog) this.#learnRemote(d, res, flow, false);
      } else if (status >= 300) {
        p.final = true;
        const slots = d.invites;
        if (slots) slots.clientInvite = undefined;
        if (!p.inDialog) {
          this.#c.notify.cdr('stop', ['network', this.#c.notify.now(), p.canceled ? 'call-canceled' : 'call-rejected'], () => serializeMessageText(res));
          // The dialog only waits for the ACK srf still sends (answered NOK), then goes.
          d.fail(status, this.#c.clock.setTimeout(() => this.#c.dialogs.end(d), 64 * this.#c.T1));
        }
      }
    } else if (status >= 200 && d && p.method === 'SUBSCRIBE' && !p.inDialog) {
      p.final = true;
      if (status < 300) {
        this.#learnRemote(d, res, flow, false);
        d.confirm();
      } else {
        this.#c.dialogs.end(d);
      }
    }
    if (status >= 200) {
      p.final = true;
      this.#pending.delete(p.txnId);
      if (p.method === 'BYE' && d) this.#c.dialogs.end(d);
    }
    const dialogId = d && (p.inDialog || p.method === 'INVITE' || p.method === 'SUBSCRIBE') ? d.id : '';
    // A new INVITE's response over TLS tells the app the B leg's TLS version, suite and verified identities (its CDR).
    const told = p.method === 'INVITE' && !p.inDialog && flow.protocol === 'tls' && flow.tls !== undefined
      ? { ...res, headers: [...res.headers, peerHeader(flow, undefined)] } : res;
    this.#c.hub.sendSip(p.connId, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, time: this.#c.notify.now(),
      transactionId: p.txnId, dialogId,
    }, serializeMessageText(told));
  }

  /** Remote tag, target and route set from a response to the dialog-creating request (§12.1.2). */
  #learnRemote(d: EngineDialog, res: SipResponse, flow: Flow, inDialog: boolean): void {
    const to = getHeader(res, 'to');
    const tag = tagOf(to);
    if (!inDialog && d.remoteTag === undefined && tag !== undefined && to !== undefined) {
      d.remoteTag = tag;
      d.remoteUri = to;
      this.#c.dialogs.rekey(d);
    }
    const contact = getHeader(res, 'contact');
    // "The remote target MUST be set to the URI from the Contact header field of the response."
    if (contact !== undefined) d.remoteTarget = uriTextOf(contact);
    if (!inDialog) {
      // "The route set MUST be set to the list of URIs in the Record-Route header field from the response, taken
      // in reverse order and preserving all URI parameters." https://www.rfc-editor.org/rfc/rfc3261#section-12.1.2
      d.routeSet = getHeaderValues(res, 'record-route').reverse();
      if (flow.localPort !== 0) d.flow = flow;
    }
  }

  onAppCancel(cmd: AppSipCommand): void {
    const p = this.#pending.get(cmd.transactionId);
    if (!p || p.method !== 'INVITE' || p.final) {
      this.#c.notify.nok(cmd, `unable to find transaction ${cmd.transactionId} to cancel`);
      return;
    }
    const cancel = buildCancel(p.request);
    const target = p.txn?.flow?.connectionId !== undefined ? { ...p.target, connectionId: p.txn.flow.connectionId } : p.target;
    try {
      this.#c.send.sendRequest(cancel, { target, user: NOOP_USER });
    } catch (err) {
      this.#c.notify.nok(cmd, err instanceof Error ? err.message : 'CANCEL not sent');
      return;
    }
    p.canceled = true;
    const text = serializeMessageText(cancel);
    const l = this.#c.addr.listenerFor(target.protocol);
    this.#c.hub.reply(cmd.connId, cmd.msgId, requestSentFields(text, localEnd(target.protocol, l, this.#c.addr), this.#c.notify.now(), randomUUID()), text);
  }

  sendInDialog(cmd: AppSipCommand, msg: SipRequest, d: EngineDialog): void {
    const method = msg.method;
    if (method === 'ACK') {
      if (d.phase.kind === 'terminating') {
        this.#c.dialogs.end(d);
        this.#c.notify.nok(cmd, 'ACK for non-success responses is automatically generated by the stack');
        return;
      }
      if (d.confirmed?.ackSeq === undefined) {
        this.#c.notify.nok(cmd, `no 2xx to acknowledge in dialog ${d.id}`);
        return;
      }
      const extra = appHeaders(msg);
      this.#sendAck(d, extra, msg.body).then((ack) => {
        const text = serializeMessageText(ack.request);
        this.#echoRequest(cmd, ack.target, cmd.transactionId || randomUUID(), text);
      }).catch((err: unknown) => this.#c.notify.nok(cmd, err instanceof Error ? err.message : 'ACK not sent'));
      return;
    }
    const slots = d.invites;
    if (method === 'INVITE' && (slots?.clientInvite !== undefined || (slots?.serverInvite && !slots.serverInvite.final))) {
      this.#c.notify.nok(cmd, 'an INVITE is already in progress in this dialog');
      return;
    }
    if (this.#c.limits.clientFull()) {
      this.#c.notify.nok(cmd, 'too many pending requests in the engine');
      return;
    }
    const extra = appHeaders(msg);
    let hasContentType = false;
    let hasContact = false;
    for (const h of extra) {
      if (h.name === 'content-type') hasContentType = true;
      if (h.name === 'contact') hasContact = true;
    }
    if (msg.body.length > 0 && !hasContentType) {
      if (msg.body.subarray(0, 3).toString('latin1') !== 'v=0') {
        this.#c.notify.nok(cmd, 'Server error: missing content-type');
        return;
      }
      extra.push(header('Content-Type', 'application/sdp'));
    }
    if ((method === 'INVITE' || method === 'SUBSCRIBE' || method === 'REFER') && !hasContact) extra.push(header('Contact', d.localContact));
    // srf sends in-dialog requests to `sip:placeholder`; the dialog's remote target replaces it (§2.10 item 5).
    const uri = msg.uri.includes('placeholder') || !d.remoteTarget ? d.remoteTarget || msg.uri : msg.uri;
    const request = this.#buildInDialog(d, method, uri, extra, msg.body);
    this.#dialogTarget(d).then((target) => {
      request.headers.unshift(header('Via', this.#c.addr.viaFor(target.protocol)));
      const txnId = cmd.transactionId || randomUUID();
      const p: ClientPending = {
        txnId, connId: cmd.connId, request, method, target, txn: undefined, dialog: d, inDialog: true,
        canceled: false, final: false,
      };
      const live = d.invites;
      if (method === 'INVITE' && live) live.clientInvite = txnId;
      if (method === 'BYE') this.#c.notify.cdr('stop', ['application', this.#c.notify.now(), 'normal-release'], () => serializeMessageText(request));
      this.#startClient(p, cmd);
    }).catch((err: unknown) => this.#c.notify.nok(cmd, err instanceof Error ? err.message : 'no route for the dialog'));
  }

  /** A request inside `d` without its Via (added once the target, hence the transport, is known). */
  #buildInDialog(d: EngineDialog, method: string, uri: string, extra: SipHeader[], body: Buffer): SipRequest {
    const headers: SipHeader[] = [header('Max-Forwards', '70')];
    for (const r of d.routeSet) headers.push(header('Route', r));
    // "The CSeq header field value MUST be [...] the local sequence number [...] incremented by one"
    // https://www.rfc-editor.org/rfc/rfc3261#section-12.2.1.1
    const seq = method === 'ACK' ? (d.confirmed?.ackSeq ?? d.localSeq) : d.nextSeq();
    headers.push(header('From', d.localUri), header('To', d.remoteUri), header('Call-ID', d.callId), header('CSeq', `${seq} ${method}`));
    for (const h of extra) headers.push(h);
    return { kind: 'request', method, uri, version: 'SIP/2.0', headers, body };
  }

  async #sendAck(d: EngineDialog, extra: SipHeader[], body: Buffer): Promise<{ request: SipRequest; target: SendTarget }> {
    // "The UAC core MUST generate an ACK request for each 2xx received [...] The sequence number of the CSeq
    // header field MUST be the same as the INVITE being acknowledged" https://www.rfc-editor.org/rfc/rfc3261#section-13.2.2.4
    if (body.length > 0 && !extra.some((h) => h.name === 'content-type')) extra.push(header('Content-Type', 'application/sdp'));
    const ack = this.#buildInDialog(d, 'ACK', d.remoteTarget, extra, body);
    const c = d.confirmed;
    if (c) c.ackSeq = undefined;
    const target = await this.#dialogTarget(d);
    ack.headers.unshift(header('Via', this.#c.addr.viaFor(target.protocol)));
    const sent = { request: ack, target };
    if (c) c.lastAck = sent;
    await this.#c.send.sendStateless(ack, target);
    return sent;
  }

  #echoRequest(cmd: AppSipCommand, target: SendTarget, txnId: string, text: string): void {
    const l = this.#c.addr.listenerFor(target.protocol);
    this.#c.hub.reply(cmd.connId, cmd.msgId, requestSentFields(text, localEnd(target.protocol, l, this.#c.addr), this.#c.notify.now(), txnId), text);
  }

  /** Where requests inside `d` go: forced onto the dialog's connection for TCP/TLS (§2.8). */
  async #dialogTarget(d: EngineDialog): Promise<SendTarget> {
    const f = d.flow;
    if (f && f.protocol !== 'udp') {
      const t: SendTarget = {
        protocol: f.protocol, address: f.remoteAddress, port: f.remotePort, ...(f.protocol === 'tls' ? d.tlsTarget : undefined),
      };
      if (f.connectionId !== undefined) t.connectionId = f.connectionId;
      return t;
    }
    // "If the route set is not empty, and its first URI contains the lr parameter [...] the UAC MUST [...] send
    // the request to the first URI of the route set" https://www.rfc-editor.org/rfc/rfc3261#section-12.2.1.1
    const next = d.routeSet.length > 0 ? uriTextOf(d.routeSet[0]!) : d.remoteTarget;
    const u = uriOrUndefined(next);
    if (!u) {
      if (f) return { protocol: f.protocol, address: f.remoteAddress, port: f.remotePort };
      throw new Error(`unable to find route for dialog ${d.id}`);
    }
    const protocol = f?.protocol ?? transportOf(u);
    if (f && d.role === 'uac' && d.routeSet.length === 0 && unbracket(u.host) !== f.remoteAddress) {
      // NAT detection: the 200's Contact differs from where it came from; use the source (§2.8).
      return { protocol, address: f.remoteAddress, port: f.remotePort, ...(f.listenerId ? { listenerId: f.listenerId } : {}) };
    }
    const address = await resolveHost(u.host);
    return {
      protocol, address, port: u.port ?? (protocol === 'tls' ? 5061 : 5060),
      ...(f?.listenerId ? { listenerId: f.listenerId } : {}),
      ...(protocol === 'tls' ? d.tlsTarget : undefined),
    };
  }
}

/** This engine's end of a request it sent: the listener it left from, or empty fields when none is known. */
function localEnd(protocol: string, l: ListenerInfo | undefined, addr: LocalAddresses): WireEndpoint {
  return { protocol, address: l ? addr.hostOf(l) : '', port: l ? l.port : '' };
}
