import type { SipRequest, SipResponse } from '../../sip/message/types.js';
import { buildResponse } from '../../sip/transaction/index.js';
import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { AppHub } from '../types.js';
import type { CoreGuard } from './core-guard.js';
import type { CoreErrorCode } from './errors.js';
import { OFFERED, cseqMethod, newTag } from './core-util.js';
import type { DialogStore } from './dialog-store.js';
import { optionsResponse, ourRouteToken, screenRequest } from './ingress.js';
import { onNetworkCancel, type NetworkCancelDeps } from './network-cancel.js';
import { onNetworkInDialog, type InDialogDeps } from './network-in-dialog.js';
import type { ProxiedDialogs } from './proxied-dialogs.js';
import type { ProxyCore } from './proxy-core.js';
import { refusalReason, type Refusal } from './reject.js';
import type { RefusalReporter } from '../refusal-record.js';
import { methodNotOffered, NO_DIALOG, refuseRequest } from './refuse.js';
import type { RequestGate } from './request-gate.js';
import type { ServerRequests } from './server-requests.js';
import type { StageTimes } from './stage-times.js';
import { getHeader, serializeMessageText, tagOf } from '../../sip/message/index.js';

/** What the network side works with: the owners of requests, dialogs and proxied dialogs, the proxy, and the apps. */
export interface NetworkRequestsDeps extends InDialogDeps, NetworkCancelDeps {
  readonly hub: Pick<AppHub, 'isConnected' | 'sendSip' | 'selectApp' | 'backlogged'>;
  readonly guard: Pick<CoreGuard, 'admitServer' | 'counted' | 'count' | 'busy'>;
  readonly server: Pick<ServerRequests, 'create' | 'inviteOf' | 'clear'>;
  readonly dialogs: Pick<DialogStore, 'get' | 'match' | 'end'>;
  readonly proxy: Pick<ProxyCore, 'isOurs' | 'relayInDialog'>;
  readonly proxiedDialogs: Pick<ProxiedDialogs, 'size' | 'find' | 'remove'>;
  /** Where the ACK re-sent for a retransmitted 2xx goes out. */
  readonly gate: Pick<RequestGate, 'sendStateless'>;
  readonly stages: StageTimes | undefined;
  /** Where each refusal of a new request is told, for the CDR of a refused INVITE (refusal-records.ts). */
  readonly refusals?: RefusalReporter | undefined;
}

/**
 * The core's network side, as the transaction user: a request from the network is screened (RFC 3261 §8.2), relayed
 * when it belongs to a dialog we proxied, matched to its dialog (network-in-dialog.ts), taken as a CANCEL
 * (network-cancel.ts), or handed to the app that routes its method (docs/control-protocol.md §2.6); ACKs and
 * retransmitted 2xx responses too.
 */
export class NetworkRequests {
  readonly #c: NetworkRequestsDeps;
  /** Set by drain(): OPTIONS to the gateway get this refusal instead of 200. */
  #draining: Refusal | undefined;

  constructor(deps: NetworkRequestsDeps) {
    this.#c = deps;
  }

  /** From now on OPTIONS to the gateway itself are answered with `refusal`. */
  drain(refusal: Refusal): void {
    this.#draining = refusal;
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
    const flowToken = inDialog ? undefined : ourRouteToken(request, (uri) => this.#c.proxy.isOurs(uri));
    const screen = screenRequest(request, inDialog, (uri) => this.#c.proxy.isOurs(uri));
    if (screen.action === 'options') {
      this.#c.guard.count.optionsAnswered++;
      if (this.#draining) refuseRequest(txn, this.#draining, this.#c.notify);
      else txn.respond(optionsResponse(request, newTag()));
      return;
    }
    if (screen.action === 'refuse') {
      const r = screen.refusal;
      const name = screen.code === 'ERR_ENGINE_TOO_MANY_HOPS' ? 'tooManyHops' : screen.code === 'ERR_ENGINE_BAD_CONTACT' ? 'badContact' : 'refusedRequests';
      this.#c.guard.counted(name, screen.code, r.text ?? r.phrase, flow, `refused ${method} with ${r.status} ${r.phrase}`);
      this.#refuse(txn, flow, r, screen.code);
      return;
    }
    if (screen.foreignRoute && !inDialog) {
      this.#c.guard.counted('routeNotFollowed', 'ERR_ENGINE_ROUTE_NOT_FOLLOWED', 'Route names another host', flow,
        `${method} with a Route to another host: not followed, handed to the app`);
    }
    if (method === 'INVITE') {
      // drachtio sends 100 Trying for every new INVITE and re-INVITE before the app sees it (§2.8).
      txn.respond(buildResponse(request, 100, 'Trying'));
      this.#c.stages?.trying();
    }
    if (method === 'CANCEL') {
      onNetworkCancel(this.#c, request, flow, txn);
      return;
    }
    const callId = getHeader(request, 'call-id') ?? '';
    const toTag = tagOf(getHeader(request, 'to'));
    if (toTag !== undefined) {
      const fromTag = tagOf(getHeader(request, 'from')) ?? '';
      const d = this.#c.dialogs.match(callId, toTag, fromTag);
      if (d) {
        onNetworkInDialog(this.#c, request, flow, txn, d);
        return;
      }
      // "If the request has a tag in the To header field, but the dialog identifier does not match any existing
      // dialogs, the UAS may have crashed and restarted [...] the UAS SHOULD reject the request with a 481"
      // https://www.rfc-editor.org/rfc/rfc3261#section-12.2.2
      refuseRequest(txn, NO_DIALOG, this.#c.notify);
      return;
    }
    if (method === 'BYE' || method === 'UPDATE') {
      refuseRequest(txn, NO_DIALOG, this.#c.notify);
      return;
    }
    // Out-of-dialog PRACK, REFER and unknown methods are answered (§2.6), not dropped: a request left unanswered
    // keeps its server transaction and its bytes with no timer to end them, so a stream of them filled the table.
    if (!OFFERED.has(method)) {
      const r = methodNotOffered(method);
      this.#c.guard.counted('methodNotOffered', 'ERR_ENGINE_METHOD_NOT_OFFERED', `${method} outside a dialog`, flow, `${method} refused: ${r.status}`);
      refuseRequest(txn, r, this.#c.notify);
      return;
    }
    const full = this.#c.guard.admitServer(method, flow);
    if (full) {
      this.#refuse(txn, flow, full, 'ERR_ENGINE_TABLE_FULL');
      return;
    }
    const connId = this.#c.hub.selectApp(method.toLowerCase());
    if (connId === undefined) {
      this.#c.guard.counted('noApp', 'ERR_ENGINE_NO_APP', `no app for ${method}`, flow, `${method} refused: no app routed it`);
      this.#refuse(txn, flow, this.#c.guard.busy('no application'), 'ERR_ENGINE_NO_APP');
      return;
    }
    if (method === 'INVITE' && this.#c.hub.backlogged?.(connId) === true) {
      this.#c.guard.counted('appBacklog', 'ERR_ENGINE_APP_BACKLOG', `control connection ${connId} backed up`, flow,
        'INVITE refused: the application connection is backed up');
      this.#refuse(txn, flow, this.#c.guard.busy('application overloaded'), 'ERR_ENGINE_APP_BACKLOG');
      return;
    }
    const p = this.#c.server.create(connId, txn, request, flow, undefined);
    if (method === 'INVITE') this.#c.notify.cdr('attempt', ['network', this.#c.notify.now()], () => serializeMessageText(request));
    this.#c.hub.sendSip(connId, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort,
      time: this.#c.notify.now(), transactionId: p.txnId, dialogId: '', recvAddr: flow.localAddress, recvPort: flow.localPort,
    }, this.#c.forApp.text(request, flow, flowToken));
    if (method === 'INVITE' && this.#c.stages) p.handedAt = this.#c.stages.handedToApp();
  }

  /** A new request refused before any app saw it: its answer, and the refusal told for a refused call's CDR. */
  #refuse(txn: ServerTransaction, flow: Flow, r: Refusal, code: CoreErrorCode): void {
    // The transaction lets go of its request once the final response is out.
    const request = txn.request;
    refuseRequest(txn, r, this.#c.notify);
    this.#c.refusals?.refused(request, flow, r.status, refusalReason(r), code);
  }

  onAck(request: SipRequest, flow: Flow): void {
    if (this.#relayIfProxied(request, flow, undefined)) return;
    const callId = getHeader(request, 'call-id') ?? '';
    const d = this.#c.dialogs.match(callId, tagOf(getHeader(request, 'to')) ?? '', tagOf(getHeader(request, 'from')) ?? '');
    if (!d) {
      // An ACK is never answered: one for no dialog (a To tag our 2xx did not carry, a Call-ID we never saw, the ACK
      // of a stateless refusal) is dropped, but counted and told, so a peer that copies Call-IDs is seen.
      this.#c.guard.counted('unmatchedAck', 'ERR_ENGINE_NO_DIALOG', 'no such dialog', flow, 'ACK for no dialog: dropped');
      return;
    }
    const c = d.confirmed;
    // A retransmitted ACK finds its dialog with nothing to wait for: absorbed.
    if (!c?.awaitingAck) return;
    const pendingAck = c.awaitingAck;
    c.awaitingAck = undefined;
    pendingAck.stop();
    // The first ACK carries the INVITE's transactionId (§2.3).
    this.#c.hub.sendSip(d.owner, {
      source: 'network', protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort, time: this.#c.notify.now(),
      transactionId: pendingAck.txnId, dialogId: d.id,
    }, this.#c.forApp.text(request, flow));
  }

  onStrayResponse(response: SipResponse, _flow: Flow): void {
    // A 2xx retransmitted after the INVITE client transaction ended: re-send our ACK (§13.2.2.4).
    if (response.status < 200 || response.status >= 300 || cseqMethod(response) !== 'INVITE') return;
    const callId = getHeader(response, 'call-id') ?? '';
    const d = this.#c.dialogs.match(callId, tagOf(getHeader(response, 'from')) ?? '', tagOf(getHeader(response, 'to')) ?? '');
    const lastAck = d?.confirmed?.lastAck;
    if (lastAck) this.#c.gate.sendStateless(lastAck.request, lastAck.target).catch(() => undefined);
  }

  /** An in-dialog request (or ACK) of a dialog we proxied with Record-Route, relayed; false when it is not one. */
  #relayIfProxied(request: SipRequest, flow: Flow, txn: ServerTransaction | undefined): boolean {
    if (this.#c.proxiedDialogs.size === 0 || getHeader(request, 'route') === undefined) return false;
    const callId = getHeader(request, 'call-id') ?? '';
    const fromTag = tagOf(getHeader(request, 'from')) ?? '';
    const toTag = tagOf(getHeader(request, 'to'));
    const dialog = toTag === undefined ? undefined : this.#c.proxiedDialogs.find(callId, fromTag, toTag);
    if (toTag === undefined || dialog === undefined) return false;
    const outcome = this.#c.proxy.relayInDialog(request, flow, txn, dialog.ends);
    if (outcome === undefined) return false;
    if (outcome === 'refused') return true;
    this.#c.guard.count.relayedInDialog++;
    // A BYE ends the dialog: its retransmissions are absorbed by its server transaction, nothing else follows.
    if (request.method === 'BYE') this.#c.proxiedDialogs.remove(callId, fromTag, toTag);
    return true;
  }
}
