import type { CoreGuard } from './core-guard.js';
import { SlotMap } from '../../common/slot-map.js';
import { newLocalId } from '../../common/local-id.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { SipRequest, SipResponse } from '../../sip/message/types.js';
import { buildResponse, type TransactionLayer } from '../../sip/transaction/index.js';
import type { Flow, ListenerInfo, SendTarget } from '../../sip/transport/types.js';
import { requestSentFields, type WireEndpoint } from '../wire/server-messages.js';
import type { AppHub, AppSipCommand } from '../types.js';
import { ipLiteral, type LocalAddresses } from './addressing.js';
import type { NameLookups } from './name-lookups.js';
import { engineOriginHeader, peerHeader } from './internal-headers.js';
import { EngineDialog, type ClientPending } from './engine-dialog.js';
import type { AppNotify } from './app-notify.js';
import type { DialogStore } from './dialog-store.js';
import { reasonHeader } from './reject.js';
import type { RequestGate } from './request-gate.js';
import { cseqNumber, tlsTargetOf } from './core-util.js';
import { header, reasonValue, serializeMessageText } from '../../sip/message/index.js';
import { ClientUser, type ClientUserHost } from './client-user.js';
import { composeNewRequest, newRequestTarget } from './uac-new-request.js';
import { learnRemote, sendAck } from './uac-dialog.js';
import { answerAgain } from './uac-forks.js';
import { sendAppInDialog, type InDialogHost } from './uac-in-dialog.js';
import { appGone, foreignId } from './app-owner.js';
import { byeFromEngine, probeDialog } from './uac-teardown.js';
import { cancelForEngine, sendAppCancel } from './uac-cancel.js';
import { pinToConnection, type ConnectionList } from './pinned-flow.js';

/** What the UAC side works with: the layers below, the dialog store, and how to tell apps. Each owns its state. */
export interface UacDeps {
  readonly tl: TransactionLayer;
  /** Every request sent goes through the gate (no request without a usable Request-URI reaches the wire). */
  readonly send: RequestGate;
  readonly hub: AppHub;
  readonly clock: Clock;
  readonly log: Logger | undefined;
  readonly addr: LocalAddresses;
  /** Host names are looked up here, within its bound on lookups in flight. */
  readonly names: Pick<NameLookups, 'resolve'>;
  readonly T1: number;
  readonly dialogs: DialogStore;
  readonly notify: AppNotify;
  /** The table caps (counted when hit): client transactions, dialogs. */
  readonly limits: { clientFull(): boolean; dialogsFull(): boolean };
  /** Counts what could not be sent (uac-teardown.ts), with one rate-limited line. */
  readonly guard: Pick<CoreGuard, 'counted' | 'count'>;
  /** The transport's connections, for a request an app pins to one (`conn=`, pinned-flow.ts). */
  readonly connections?: ConnectionList;
}

/**
 * The engine's UAC side: requests an app sends (new ones, in-dialog ones, ACK and CANCEL), completed as
 * drachtio-server completes them (docs/control-protocol.md §2.2, §2.8), sent through client transactions, and their
 * responses back to the app; plus the BYEs the engine sends by itself. It owns the pending client requests; the
 * stateless parts live beside it: uac-new-request.ts (completing a new request), uac-in-dialog.ts (an app's requests
 * inside a dialog), uac-dialog.ts (building them, ACK, what a response teaches the dialog), uac-cancel.ts (CANCEL)
 * and uac-teardown.ts (the engine's BYE and probe). Nothing an app asked for leaves once it is gone (app-owner.ts).
 */
export class UacCore {
  readonly #c: UacDeps;
  /** Requests an app sent that await their final response, by transactionId: owned here. */
  readonly #pending = new SlotMap<string, ClientPending>();
  /** Apps' new INVITEs and SUBSCRIBEs past the dialog cap's check whose target's name is being looked up. */
  #dialogsUnderWay = 0;
  /** Apps' requests past the client cap's check whose target's name is being looked up: counted against that cap. */
  readonly #lookups = { inFlight: 0 };

  /** How every client transaction's user reaches back here (client-user.ts). */
  readonly #userHost: ClientUserHost;
  /** What an app's in-dialog request reaches of this side (uac-in-dialog.ts). */
  readonly #inDialog: InDialogHost;

  constructor(deps: UacDeps) {
    this.#c = deps;
    this.#userHost = {
      response: (p, res, flow) => this.#onClientResponse(p, res, flow),
      failure: (p, status, reason, reasonValue) => this.#onClientFailure(p, status, reason, reasonValue),
      answerAgain: (dialogId, res, flow, forks) => answerAgain(this.#c, this.#c.dialogs.get(dialogId), res, flow, forks),
    };
    this.#inDialog = {
      c: deps, lookups: this.#lookups, start: (p, cmd) => this.#startClient(p, cmd), echo: (...a) => this.#echoRequest(...a),
    };
  }

  /** Requests sent for apps and not yet answered finally, and those waiting for their target's name to resolve. */
  get pendingCount(): number {
    return this.#pending.size + this.#lookups.inFlight;
  }

  /** New dialog-forming requests of apps whose dialog is not made yet (a name lookup is in flight). */
  get dialogsUnderWay(): number {
    return this.#dialogsUnderWay;
  }

  /**
   * Sends a BYE the app did not ask for, and tells the app (when connected) with an unsolicited BYE (§2.3).
   * `cause` makes the Reason an RFC 3326 one with a cause; the CDR stop carries `cdrCause`.
   */
  byeFromEngine(d: EngineDialog, reasonText: string, o: { cause: number; cdrCause: string }): void {
    byeFromEngine(this.#c, d, reasonText, o);
  }

  /** CANCELs the INVITE client transaction `txnId` on the engine's own account (its app is gone). */
  cancelFromEngine(txnId: string): void {
    cancelForEngine(this.#c, this.#pending.get(txnId));
  }

  /**
   * The peer closed the connection a confirmed dialog of ours lives on. That alone is no loss (a later request
   * may open a new connection, RFC 3261 §18), so an in-dialog OPTIONS (§11) asks whether the peer is still
   * there; a transport error, a timeout, 408 or 481 ends the dialog with a BYE and tells the app.
   */
  probeDialog(d: EngineDialog): void {
    probeDialog(this.#c, d);
  }

  /** A new request from an app (§2.2): completed (uac-new-request.ts), sent, and its dialog kept when it forms one. */
  async sendNew(cmd: AppSipCommand, msg: SipRequest): Promise<void> {
    const method = msg.method;
    if (this.#c.limits.clientFull() || ((method === 'INVITE' || method === 'SUBSCRIBE') && this.#c.limits.dialogsFull())) {
      this.#c.notify.nok(cmd, 'too many pending requests or dialogs in the engine');
      return;
    }
    const built = composeNewRequest(msg, cmd.routeUri, this.#c.addr);
    if (!built.ok) {
      this.#c.notify.nok(cmd, built.reason);
      return;
    }
    const { request, dest, protocol } = built;
    // No await for an IP literal: the request leaves now, its echo in the same write as the other replies.
    // While a name is looked up a new INVITE or SUBSCRIBE has no dialog yet: it is held against maxDialogs here.
    const ip = ipLiteral(dest.host);
    const held = ip === undefined && built.dialog !== undefined;
    if (held) this.#dialogsUnderWay++;
    if (ip === undefined) this.#lookups.inFlight++;
    const address = ip ?? (await this.#c.names.resolve(dest.host).finally(() => {
      this.#lookups.inFlight--;
      if (held) this.#dialogsUnderWay--;
    }));
    // Its app may have gone during the lookup, and its disconnect saw nothing of this request to end: dropped.
    if (appGone(this.#c, cmd, `${method} to ${dest.host}`)) return;
    const port = dest.port ?? (protocol === 'tls' ? 5061 : 5060);
    if (this.#c.addr.isLocal(address, port)) {
      this.#c.notify.nok(cmd, 'can not send request to myself');
      return;
    }
    const target = newRequestTarget(built, address, port);
    // Pinned to a connection (X-Trunkgate-Route `conn=`): over it, or not sent at all and answered 430 below.
    const flowFailed = built.route.conn === undefined ? undefined : pinToConnection(target, built.route.conn, this.#c.connections);
    const txnId = newLocalId();
    const p: ClientPending = {
      txnId, connId: cmd.connId, request, method, target, txn: undefined, dialog: undefined, inDialog: false,
      canceled: false, final: false,
    };
    if (built.dialog) {
      const d = new EngineDialog(built.dialog, cmd.connId, 'application');
      // Its Call-ID and From tag name a dialog already there, which it may not replace: another app's (counted; its
      // Call-ID does not send this request inside it, app-commands.ts), or one of its own still being set up.
      const taken = this.#c.dialogs.get(d.id);
      if (taken) {
        foreignId(this.#c.guard, cmd, taken.owner, 'dialog');
        this.#c.notify.nok(cmd, 'a dialog with this Call-ID and From tag exists');
        return;
      }
      if (method === 'INVITE') d.invites!.clientInvite = txnId;
      // Later requests of a TLS dialog reconnect, when they must, with the same profile, SNI and tenant.
      if (protocol === 'tls') d.tlsTarget = tlsTargetOf(target);
      p.dialog = d;
      this.#c.dialogs.add(d);
    }
    if (flowFailed === undefined) this.#startClient(p, cmd);
    else {
      // The app learns its request's transaction, then the engine's own 430 on it, as after a failed send.
      this.#pending.set(p.txnId, p);
      this.#echoRequest(cmd, p.target, p.txnId, serializeMessageText(p.request));
    }
    if (method === 'INVITE') this.#c.notify.cdr('attempt', ['application', this.#c.notify.now()], () => serializeMessageText(request));
    if (flowFailed !== undefined) this.#onClientFailure(p, 430, 'Flow Failed', reasonValue(430, flowFailed));
  }

  #startClient(p: ClientPending, cmd: AppSipCommand): void {
    const user = new ClientUser(this.#userHost, p);
    try {
      p.txn = this.#c.send.sendRequest(p.request, { target: p.target, user });
    } catch (err) {
      if (p.dialog && !p.inDialog) this.#c.dialogs.end(p.dialog);
      this.#c.notify.nok(cmd, err instanceof Error ? err.message : 'Error creating sip transaction');
      return;
    }
    this.#pending.set(p.txnId, p);
    this.#echoRequest(cmd, p.target, p.txnId, serializeMessageText(p.request));
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
        learnRemote(this.#c.dialogs, d, res, flow, p.inDialog);
        const c = d.confirm();
        if (c) {
          c.clientInvite = undefined;
          c.ackSeq = cseqNumber(p.request);
        }
        if (p.canceled) {
          // "If a 200 arrives after the app's CANCEL, the server ACKs and then BYEs by itself" (§2.8).
          this.#pending.delete(p.txnId);
          sendAck(this.#c, d, [], Buffer.alloc(0)).catch(() => undefined);
          this.byeFromEngine(d, 'CANCEL race', { cause: 487, cdrCause: 'cancel-race' });
          return;
        }
        if (!p.inDialog) this.#c.notify.cdr('start', ['network', this.#c.notify.now(), 'uac'], () => serializeMessageText(res));
      } else if (status > 100 && status < 200) {
        if (!p.inDialog) learnRemote(this.#c.dialogs, d, res, flow, false);
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
        learnRemote(this.#c.dialogs, d, res, flow, false);
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
    // A 100 Trying stays with the engine, whose client transaction it stops retransmitting (RFC 3261 §17.1.1.2);
    // an app learns nothing from it, and drachtio-server does not pass it on either (docs/control-protocol.md §2.8).
    if (status === 100) return;
    const dialogId = d && (p.inDialog || p.method === 'INVITE' || p.method === 'SUBSCRIBE') ? d.id : '';
    // A new INVITE's response over TLS tells the app the B leg's TLS version, suite and verified identities (its CDR).
    const told = p.method === 'INVITE' && !p.inDialog && flow.protocol === 'tls' && flow.tls !== undefined
      ? { ...res, headers: [...res.headers, peerHeader(flow, undefined)] } : res;
    this.#c.hub.sendSip(p.connId, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, time: this.#c.notify.now(),
      transactionId: p.txnId, dialogId,
    }, serializeMessageText(told));
  }

  /** An app's CANCEL of the INVITE it sent as `cmd.transactionId` (uac-cancel.ts); another app's is unknown to it. */
  onAppCancel(cmd: AppSipCommand): void {
    const p = this.#pending.get(cmd.transactionId);
    const sent = sendAppCancel(this.#c, cmd, p && !foreignId(this.#c.guard, cmd, p.connId, 'transaction') ? p : undefined);
    if (sent) this.#echoRequest(cmd, sent.target, newLocalId(), serializeMessageText(sent.request));
  }

  /** An app's request inside dialog `d`, its ACK included (uac-in-dialog.ts). */
  sendInDialog(cmd: AppSipCommand, msg: SipRequest, d: EngineDialog): void {
    sendAppInDialog(this.#inDialog, cmd, msg, d);
  }

  /** The app's `sip` command went out: the request as sent, from which of our listeners, under `txnId` (§2.2). */
  #echoRequest(cmd: AppSipCommand, target: SendTarget, txnId: string, text: string): void {
    const l = this.#c.addr.listenerFor(target.protocol);
    this.#c.hub.reply(cmd.connId, cmd.msgId, requestSentFields(text, localEnd(target.protocol, l, this.#c.addr), this.#c.notify.now(), txnId), text);
  }
}

/** This engine's end of a request it sent: the listener it left from, or empty fields when none is known. */
function localEnd(protocol: string, l: ListenerInfo | undefined, addr: LocalAddresses): WireEndpoint {
  return { protocol, address: l ? addr.hostOf(l) : '', port: l ? l.port : '' };
}
