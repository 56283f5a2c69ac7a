import type { SipRequest } from '../../sip/message/types.js';
import type { Flow, ListenerInfo } from '../../sip/transport/types.js';
import { peerHeader, peerTenant } from './internal-headers.js';
import type { ProxyIdentity } from './proxy-identity.js';
import { header, serializeMessageText } from '../../sip/message/index.js';

export interface RequestForAppOptions {
  /** The open listeners (read once they are open, for the tenant of each). */
  listeners(): ListenerInfo[];
  /** Tenants that take their callers' TLS identities from a trusted proxy's header. */
  proxyIds: ProxyIdentity;
  /** A request's identities were taken from a trusted proxy's header (counted). */
  onProxyIdentityTaken(): void;
}

/**
 * A request from the network as an app gets it: with X-Trunkgate-Peer saying how it arrived and who sent it
 * (docs/control-protocol.md §4.2). Owns the table of each listener's tenant.
 */
export class RequestForApp {
  readonly #o: RequestForAppOptions;
  /** Tenant of each listener, read once the listeners are open. */
  #tenants: Map<string, string | undefined> | undefined;

  constructor(o: RequestForAppOptions) {
    this.#o = o;
  }

  /**
   * The SIP text for the app. A proxy identity header is taken (trusted proxy of the request's tenant) or removed
   * here, before any app sees it; `flowToken` is the flow token of our own Route, when the request carried one.
   */
  text(request: SipRequest, flow: Flow, flowToken?: string): string {
    const tenant = flow.listenerId !== undefined ? this.#listenerTenant(flow.listenerId) : undefined;
    const headers = [...request.headers];
    const r = { ...request, headers };
    const proxyIds = this.#o.proxyIds;
    const proxied = proxyIds.empty ? undefined
      : proxyIds.take(r, flow.remoteAddress, peerTenant(flow, tenant));
    if (proxied) this.#o.onProxyIdentityTaken();
    const peer = peerHeader(flow, tenant, proxied);
    headers.push(flowToken === undefined ? peer : header('X-Trunkgate-Peer', `${peer.value};flow=${flowToken}`));
    return serializeMessageText(r);
  }

  #listenerTenant(id: string): string | undefined {
    let m = this.#tenants;
    if (!m) {
      m = new Map(this.#o.listeners().map((l) => [l.id, l.tenant]));
      if (m.size > 0) this.#tenants = m;
    }
    return m.get(id);
  }
}
