import type { SipRequest } from '../../sip/message/types.js';
import type { Flow, ListenerInfo } from '../../sip/transport/types.js';
import { peerHeader, peerTenant } from './internal-headers.js';
import type { ProxyIdentity } from './proxy-identity.js';
import { header, serializeMessageText } from '../../sip/message/index.js';

export interface RequestForAppOptions {
  /** The open listeners, for the tenant of each: read again when a request names one not read before. */
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
  /** Tenant of each listener, by id, as last read from the open listeners. */
  #tenants = new Map<string, string | undefined>();

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

  /**
   * The tenant of the listener a request arrived on. The open listeners are read again only when a request names one
   * not in the table: a listener is bound after start (Engine.retryListeners binds a tenant listener that could not
   * bind at start, src/engine/engine.ts) but never rebound under its id with another tenant, and every flow names an
   * open listener, so a miss is read once per new listener and the hot path stays one map lookup.
   */
  #listenerTenant(id: string): string | undefined {
    const m = this.#tenants;
    if (m.has(id)) return m.get(id);
    this.#tenants = new Map(this.#o.listeners().map((l) => [l.id, l.tenant]));
    return this.#tenants.get(id);
  }
}
