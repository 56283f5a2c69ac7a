import type { SipMessage, SipRequest, SipResponse } from '../../sip/message/types.js';
import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { AppProxyCommand } from '../types.js';
import { defaultPort, transportOf } from './addressing.js';
import type { ServerPending } from './engine-dialog.js';
import { getHeader, getHeaderValues, tagOf, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';
import { DEFAULT_MAX_FORWARDS, forwardCopy, stampHop } from './forward.js';
import { refusalResponse, type Refusal } from './reject.js';
import { hostportOf, isOurUri, nextHop, sentBy, withoutTopVia, type ProxiedEnds } from './proxy-hop.js';
import type { TimedProxyHost } from './proxy-timers.js';
import { ProxyRun } from './proxy-run.js';


/**
 * The engine as a stateful proxy for an app's `proxy` command (docs/control-protocol.md §2.5; RFC 3261 §16): serial or
 * simultaneous forking, Record-Route when the app wants to stay in the dialog, responses relayed upstream, and
 * the `continue` / `done` / `NOK` reply stream to the app. It also relays in-dialog requests that name this
 * engine in their Route (loose routing, https://www.rfc-editor.org/rfc/rfc3261#section-16.4).
 */
export class ProxyCore {
  readonly #host: TimedProxyHost;

  constructor(host: TimedProxyHost) {
    this.#host = host;
  }

  /** Starts proxying the pending request `p` for the app command `cmd`, whose SIP text read as `fromApp`. */
  start(cmd: AppProxyCommand, p: ServerPending, fromApp: SipMessage): void {
    const run = new ProxyRun(this.#host, cmd, p, fromApp);
    p.proxied = run;
    run.start();
  }

  /**
   * An in-dialog request (or ACK) of a dialog this engine record-routed for an app that proxied it, arriving with
   * our Route on top: forwarded along its route set (loose routing, §16.4) through the one §16.6 function.
   * Returns undefined when nothing is left to route to (no further Route and a Request-URI of ours): then it is
   * ours; 'refused' when Max-Forwards was 0 (483); 'relayed' when it went on.
   * The caller decides that the dialog is one we proxied; nothing else is ever relayed here. With `ends` known, a
   * request goes only to the dialog's other side, and only from the side its From tag names: one whose Route or
   * Request-URI names another host, or that comes from elsewhere than that side, gets 403 (an ACK is dropped), so
   * a party to the dialog cannot have us send its requests anywhere it likes. A next hop that is this gateway gets
   * 482: a Route or Contact naming us by another name would have the request come back to us, Via after Via.
   */
  relayInDialog(request: SipRequest, flow: Flow, txn: ServerTransaction | undefined, ends?: ProxiedEnds): 'relayed' | 'refused' | undefined {
    const routes = getHeaderValues(request, 'route');
    let ours = 0;
    while (ours < routes.length && this.isOurs(uriTextOf(routes[ours]!))) ours++;
    if (ours === routes.length) {
      const u = uriOrUndefined(request.uri);
      if (!u || this.#host.isLocal(u.host.replace(/^\[|\]$/g, ''), u.port ?? defaultPort(transportOf(u)))) return undefined;
    }
    // Max-Forwards is taken up to 999,999,999: a copy sent on never carries more than a new request would.
    const copy = forwardCopy(request, { isOurs: (uri) => this.isOurs(uri), keepRoutes: true, maxForwardsAtMost: DEFAULT_MAX_FORWARDS });
    if (!copy.ok) {
      this.#host.tooManyHops(request, flow);
      if (txn) txn.respond(this.#refusal(request, copy.refusal));
      return 'refused';
    }
    const fwd = copy.request;
    if (ends !== undefined) {
      const route = getHeaderValues(fwd, 'route')[0];
      const hop = hostportOf(route !== undefined ? uriTextOf(route) : fwd.uri);
      const fromCaller = (tagOf(getHeader(request, 'from')) ?? '') === ends.callerTag;
      if (!sentBy(ends, fromCaller, flow)) {
        const side = fromCaller ? 'caller' : 'callee';
        this.#host.relayRefused(request, flow, `sent from ${flow.remoteAddress}:${flow.remotePort}, not by the dialog's ${side}`);
        if (txn) txn.respond(this.#refusal(request, { status: 403, phrase: 'Forbidden', text: `not sent by the ${side} its From tag names` }));
        return 'refused';
      }
      if (hop === undefined || hop !== (fromCaller ? ends.toCallee : ends.toCaller)) {
        this.#host.relayRefused(request, flow, `next hop ${hop ?? '-'} is not the dialog's other side`);
        if (txn) txn.respond(this.#refusal(request, { status: 403, phrase: 'Forbidden', text: 'next hop is not the other side of the dialog' }));
        return 'refused';
      }
    }
    nextHop(fwd, this.#host.names, flow).then((target) => {
      // The check a new request's fork makes too (ProxyRun): a name or a Route that leads back to one of our
      // listeners is a loop, and each round would add a Via until the header limit.
      if (this.#host.isLocal(target.address, target.port)) {
        this.#host.relayLoop(request, flow, `${target.address}:${target.port}`);
        if (txn) txn.respond(this.#refusal(request, { status: 482, phrase: 'Loop Detected', text: 'next hop is this gateway' }));
        return;
      }
      stampHop(fwd, this.#host.viaFor(target.protocol));
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
          onTimeout: () => txn.respond(this.#refusal(request, { status: 408, phrase: 'Request Timeout', text: 'no answer from the next hop' })),
          onTransportError: () => txn.respond(this.#refusal(request, { status: 503, phrase: 'Service Unavailable', text: 'next hop unreachable' })),
        },
      });
    }).catch((err: unknown) => {
      this.#host.log?.debug({ err }, 'proxy: in-dialog request not relayed');
      if (txn) txn.respond(this.#refusal(request, { status: 404, phrase: 'Not Found', text: 'no route to the next hop' }));
    });
    return 'relayed';
  }

  #refusal(request: SipRequest, r: Refusal): SipResponse {
    return refusalResponse(request, r, this.#host.newTag());
  }

  /** Whether a URI names one of our listeners. */
  isOurs(uri: string): boolean {
    return isOurUri(this.#host, uri);
  }
}
