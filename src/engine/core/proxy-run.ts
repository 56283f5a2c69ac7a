import type { SipHeader, SipMessage, SipRequest, SipResponse } from '../../sip/message/types.js';
import { ROUTE_HEADER, engineOriginHeader, isInternalHeader, parseRouteHeader, type RouteInfo } from './internal-headers.js';
import { pinToConnection } from './pinned-flow.js';
import type { ClientTransaction, ClientTransactionUser } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { AppProxyCommand } from '../types.js';
import { PROXY_DONE_FIELDS, nokFields, proxyContinueFields } from '../wire/server-messages.js';
import type { ServerPending } from './engine-dialog.js';
import { getHeader, getHeaderValues, serializeMessageText, tagOf, uriTextOf } from '../../sip/message/index.js';
import { forwardCopy, stampHop } from './forward.js';
import { refusalResponse } from './reject.js';
import { addTargets, betterResponse, finalUpstream, MAX_PROXY_TARGETS } from './proxy-sets.js';
import { isOurUri, nextHop, proxiedEnds, withoutTopVia } from './proxy-hop.js';
import { BranchTimers, type TimedProxyHost } from './proxy-timers.js';

/** Headers an app may not set on a proxied request: the stack owns them (docs/control-protocol.md §2.2). */
const NOT_FROM_APP = new Set(['via', 'route', 'record-route', 'content-length', 'from', 'to', 'call-id', 'cseq', 'max-forwards']);
const NOOP_USER: ClientTransactionUser = { onResponse() {}, onTimeout() {}, onTransportError() {} };

interface Branch {
  uri: string;
  txn: ClientTransaction | undefined;
  done: boolean;
  provisional: boolean;
  timers: BranchTimers | undefined;
  /** Timer C CANCELled it after a provisional: its final response counts as a 408 (proxy-timers.ts). */
  timedOut: boolean;
}

/** One `proxy` command in progress. */
export class ProxyRun {
  readonly #host: TimedProxyHost;
  readonly #cmd: AppProxyCommand;
  readonly #p: ServerPending;
  readonly #queue: string[] = [];
  /** Every URI that was ever in the target set (§16.5), at most MAX_PROXY_TARGETS. */
  readonly #targets = new Set<string>();
  readonly #branches: Branch[] = [];
  readonly #extra: SipHeader[];
  /** X-Trunkgate-Route of the command: the TLS profile, tenant and name of a new TLS connection, as for `sip` (§4.2). */
  readonly #route: RouteInfo;
  #best: SipResponse | undefined;
  #finished = false;
  #canceled = false;

  constructor(host: TimedProxyHost, cmd: AppProxyCommand, p: ServerPending, fromApp: SipMessage) {
    this.#host = host;
    this.#cmd = cmd;
    this.#p = p;
    this.#addTargets(cmd.destinations);
    this.#extra = fromApp.headers.filter((h) => !NOT_FROM_APP.has(h.name) && !isInternalHeader(h.name));
    const route = fromApp.headers.find((h) => h.name === ROUTE_HEADER);
    this.#route = route ? parseRouteHeader(route.value) : {};
  }

  start(): void {
    const p = this.#p;
    p.cap?.cancel();
    p.cap = undefined;
    // The Max-Forwards check of §16.3 step 2, done once for every branch by the one §16.6 function.
    const check = forwardCopy(p.request, { isOurs: () => false, keepRoutes: false });
    if (!check.ok) {
      this.#host.tooManyHops(p.request, p.flow);
      this.#finishWith(refusalResponse(p.request, check.refusal, this.#host.newTag()), 'too many hops');
      return;
    }
    if (this.#queue.length === 0) {
      this.#nok('no destination to proxy to');
      return;
    }
    // Without fullResponse the app only learns that the request went out (§2.5).
    if (this.#cmd.simultaneous) while (this.#queue.length > 0) this.#fork(this.#queue.shift()!);
    else this.#fork(this.#queue.shift()!);
    if (!this.#cmd.fullResponse) this.#reply(PROXY_DONE_FIELDS);
  }

  /** The caller CANCELled: "the proxy MUST cancel all client transactions" it has pending (§16.10). */
  cancel(): void {
    this.#canceled = true;
    this.#queue.length = 0;
    for (const b of this.#branches) this.#cancelBranch(b);
  }

  #fork(uri: string): void {
    const branch: Branch = { uri, txn: undefined, done: false, provisional: false, timers: undefined, timedOut: false };
    this.#branches.push(branch);
    const request = this.#forwarded(uri);
    nextHop(request, this.#host.names, this.#p.flow).then((target) => {
      if (this.#finished || this.#canceled) {
        branch.done = true;
        this.#settle();
        return;
      }
      if (this.#host.isLocal(target.address, target.port)) throw new Error('can not proxy a request to myself');
      const flowFailed = this.#route.conn === undefined ? undefined : pinToConnection(target, this.#route.conn, this.#host.connections);
      if (flowFailed !== undefined) {
        this.#onFlowFailed(branch, target.protocol, flowFailed);
        return;
      }
      if (target.protocol === 'tls') {
        const r = this.#route;
        if (r.profile !== undefined) target.tlsProfile = r.profile;
        if (r.tenant !== undefined) target.tenant = r.tenant;
        if (r.domain !== undefined) target.servername = r.domain;
      }
      stampHop(request, this.#host.viaFor(target.protocol), this.#cmd.remainInDialog ? this.#host.recordRouteFor(target.protocol) : undefined);
      branch.txn = this.#host.transactions.sendRequest(request, {
        target,
        user: {
          onResponse: (res, flow) => this.#onResponse(branch, res, flow),
          onTimeout: () => this.#onBranchFailed(branch, 408, 'Request Timeout'),
          onTransportError: () => this.#onBranchFailed(branch, 503, 'Service Unavailable'),
        },
      });
      const { provisionalTimeout, finalTimeout } = this.#cmd;
      branch.timers = new BranchTimers(this.#host.clock, branch, { invite: this.#p.method === 'INVITE', provisionalTimeout, finalTimeout }, () => {
        this.#cancelBranch(branch);
        this.#onBranchFailed(branch, 408, 'Request Timeout');
      }, () => this.#onTimerC(branch));
    }).catch((err: unknown) => {
      this.#host.log?.debug({ err, uri }, 'proxy: destination not tried');
      this.#onBranchFailed(branch, 503, 'Service Unavailable');
    });
  }

  /**
   * The request as forwarded to `uri` (§16.6), Via and Record-Route still to add. A new request goes where the app
   * said: Route entries that came with it from the network are not followed.
   */
  #forwarded(uri: string): SipRequest {
    const copy = forwardCopy(this.#p.request, { uri, isOurs: () => true, keepRoutes: false, extra: this.#extra });
    if (!copy.ok) throw new Error('Max-Forwards reached 0');
    return copy.request;
  }

  #onResponse(branch: Branch, res: SipResponse, flow: Flow): void {
    const status = res.status;
    if (status === 100) return;
    const p = this.#p;
    if (this.#cmd.remainInDialog && status < 300 && (p.method === 'INVITE' || p.method === 'SUBSCRIBE')) {
      const toTag = tagOf(getHeader(res, 'to'));
      const isOurs = (uri: string) => isOurUri(this.#host, uri);
      if (toTag !== undefined) this.#host.proxiedDialog(p.callId, tagOf(getHeader(res, 'from')) ?? '', toTag, proxiedEnds(p.request, p.flow, res, flow, isOurs));
    }
    if (status < 200) {
      branch.provisional = true;
      if (!branch.done) branch.timers?.provisional();
      // "Any provisional response other than 100 (Trying) MUST be forwarded immediately" (§16.7 step 5)
      if (!this.#finished && !branch.done) p.txn.respond(withoutTopVia(res));
      return;
    }
    if (status < 300) {
      // "Any 2xx response to an INVITE request MUST be forwarded immediately" (§16.7 step 5); a retransmitted
      // 2xx is relayed too, the UAC's ACK then reaches the UAS end to end.
      const first = !branch.done;
      branch.done = true;
      branch.timers?.stop();
      p.txn.respond(withoutTopVia(res));
      if (!first) return;
      this.#continue(branch, res);
      if (!this.#finished) {
        this.#finished = true;
        p.final = true;
        // "If a 2xx is received [...] the proxy SHOULD cancel all of its pending client transactions" (§16.7 step 10)
        for (const b of this.#branches) if (b !== branch) this.#cancelBranch(b);
        this.#queue.length = 0;
        if (this.#cmd.fullResponse) this.#reply(PROXY_DONE_FIELDS);
        this.#host.release(p);
      }
      return;
    }
    if (branch.done) return;
    branch.done = true;
    branch.timers?.stop();
    this.#continue(branch, res);
    if (this.#finished) return;
    if (status < 400 && this.#cmd.followRedirects) {
      // Redirect: the Contacts are tried next (§16.7 step 4 / §16.5).
      this.#addTargets(getHeaderValues(res, 'contact').map((c) => uriTextOf(c)));
    }
    this.#consider(branch.timedOut ? this.#timeout() : withoutTopVia(res));
    if (status >= 600) {
      // "If a 6xx response is received, it is not immediately forwarded, but the stateful proxy SHOULD cancel all
      // client pending transactions" (§16.7 step 5)
      this.cancel();
    }
    this.#next();
  }

  /** Adds URIs to the target set (proxy-sets.ts); those past MAX_PROXY_TARGETS are counted and logged by the host. */
  #addTargets(uris: readonly string[]): void {
    const refused = addTargets(this.#targets, this.#queue, uris);
    if (refused > 0) this.#host.targetsRefused(this.#p.request, this.#p.flow, refused, MAX_PROXY_TARGETS);
  }

  /**
   * "If timer C should fire, the proxy MUST either reset the timer with any value it chooses, or terminate the client
   * transaction. If the client transaction has received a provisional response, the proxy MUST generate a CANCEL
   * request matching that transaction. If the client transaction has not received a provisional response, the proxy
   * MUST behave as if the transaction received a 408 (Request Timeout) response."
   * https://www.rfc-editor.org/rfc/rfc3261#section-16.7 (step 2). A CANCELled branch ends with its 487 (taken as a
   * 408: the caller did not cancel), or when the CANCEL is not answered within 64·T1 (the transaction layer's timeout).
   */
  #onTimerC(branch: Branch): void {
    if (branch.done || this.#finished) return;
    const provisional = branch.provisional;
    this.#host.timerC(this.#p.request, this.#p.flow, branch.uri, provisional);
    this.#cancelBranch(branch);
    if (provisional) branch.timedOut = true;
    else this.#onBranchFailed(branch, 408, 'Request Timeout');
  }

  #timeout(): SipResponse {
    return refusalResponse(this.#p.request, { status: 408, phrase: 'Request Timeout', text: 'no final response within Timer C' }, this.#host.newTag());
  }

  #onBranchFailed(branch: Branch, status: number, reason: string): void {
    if (branch.done) return;
    branch.done = true;
    branch.timers?.stop();
    if (this.#finished) return;
    // A timeout counts as a 408 and a transport failure as a 503 (§16.7 step 2 / §16.8).
    this.#consider(refusalResponse(this.#p.request, { status, phrase: reason }, this.#host.newTag()));
    this.#next();
  }

  /**
   * The connection the command pinned its target to is gone (pinned-flow.ts): nothing is sent, the branch ends
   * with the engine's own 430 and a Reason, which the app hears too (`origin=engine`).
   */
  #onFlowFailed(branch: Branch, protocol: Flow['protocol'], text: string): void {
    if (branch.done) return;
    branch.done = true;
    if (this.#finished) return;
    const res = refusalResponse(this.#p.request, { status: 430, phrase: 'Flow Failed', text }, this.#host.newTag());
    this.#continue(branch, { ...res, headers: [...res.headers, engineOriginHeader(protocol)] });
    this.#consider(res);
    this.#next();
  }

  #consider(res: SipResponse): void {
    this.#best = betterResponse(this.#best, res);
  }

  #next(): void {
    if (this.#finished) return;
    if (!this.#canceled && !this.#cmd.simultaneous && this.#queue.length > 0 && this.#branches.every((b) => b.done)) {
      this.#fork(this.#queue.shift()!);
      return;
    }
    if (!this.#canceled && this.#cmd.simultaneous && this.#queue.length > 0) {
      while (this.#queue.length > 0) this.#fork(this.#queue.shift()!);
      return;
    }
    this.#settle();
  }

  #settle(): void {
    if (this.#finished || !this.#branches.every((b) => b.done)) return;
    this.#finishWith(finalUpstream(this.#p.request, this.#best, this.#canceled, this.#host.newTag()), undefined);
  }

  #finishWith(res: SipResponse, nok: string | undefined): void {
    this.#finished = true;
    const p = this.#p;
    p.final = true;
    p.txn.respond(res);
    if (nok !== undefined) this.#nok(nok);
    else if (this.#cmd.fullResponse) this.#reply(PROXY_DONE_FIELDS);
    this.#host.release(p);
  }

  #cancelBranch(b: Branch): void {
    b.timers?.stop();
    if (b.done || !b.txn) return;
    try {
      this.#host.transactions.cancel(b.txn, NOOP_USER);
    } catch (err) {
      this.#host.log?.debug({ err }, 'proxy: CANCEL not sent');
    }
  }

  /** A final response from a target, to the app when it asked for fullResponse (§2.5). */
  #continue(branch: Branch, res: SipResponse): void {
    if (!this.#cmd.fullResponse) return;
    const text = serializeMessageText(res);
    const f = branch.txn?.flow;
    const from = f ? { protocol: f.protocol, address: f.remoteAddress, port: f.remotePort } : undefined;
    this.#reply(proxyContinueFields(text, from, this.#host.now()), text);
  }

  #nok(reason: string): void {
    this.#reply(nokFields(reason));
  }

  #reply(fields: readonly string[], sip?: string): void {
    this.#host.hub.reply(this.#cmd.connId, this.#cmd.msgId, fields, sip);
  }
}
