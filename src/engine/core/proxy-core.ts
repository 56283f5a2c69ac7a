import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import { isInternalHeader } from './internal-headers.js';
import { buildResponse, type TransactionLayer } from '../../sip/transaction/index.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction } from '../../sip/transaction/types.js';
import type { Flow, SendTarget, TransportProtocol } from '../../sip/transport/types.js';
import type { AppHub, AppProxyCommand } from '../types.js';
import { defaultPort, resolveHost, transportOf } from './addressing.js';
import type { ServerPending } from './engine-dialog.js';
import { getHeader, getHeaders, hdr, parseSipText, parseUriLite, serializeSip, splitList, uriOf } from './sip-text.js';

/** What the proxy needs from the core it lives in. */
export interface ProxyHost {
  transactions: TransactionLayer;
  hub: AppHub;
  clock: Clock;
  log: Logger | undefined;
  now(): string;
  /** A top Via for a request leaving on `protocol` (new branch). */
  viaFor(protocol: TransportProtocol): string;
  /** `<sip:host:port;lr>` of our listener for `protocol`. */
  recordRouteFor(protocol: TransportProtocol): string;
  isLocal(address: string, port: number): boolean;
  /** The proxied request is over (final response forwarded, or given up): forget its pending state. */
  release(p: ServerPending): void;
  newTag(): string;
}

/** Headers an app may not set on a proxied request: the stack owns them (drachtio-protocol.md §2.2). */
const NOT_FROM_APP = new Set(['via', 'route', 'record-route', 'content-length', 'from', 'to', 'call-id', 'cseq', 'max-forwards']);
const NOOP_USER: ClientTransactionUser = { onResponse() {}, onTimeout() {}, onTransportError() {} };

interface Branch {
  uri: string;
  txn: ClientTransaction | undefined;
  done: boolean;
  provisional: boolean;
  timer: TimerHandle | undefined;
}

/** '5s', '500ms' or a bare number of seconds; undefined when empty or unreadable. */
function parseTimeout(v: string): number | undefined {
  const m = /^\s*(\d+)\s*(ms|s)?\s*$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 'ms' ? n : n * 1000;
}

/** A response as it goes back upstream: our own top Via removed (https://www.rfc-editor.org/rfc/rfc3261#section-16.7). */
function withoutTopVia(res: SipResponse): SipResponse {
  const headers: SipHeader[] = [];
  let removed = false;
  for (const h of res.headers) {
    if (!removed && h.name === 'via') {
      removed = true;
      const rest = splitList(h.value).slice(1);
      if (rest.length > 0) headers.push(hdr('Via', rest.join(', ')));
      continue;
    }
    headers.push(h);
  }
  return { ...res, headers };
}

/** Where a request goes: its first Route, else its Request-URI (https://www.rfc-editor.org/rfc/rfc3261#section-16.6 step 7). */
async function nextHop(request: SipRequest, flowHint?: Flow): Promise<SendTarget> {
  const route = getHeaders(request, 'route').flatMap(splitList)[0];
  const uri = route !== undefined ? uriOf(route) : request.uri;
  const u = parseUriLite(uri);
  if (!u) throw new Error(`invalid destination: ${uri}`);
  const protocol = transportOf(u);
  const t: SendTarget = { protocol, address: await resolveHost(u.host), port: u.port ?? defaultPort(protocol) };
  if (flowHint?.listenerId && flowHint.protocol === protocol && protocol === 'udp') t.listenerId = flowHint.listenerId;
  return t;
}

/**
 * The engine as a stateful proxy for an app's `proxy` command (drachtio-protocol.md §2.5; RFC 3261 §16): serial or
 * simultaneous forking, Record-Route when the app wants to stay in the dialog, responses relayed upstream, and
 * the `continue` / `done` / `NOK` reply stream to the app. It also relays in-dialog requests that name this
 * engine in their Route (loose routing, https://www.rfc-editor.org/rfc/rfc3261#section-16.4).
 */
export class ProxyCore {
  readonly #host: ProxyHost;

  constructor(host: ProxyHost) {
    this.#host = host;
  }

  /** Starts proxying the pending request `p` for the app command `cmd`. */
  start(cmd: AppProxyCommand, p: ServerPending): void {
    const run = new ProxyRun(this.#host, cmd, p);
    p.proxied = run;
    run.start();
  }

  /**
   * A request whose top Route names us: pops our Route entries and, when something else remains to route to
   * (another Route, or a Request-URI that is not ours), forwards it and returns true.
   */
  routeThrough(request: SipRequest, flow: Flow, txn: ServerTransaction | undefined): boolean {
    const routes = getHeaders(request, 'route').flatMap(splitList);
    if (routes.length === 0) return false;
    let ours = 0;
    while (ours < routes.length && this.#isOurs(uriOf(routes[ours]!))) ours++;
    if (ours === 0) return false;
    const rest = routes.slice(ours);
    if (rest.length === 0) {
      const u = parseUriLite(request.uri);
      if (!u || this.#host.isLocal(u.host, u.port ?? defaultPort(transportOf(u)))) return false;
    }
    const headers: SipHeader[] = [];
    let routeDone = false;
    for (const h of request.headers) {
      if (h.name === 'route') {
        // "If the first value in the Route header field indicates this proxy, the proxy MUST remove that value"
        // https://www.rfc-editor.org/rfc/rfc3261#section-16.4
        if (!routeDone) for (const r of rest) headers.push(hdr('Route', r));
        routeDone = true;
        continue;
      }
      if (h.name === 'max-forwards') {
        headers.push(hdr('Max-Forwards', String(Math.max(0, (Number.parseInt(h.value, 10) || 70) - 1))));
        continue;
      }
      headers.push(h);
    }
    const fwd: SipRequest = { ...request, headers };
    nextHop(fwd, flow).then((target) => {
      fwd.headers.unshift(hdr('Via', this.#host.viaFor(target.protocol)));
      if (request.method === 'ACK' || !txn) {
        this.#host.transactions.sendStateless(fwd, target).catch(() => undefined);
        return;
      }
      this.#host.transactions.sendRequest(fwd, {
        target,
        user: {
          onResponse: (res) => {
            if (res.status > 100) txn.respond(withoutTopVia(res));
          },
          onTimeout: () => txn.respond(buildResponse(request, 408, 'Request Timeout', { toTag: this.#host.newTag() })),
          onTransportError: () => txn.respond(buildResponse(request, 503, 'Service Unavailable', { toTag: this.#host.newTag() })),
        },
      });
    }).catch((err: unknown) => {
      this.#host.log?.debug({ err }, 'proxy: in-dialog request not relayed');
      if (txn) txn.respond(buildResponse(request, 404, 'Not Found', { toTag: this.#host.newTag() }));
    });
    return true;
  }

  #isOurs(uri: string): boolean {
    const u = parseUriLite(uri);
    return u !== undefined && this.#host.isLocal(u.host.replace(/^\[|\]$/g, ''), u.port ?? defaultPort(transportOf(u)));
  }
}

/** One `proxy` command in progress. */
class ProxyRun {
  readonly #host: ProxyHost;
  readonly #cmd: AppProxyCommand;
  readonly #p: ServerPending;
  readonly #queue: string[];
  readonly #branches: Branch[] = [];
  readonly #extra: SipHeader[];
  #best: SipResponse | undefined;
  #finished = false;
  #canceled = false;

  constructor(host: ProxyHost, cmd: AppProxyCommand, p: ServerPending) {
    this.#host = host;
    this.#cmd = cmd;
    this.#p = p;
    this.#queue = cmd.destinations.filter((d) => d.length > 0);
    const fromApp = parseSipText(cmd.sip);
    this.#extra = fromApp ? fromApp.headers.filter((h) => !NOT_FROM_APP.has(h.name) && !isInternalHeader(h.name)) : [];
  }

  start(): void {
    const p = this.#p;
    p.cap?.cancel();
    p.cap = undefined;
    const mf = getHeader(p.request, 'max-forwards');
    if (mf !== undefined && Number.parseInt(mf, 10) <= 0) {
      // "If the request does not contain a Max-Forwards header field, this check is passed. If the request contains
      // a Max-Forwards header field with a field value of zero (0), the element MUST NOT forward the request. If
      // the request was for OPTIONS, the element MAY act as the final recipient and respond per Section 11.
      // Otherwise, the element MUST return a 483 (Too many hops) response." https://www.rfc-editor.org/rfc/rfc3261#section-16.3
      this.#finishWith(buildResponse(p.request, 483, 'Too Many Hops', { toTag: this.#host.newTag() }), 'too many hops');
      return;
    }
    if (this.#queue.length === 0) {
      this.#nok('no destination to proxy to');
      return;
    }
    // Without fullResponse the app only learns that the request went out (§2.5).
    if (this.#cmd.simultaneous) while (this.#queue.length > 0) this.#fork(this.#queue.shift()!);
    else this.#fork(this.#queue.shift()!);
    if (!this.#cmd.fullResponse) this.#reply(['OK', 'done']);
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
    nextHop(request, this.#p.flow).then((target) => {
      if (this.#finished || this.#canceled) {
        branch.done = true;
        this.#settle();
        return;
      }
      if (this.#host.isLocal(target.address, target.port)) throw new Error('can not proxy a request to myself');
      request.headers.unshift(hdr('Via', this.#host.viaFor(target.protocol)));
      if (this.#cmd.remainInDialog) request.headers.unshift(hdr('Record-Route', this.#host.recordRouteFor(target.protocol)));
      branch.txn = this.#host.transactions.sendRequest(request, {
        target,
        user: {
          onResponse: (res) => this.#onResponse(branch, res),
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

  /** The request as forwarded to `uri` (https://www.rfc-editor.org/rfc/rfc3261#section-16.6), Via and Record-Route still to add. */
  #forwarded(uri: string): SipRequest {
    const original = this.#p.request;
    const headers: SipHeader[] = [];
    let hasMaxForwards = false;
    let routesLeft = getHeaders(original, 'route').flatMap(splitList);
    // Our own entries at the top of the Route set are consumed here (§16.4).
    while (routesLeft.length > 0 && this.#isOurs(uriOf(routesLeft[0]!))) routesLeft = routesLeft.slice(1);
    let routeDone = false;
    const replaced = new Set(this.#extra.map((h) => h.name));
    for (const h of original.headers) {
      if (h.name === 'route') {
        if (!routeDone) for (const r of routesLeft) headers.push(hdr('Route', r));
        routeDone = true;
        continue;
      }
      if (h.name === 'max-forwards') {
        // "The proxy MUST decrement the Max-Forwards value by one" (§16.6 step 3)
        hasMaxForwards = true;
        headers.push(hdr('Max-Forwards', String((Number.parseInt(h.value, 10) || 70) - 1)));
        continue;
      }
      if (replaced.has(h.name)) continue;
      headers.push(h);
    }
    // "If the copy does not contain a Max-Forwards header field, the proxy MUST add one with a field value, which
    // SHOULD be 70."
    if (!hasMaxForwards) headers.push(hdr('Max-Forwards', '70'));
    for (const h of this.#extra) headers.push(h);
    // "The proxy MUST place the URI into the Request-URI of the copy." (§16.6 step 2)
    return { ...original, uri, headers };
  }

  #isOurs(uri: string): boolean {
    const u = parseUriLite(uri);
    return u !== undefined && this.#host.isLocal(u.host.replace(/^\[|\]$/g, ''), u.port ?? defaultPort(transportOf(u)));
  }

  #onResponse(branch: Branch, res: SipResponse): void {
    const status = res.status;
    if (status === 100) return;
    const p = this.#p;
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
        if (this.#cmd.fullResponse) this.#reply(['OK', 'done']);
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
      for (const c of getHeaders(res, 'contact').flatMap(splitList)) this.#queue.push(uriOf(c));
    }
    this.#consider(withoutTopVia(res));
    if (status >= 600) {
      // "If a 6xx response is received, it is not immediately forwarded, but the stateful proxy SHOULD cancel all
      // client pending transactions" (§16.7 step 5)
      this.cancel();
    }
    this.#next();
  }

  #onBranchFailed(branch: Branch, status: number, reason: string): void {
    if (branch.done) return;
    branch.done = true;
    branch.timer?.cancel();
    if (this.#finished) return;
    // A timeout counts as a 408 and a transport failure as a 503 (§16.7 step 2 / §16.8).
    this.#consider(buildResponse(this.#p.request, status, reason, { toTag: this.#host.newTag() }));
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
    let best = this.#best ?? buildResponse(this.#p.request, 408, 'Request Timeout', { toTag: this.#host.newTag() });
    if (best.status === 503) {
      // "If the selected response is a 503 (Service Unavailable), the proxy MUST convert it to a 500" (§16.7 step 6)
      best = { ...best, status: 500, reason: 'Server Internal Error' };
    }
    this.#finishWith(best, undefined);
  }

  #finishWith(res: SipResponse, nok: string | undefined): void {
    this.#finished = true;
    const p = this.#p;
    p.final = true;
    p.txn.respond(res);
    if (nok !== undefined) this.#nok(nok);
    else if (this.#cmd.fullResponse) this.#reply(['OK', 'done']);
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
    const text = serializeSip(res);
    const f = branch.txn?.flow;
    this.#reply([
      'OK', 'network', String(Buffer.byteLength(text)), f?.protocol ?? '', f?.remoteAddress ?? '', f ? String(f.remotePort) : '',
      this.#host.now(), '', '', 'continue',
    ], text);
  }

  #nok(reason: string): void {
    this.#reply(['NOK', reason]);
  }

  #reply(fields: string[], sip?: string): void {
    this.#host.hub.reply(this.#cmd.connId, this.#cmd.msgId, fields, sip);
  }
}
