import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/index.js';
import type { RateLimitedLog } from '../log/index.js';
import { bLegUri, parseServer } from './b-leg-target.js';
import type { B2buaLogCode } from './errors.js';
import { parsePeerHeader } from './peer-header.js';
import { PEER_HEADER, ROUTE_HEADER, type B2buaPolicy, type SipTransport } from './policy-types.js';
import { sipReason } from './reason.js';
import { connOf, flowRoute, flowText, flowTokenOf, signFlowToken, transportOf, verifyFlowToken, type RegisterFlow } from './register-flow-token.js';
import { contactUris, flowKeyOf, MAX_BINDINGS_PER_FLOW, RelayBindings, uriOf } from './register-relay-bindings.js';
import type { RegisterRelayCounters, RegisterRelaySnapshot, RelayRefusal, RelayRequest, RelayResponse } from './register-relay-types.js';
import { grantedExpires } from './register-timing.js';

export { flowRoute } from './register-flow-token.js';
export type { RegisterRelayCounters, RegisterRelaySnapshot, RelayProxyResult, RelayRefusal, RelayRequest, RelayResponse } from './register-relay-types.js';

export interface RegisterRelayOptions {
  policy: B2buaPolicy;
  /** The flow-token key (register-flow-token.ts `flowKey`). */
  key: Buffer;
  log: Logger;
  refusals: RateLimitedLog;
  clock?: Clock;
}

/** Where a request to a relayed binding carries its verified flow to the pipeline (middleware/relayed-binding.ts). */
export const RELAYED_FLOW = Symbol('trunkgate.relayedFlow');

/** The verified flow of a request to a relayed binding, if it is one. */
export function relayedFlowOf(req: object): RegisterFlow | undefined {
  return (req as { [RELAYED_FLOW]?: RegisterFlow })[RELAYED_FLOW];
}

const FLOW_CLOSED = Symbol('trunkgate.relayedFlowClosed');

/**
 * The engine answered a request to a relayed binding's flow 430 itself (its connection is closed, X-Trunkgate-Peer
 * `origin=engine`): counted in refusedFlowFailed and logged (ERR_B2BUA_FLOW_FAILED) by the relay that routed it.
 */
export function relayedFlowClosed(req: object): void {
  (req as { [FLOW_CLOSED]?: () => void })[FLOW_CLOSED]?.();
}

/**
 * Registrations through the gateway (RFC 3327 Path, RFC 5626 flows). A REGISTER from a tenant with `registerRelay`
 * is proxied to the registrar of tenant `to` with a Path naming the gateway, whose user part is a signed token of
 * the flow the REGISTER came on and whose `ob` parameter says requests must come back over that flow. An INVITE from
 * the registrar's side that brings the token back in its Route (the engine hands it over as X-Trunkgate-Peer
 * `flow=`) is a call of the registrar tenant to the phone's tenant, its B leg sent to the phone's address, which
 * the engine reaches over the phone's connection (and keeps the dialog on): over TCP and TLS the token names that
 * connection (X-Trunkgate-Peer `conn=` of the REGISTER) and requests to the phone carry it in X-Trunkgate-Route
 * (`flowRoute`), so the engine sends over it or answers 430, never over a new connection from the same address and
 * port (docs/control-protocol.md §4.2). Default deny:
 * a REGISTER on another tenant, a token that does not verify, a source that is not the registrar tenant's: 403;
 * a good token whose flow has no live binding (the phone de-registered, registered again over another flow, or its
 * binding ran out), or a TCP or TLS token that names no connection: 430.
 * The bindings accepted are kept per flow and address-of-record (register-relay-bindings.ts, shared by the apps of
 * one engine), at most `maxBindings` flows of each tenant (then 503, counted and logged).
 */
export class RegisterRelay {
  #policy: B2buaPolicy;
  readonly #o: RegisterRelayOptions;
  readonly #clock: Clock;
  readonly #bindings: RelayBindings;
  readonly #c: RegisterRelayCounters = {
    relayed: 0, accepted: 0, refusedNoRelay: 0, refusedFull: 0, routed: 0, refusedToken: 0, refusedSource: 0, refusedFlowFailed: 0, refusedNoBinding: 0, notSent: 0,
  };

  constructor(o: RegisterRelayOptions) {
    this.#o = o;
    this.#policy = o.policy;
    this.#clock = o.clock ?? systemClock;
    this.#bindings = new RelayBindings(this.#clock, o.key);
  }

  /** Leaves the other apps' bindings channel. */
  close(): void {
    this.#bindings.close();
  }

  /** A configuration reload: new REGISTERs and requests use it; bindings already relayed stay until they run out. */
  setPolicy(policy: B2buaPolicy): void {
    this.#policy = policy;
  }

  /** The counters, and the flows with a live binding whose latest REGISTER this app took (so apps' snapshots add up). */
  snapshot(): RegisterRelaySnapshot {
    return { ...this.#c, bindings: this.#bindings.mine };
  }

  /** The live bindings, for tests and the admin view: flow, tenant, address-of-record, seconds left. */
  bindings(): Array<{ transport: SipTransport; address: string; port: number; conn?: string; tenant: string; aor: string; expiresIn: number }> {
    const now = this.#clock.now();
    return this.#bindings.list().map((b) => ({
      transport: b.flow.transport, address: b.flow.address, port: b.flow.port, ...(b.flow.conn !== undefined ? { conn: b.flow.conn } : {}), tenant: b.flow.tenant, aor: b.aor,
      expiresIn: Math.round((b.expiresAt - now) / 1000),
    }));
  }

  onRegister(req: RelayRequest, res: RelayResponse): void {
    const peer = parsePeerHeader(req.get(PEER_HEADER));
    const transport = transportOf(req.protocol);
    const tenant = peer?.tenant;
    const relay = tenant !== undefined ? this.#policy.tenants[tenant]?.registerRelay : undefined;
    const address = req.source_address;
    const port = Number(req.source_port);
    if (relay === undefined || transport === undefined || peer?.transport !== transport || address === undefined || !Number.isInteger(port)) {
      this.#c.refusedNoRelay++;
      const text = `REGISTER is not relayed for tenant ${tenant ?? '-'}`;
      this.#refuse(res, 403, 'Forbidden', 'ERR_B2BUA_REGISTER_REFUSED', address, { tenant, aor: uriOf(req.get('To')) }, text);
      return;
    }
    const own = this.#policy.tenants[tenant!]!;
    const tenantTransport = own.url === 'sips' ? 'tls' : own.transport ?? 'udp';
    if (transport !== tenantTransport) {
      // Calls to the binding are placed on this tenant's transport: a flow of another one could not be reached.
      this.#c.refusedNoRelay++;
      this.#refuse(res, 403, 'Forbidden', 'ERR_B2BUA_REGISTER_REFUSED', address, { tenant, transport },
        `tenant ${tenant} relays REGISTERs over ${tenantTransport}, not ${transport}`);
      return;
    }
    // Over TCP and TLS the flow is the connection the REGISTER came on (RFC 5626 §5.2), as the engine names it.
    const conn = transport === 'udp' ? undefined : connOf(req.get(PEER_HEADER));
    if (transport !== 'udp' && conn === undefined) {
      this.#c.refusedNoRelay++;
      this.#refuse(res, 500, 'Server Internal Error', 'ERR_B2BUA_REGISTER_REFUSED', address, { tenant, transport },
        `the engine named no connection for a ${transport} REGISTER`);
      return;
    }
    const key = flowKeyOf({ transport, address, port, conn });
    if (this.#bindings.full(key, tenant!, relay.maxBindings)) {
      this.#c.refusedFull++;
      this.#refuse(res, 503, 'Service Unavailable', 'ERR_B2BUA_REGISTER_RELAY_FULL', address, { tenant, max: relay.maxBindings },
        `the relayed registrations are at their limit (${relay.maxBindings})`, { 'Retry-After': '60' });
      return;
    }
    const flow: RegisterFlow = {
      transport, address, port, ...(conn !== undefined ? { conn } : {}), tenant: tenant!, until: Math.floor(this.#clock.now() / 1000) + relay.maxExpires + 60,
    };
    const token = signFlowToken(this.#o.key, flow);
    const pathScheme = relay.scheme === 'sips' ? 'sips' : 'sip';
    const tp = relay.transport === 'udp' ? '' : `;transport=${relay.transport}`;
    // RFC 3327 §5.2: an intermediate proxy that wants to see requests to the binding puts a URI resolving to itself
    // first in Path; RFC 5626 §5.1: `ob` asks that they come back over the flow the REGISTER came on.
    const ours = `<${pathScheme}:${token}@${relay.path.host}:${relay.path.port}${tp};lr;ob>`;
    const existing = req.get('Path');
    const server = parseServer(relay.registrar);
    if (server === undefined) {
      this.#c.refusedNoRelay++;
      this.#refuse(res, 500, 'Server Internal Error', 'ERR_B2BUA_REGISTER_REFUSED', address, { tenant }, `registrar ${relay.registrar} is not an address`);
      return;
    }
    const destination = bLegUri('', server, relay.transport, relay.scheme);
    const aor = uriOf(req.get('To'));
    this.#c.relayed++;
    const headers: Record<string, string> = { Path: existing ? `${ours}, ${existing}` : ours };
    if (relay.transport === 'tls' && relay.tlsProfile !== undefined) {
      // The registrar tenant's client certificate and the registrar's name to check, as for its own calls.
      const bare = server.host.replace(/^\[(.*)\]$/, '$1');
      headers[ROUTE_HEADER] = `tenant=${relay.to};profile=${relay.tlsProfile}${isIP(bare) === 0 ? `;domain=${bare}` : ''}`;
    }
    // The token runs out after maxExpires (and a minute): a binding asked for longer is asked for that long.
    const asked = Number.parseInt(req.get('Expires') ?? '', 10);
    const contact = req.get('Contact') ?? '';
    const removal = contact.trim() === '*' || asked === 0 || /;\s*expires\s*=\s*0+\s*(?:[;,]|$)/i.test(contact);
    if (Number.isInteger(asked) && asked > relay.maxExpires) headers['Expires'] = String(relay.maxExpires);
    req.proxy({ destination: [destination], headers }, (err, result) => {
      if (err) {
        this.#c.notSent++;
        this.#o.refusals.warn('ERR_B2BUA_REGISTER_REFUSED', address, { tenant, aor, err: String(err) }, `b2bua: REGISTER of ${aor} not relayed: ${String(err)}`);
        return;
      }
      const status = result?.finalStatus ?? 0;
      if (status < 200 || status >= 300) return;
      this.#c.accepted++;
      const msg = result?.finalResponse?.msg;
      // A removal (Expires 0, or `Contact: *`): the 2xx lists the address-of-record's other bindings, not this one's.
      const granted = removal ? 0 : this.#granted(msg, relay.maxExpires);
      if (granted <= 0) {
        this.#bindings.remove(flow, aor);
        return;
      }
      if (this.#bindings.full(key, flow.tenant, relay.maxBindings)) {
        // REGISTERs sent on together all passed the check above: the ones past the limit are not kept.
        this.#c.refusedFull++;
        this.#o.refusals.warn('ERR_B2BUA_REGISTER_RELAY_FULL', address, { tenant, aor, max: relay.maxBindings },
          `b2bua: binding of ${aor} not kept: the relayed registrations of tenant ${tenant} reached their limit (${relay.maxBindings}) while it was at the registrar`);
        return;
      }
      // Each Contact of the REGISTER is a binding over this flow (a REGISTER without one only asks, and binds nothing).
      if (!this.#bindings.set(flow, aor, contactUris(contact), this.#clock.now() + granted * 1000)) {
        this.#c.refusedFull++;
        this.#o.refusals.warn('ERR_B2BUA_REGISTER_RELAY_FULL', address, { tenant, aor, max: MAX_BINDINGS_PER_FLOW },
          `b2bua: binding of ${aor} not kept: its flow already holds ${MAX_BINDINGS_PER_FLOW} bindings`);
      }
    });
  }

  /** `screen`, as a yes or no: true when the request was refused here. */
  onRequest(req: RelayRequest, res: RelayResponse): boolean {
    return this.screen(req, res) !== undefined;
  }

  /**
   * A request that may be to a relayed binding: the refusal it got when it carried a flow token that failed (403)
   * or whose flow has no live binding (430), sent here; undefined otherwise, the call policy then takes it. A good
   * token from a source of the registrar tenant marks the request (`relayedFlowOf`), so the pipeline places the B
   * leg on the phone's tenant, to the phone's address, which the engine reaches over the connection the phone
   * opened; the dialog's later requests stay on it.
   */
  screen(req: RelayRequest, res: RelayResponse): RelayRefusal | undefined {
    const peerValue = req.get(PEER_HEADER);
    const token = flowTokenOf(peerValue);
    if (token === undefined) return undefined;
    const source = req.source_address;
    const check = verifyFlowToken(this.#o.key, token, Math.floor(this.#clock.now() / 1000));
    // A user part of another shape in a Route naming us (some SBCs put one there) is not a flow token: the call
    // policy takes the request as before.
    if (!check.ok && check.why === 'malformed') return undefined;
    if (!check.ok) {
      this.#c.refusedToken++;
      // "If the flow token has been tampered with, the proxy SHOULD send a 403 (Forbidden) response." (RFC 5626 §5.3)
      const reason = this.#refuse(res, 403, 'Forbidden', 'ERR_B2BUA_FLOW_TOKEN_INVALID', source, { why: check.why, method: req.method }, `flow token ${check.why}`);
      return { status: 403, cause: `flow-token:${check.why}`, reason };
    }
    const flow = check.flow;
    const relay = this.#policy.tenants[flow.tenant]?.registerRelay;
    const from = parsePeerHeader(peerValue)?.tenant;
    if (relay === undefined || from !== relay.to) {
      this.#c.refusedSource++;
      const reason = this.#refuse(res, 403, 'Forbidden', 'ERR_B2BUA_FLOW_TOKEN_INVALID', source, { why: 'source', from, tenant: flow.tenant, method: req.method },
        `a ${req.method} to a binding of ${flow.tenant} from ${from ?? 'no tenant'}, not its registrar's`);
      return { status: 403, cause: 'flow-token:source', reason };
    }
    // A token outlives its binding (it runs until the longest binding could): after a removal, once the binding ran
    // out, or once the phone registered over another connection, the flow is no longer the phone's; a TCP or TLS
    // token naming no connection (signed before tokens named one) names no flow at all. "If the flow no longer
    // exists, the proxy SHOULD send a 430 (Flow Failed) response to the request." (RFC 5626 §5.3)
    // https://www.rfc-editor.org/rfc/rfc5626#section-5.3
    const unnamed = flow.transport !== 'udp' && flow.conn === undefined;
    if (unnamed || !this.#bindings.live(flow)) {
      this.#c.refusedFlowFailed++;
      const at = flowText(flow);
      const reason = this.#refuse(res, 430, 'Flow Failed', 'ERR_B2BUA_FLOW_FAILED', source, { tenant: flow.tenant, flow: at, conn: flow.conn, method: req.method },
        unnamed ? `the token names no connection of ${flow.tenant} over ${at}` : `no live binding of ${flow.tenant} over ${at}`);
      return { status: 430, cause: 'flow-token:flow-failed', reason };
    }
    this.#c.routed++;
    const marked = req as RelayRequest & { [RELAYED_FLOW]?: RegisterFlow; [FLOW_CLOSED]?: () => void };
    marked[RELAYED_FLOW] = flow;
    marked[FLOW_CLOSED] = () => this.#flowClosed(flow, req.method, source);
    return undefined;
  }

  /**
   * An out-of-dialog MESSAGE or NOTIFY (a text, an unsolicited message-waiting NOTIFY) to a relayed binding: with a
   * good token, proxied to the phone's address, which the engine reaches over the phone's connection; without one,
   * 404 (this gateway takes such requests only for relayed bindings). Nothing else is forwarded.
   */
  onOther(req: RelayRequest, res: RelayResponse): void {
    if (this.onRequest(req, res)) return;
    const flow = relayedFlowOf(req);
    if (flow === undefined) {
      this.#c.refusedNoBinding++;
      this.#refuse(res, 404, 'Not Found', 'ERR_B2BUA_REGISTER_REFUSED', req.source_address, { method: req.method },
        `a ${req.method} is taken only for a binding registered through the gateway`);
      return;
    }
    const user = /^sips?:([^@;>]+)@/i.exec(req.uri)?.[1];
    const host = flow.address.includes(':') ? `[${flow.address}]` : flow.address;
    const tp = flow.transport === 'udp' ? '' : `;transport=${flow.transport}`;
    const destination = `sip:${user !== undefined ? `${user}@` : ''}${host}:${flow.port}${tp}`;
    const route = flowRoute(flow);
    req.proxy({ destination: [destination], ...(route !== undefined ? { headers: { [ROUTE_HEADER]: route } } : {}) }, (err, result) => {
      if (!err) {
        // The binding is live but the phone's connection is closed (which only the engine knows): the engine answered
        // the registrar 430 itself and sent nothing over any other connection.
        if (result?.finalStatus === 430 && parsePeerHeader(result.finalResponse?.msg?.get(PEER_HEADER))?.origin === 'engine') relayedFlowClosed(req);
        return;
      }
      this.#c.notSent++;
      this.#o.refusals.warn('ERR_B2BUA_FLOW_TOKEN_INVALID', req.source_address, { why: 'proxy', err: String(err) }, `b2bua: ${req.method} to ${destination} not sent: ${String(err)}`);
    });
  }

  #flowClosed(flow: RegisterFlow, method: string, source: string | undefined): void {
    this.#c.refusedFlowFailed++;
    this.#o.refusals.warn('ERR_B2BUA_FLOW_FAILED', source, { tenant: flow.tenant, flow: flowText(flow), conn: flow.conn, method, status: 430 },
      `b2bua: the connection of ${flow.tenant} over ${flowText(flow)} is closed: 430`);
  }

  /** The longest Expires the registrar granted among the Contacts it returned, capped; 0 when none is left. */
  #granted(msg: { get(name: string): string | undefined } | undefined, max: number): number {
    if (!msg) return 0;
    const contacts = msg.get('Contact');
    if (contacts === undefined || contacts.trim() === '' || contacts.trim() === '*') return 0;
    let best: number | undefined;
    for (const m of contacts.matchAll(/;\s*expires\s*=\s*(\d+)/gi)) best = Math.max(best ?? 0, Number(m[1]));
    // No expires parameter on any Contact: the Expires header, else the longest we keep (RFC 3261 §10.2.4).
    best ??= grantedExpires({ status: 200, get: (n) => msg.get(n) }, '\u0000', max);
    return Math.min(best, max);
  }

  #refuse(res: RelayResponse, status: number, phrase: string, code: B2buaLogCode, source: string | undefined,
    fields: Record<string, unknown>, text: string, extra: Record<string, string> = {}): string {
    this.#o.refusals.warn(code, source, { ...fields, status }, `b2bua: ${text}: ${status}`);
    const reason = sipReason(status, text);
    res.send(status, phrase, { headers: { Reason: reason, ...extra } });
    return reason;
  }
}
