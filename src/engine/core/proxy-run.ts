import type { TimerHandle } from '../../common/clock.js';
import type { SipHeader, SipMessage, SipRequest, SipResponse } from '../../sip/message/types.js';
import { ROUTE_HEADER, engineOriginHeader, isInternalHeader, parseRouteHeader, type RouteInfo } from './internal-headers.js';
import { pinToConnection } from './pinned-flow.js';
import type { ClientTransaction, ClientTransactionUser } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { AppProxyCommand } from '../types.js';
import { PROXY_DONE_FIELDS, nokFields, proxyContinueFields } from '../wire/server-messages.js';
import type { ServerPending } from './engine-dialog.js';
import { getHeader, getHeaderValues, header, serializeMessageText, tagOf, uriTextOf } from '../../sip/message/index.js';
import { forwardCopy, stampHop } from './forward.js';
import { refusalResponse } from './reject.js';
import { isOurUri, nextHop, parseTimeout, proxiedEnds, withoutTopVia } from './proxy-hop.js';
import type { ProxyHost } from './proxy-host.js';

/** Headers an app may not set on a proxied request: the stack owns them (docs/control-protocol.md §2.2). */
const NOT_FROM_APP = new Set(['via', 'route', 'record-route', 'content-length', 'from', 'to', 'call-id', 'cseq', 'max-forwards']);
const NOOP_USER: ClientTransactionUser = { onResponse() {}, onTimeout() {}, onTransportError() {} };

interface Branch {
  uri: string;
  txn: ClientTransaction | undefined;
  done: boolean;
  provisional: boolean;
  timer: TimerHandle | undefined;
}

/**
 * Targets one proxy run tries at most, the app's destinations and the Contacts of redirects together: a target that
 * redirects to ever new URIs cannot make a run fork without end.
 */
export const MAX_PROXY_TARGETS = 16;

/** One `proxy` command in progress. */
export class ProxyRun {
  readonly #host: ProxyHost;
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

  constructor(host: ProxyHost, cmd: AppProxyCommand, p: ServerPending, fromApp: SipMessage) {
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
    const branch: Branch = { uri, txn: undefined, done: false, provisional: false, timer: undefined };
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
      const pt = parseTimeout(this.#cmd.provisionalTimeout);
      const ft = parseTimeout(this.#cmd.finalTimeout);
      const wait = pt ?? ft;
      if (wait !== undefined) {
        branch.timer = this.#host.clock.setTimeout(() => {
          branch.timer = undefined;
          if (branch.done || (pt !== undefined && branch.provisional && ft === undefined)) return;
          this.#cancelBranch(branch);
          this.#onBranchFailed(branch, 408, 'Request Timeout');
        }, wait);
      }
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
      // "Any provisional response other than 100 (Trying) MUST be forwarded immediately" (§16.7 step 5)
      if (!this.#finished && !branch.done) p.txn.respond(withoutTopVia(res));
      return;
    }
    if (status < 300) {
      // "Any 2xx response to an INVITE request MUST be forwarded immediately" (§16.7 step 5); a retransmitted
      // 2xx is relayed too, the UAC's ACK then reaches the UAS end to end.
      const first = !branch.done;
      branch.done = true;
      branch.timer?.cancel();
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
    branch.timer?.cancel();
    this.#continue(branch, res);
    if (this.#finished) return;
    if (status < 400 && this.#cmd.followRedirects) {
      // Redirect: the Contacts are tried next (§16.7 step 4 / §16.5).
      this.#addTargets(getHeaderValues(res, 'contact').map((c) => uriTextOf(c)));
    }
    this.#consider(withoutTopVia(res));
    if (status >= 600) {
      // "If a 6xx response is received, it is not immediately forwarded, but the stateful proxy SHOULD cancel all
      // client pending transactions" (§16.7 step 5)
      this.cancel();
    }
    this.#next();
  }

  /**
   * Adds URIs to the target set: "A proxy MUST NOT add to the target set a URI that has already been in the
   * target set" (https://www.rfc-editor.org/rfc/rfc3261#section-16.5), and past MAX_PROXY_TARGETS none is added
   * (counted and logged by the host).
   */
  #addTargets(uris: readonly string[]): void {
    let refused = 0;
    for (const uri of uris) {
      if (uri.length === 0 || this.#targets.has(uri)) continue;
      if (this.#targets.size >= MAX_PROXY_TARGETS) {
        refused++;
        continue;
      }
      this.#targets.add(uri);
      this.#queue.push(uri);
    }
    if (refused > 0) this.#host.targetsRefused(this.#p.request, this.#p.flow, refused, MAX_PROXY_TARGETS);
  }

  #onBranchFailed(branch: Branch, status: number, reason: string): void {
    if (branch.done) return;
    branch.done = true;
    branch.timer?.cancel();
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

  /** "choose the lowest response class", a 6xx ahead of everything (§16.7 step 6). */
  #consider(res: SipResponse): void {
    const b = this.#best;
    if (!b) {
      this.#best = res;
      return;
    }
    if (b.status >= 600) return;
    if (res.status >= 600 || Math.floor(res.status / 100) < Math.floor(b.status / 100)) this.#best = res;
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
    let best = this.#best ?? refusalResponse(this.#p.request, { status: 408, phrase: 'Request Timeout' }, this.#host.newTag());
    if (best.status === 503) {
      // "If the selected response is a 503 (Service Unavailable), the proxy MUST convert it to a 500" (§16.7 step 6)
      best = {
        ...best, status: 500, reason: 'Server Internal Error',
        headers: best.headers.map((h) => (h.name === 'reason' && h.value.startsWith('SIP;cause=503;') ? header('Reason', h.value.replace('cause=503', 'cause=500')) : h)),
      };
    }
    this.#finishWith(best, undefined);
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
    b.timer?.cancel();
    b.timer = undefined;
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
