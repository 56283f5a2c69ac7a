import { systemClock, type Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { SipMessage, SipRequest, SipResponse } from '../../sip/message/types.js';
import type { TransactionLayer } from '../../sip/transaction/index.js';
import type { ServerTransaction, TransactionUser } from '../../sip/transaction/types.js';
import type { Flow, TransportSender, TransportUser } from '../../sip/transport/types.js';
import type { AppHub, AppProxyCommand, AppSipCommand, EngineCore as EngineCoreContract } from '../types.js';
import { LocalAddresses } from './addressing.js';
import { NameLookups } from './name-lookups.js';
import { AppCommands } from './app-commands.js';
import { CoreGuard } from './core-guard.js';
import type { CoreLimits } from './limits.js';
import { NetworkRequests } from './network-requests.js';
import { ProxiedDialogs } from './proxied-dialogs.js';
import { RequestGate } from './request-gate.js';
import { RequestForApp } from './request-for-app.js';
import { ProxyCore } from './proxy-core.js';
import { UacCore } from './uac-core.js';
import { UasCore } from './uas-core.js';
import { newTag } from './core-util.js';
import { refusalReason } from './reject.js';
import { getHeader, tagOf } from '../../sip/message/index.js';
import { stripInternal } from './internal-headers.js';
import type { ConnectionList } from './pinned-flow.js';
import { ProxyIdentity, type ProxyIdentityTenant } from './proxy-identity.js';
import { AppNotify } from './app-notify.js';
import { DialogStore } from './dialog-store.js';
import { ServerRequests } from './server-requests.js';
import type { StageTimes } from './stage-times.js';
import type { RefusalReporter } from '../refusal-record.js';

export interface EngineCoreOptions {
  transactions: TransactionLayer;
  /** With its connections (the engine's TransportLayer), so an app may pin a request to one (pinned-flow.ts). */
  transport: TransportSender & Partial<ConnectionList>;
  hub: AppHub;
  clock?: Clock;
  log?: Logger;
  /** Host written in Via, Contact and hostports for listeners bound to a wildcard address (default 127.0.0.1). */
  advertiseHost?: string;
  /** Answer times and table caps (defaults in limits.ts). */
  limits?: CoreLimits;
  /** @deprecated use limits.appAnswerTimeoutMs. */
  appAnswerTimeoutMs?: number;
  /** Per-stage timings, shared with the transport that marks each message in hand and parsed. */
  stages?: StageTimes;
  /** Tenants that take their callers' TLS identities from a trusted proxy's header (proxy-identity.ts). */
  proxyIdentity?: ProxyIdentityTenant[];
  /** The resolver of host names the core must send to (default: the system's, name-lookups.ts). */
  lookup?: (host: string) => Promise<string>;
  /** Whether a host name (lower case) is the configuration's: its lookups then have a pool of their own (name-lookups.ts). */
  isConfiguredName?: (name: string) => boolean;
  /** Where the refusals of new requests are told, for the CDR of a refused INVITE (refusal-records.ts). */
  refusals?: RefusalReporter;
}

/**
 * The engine's SIP core: the transaction user under the drachtio control protocol. It does what drachtio-server
 * does between the network and its apps (docs/control-protocol.md §2.2-§2.8): 100 Trying, choosing an app, filling
 * the minimal messages apps send, dialogs, 2xx retransmission and the ACK-timeout BYE, CANCEL, PRACK, CDRs.
 *
 * Each owner keeps its own state: ServerRequests (requests awaiting an app), DialogStore, ProxiedDialogs, UacCore
 * (requests apps sent), CoreGuard (caps and counters). This class builds them and wires them together; the network
 * side is NetworkRequests, the app side AppCommands.
 */
export class EngineCore implements EngineCoreContract, TransactionUser, TransportUser {
  readonly #tl: TransactionLayer;
  readonly #transport: TransportSender;
  readonly #hub: AppHub;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  /** Table caps, answer times, counters and the rate-limited log of refusals. */
  readonly #guard: CoreGuard;
  readonly #gate: RequestGate;
  readonly #proxiedDialogs: ProxiedDialogs;
  readonly #addr: LocalAddresses;
  readonly #names: NameLookups;
  readonly #T1: number;
  readonly #dialogs = new DialogStore();
  readonly #server: ServerRequests;
  readonly #notify: AppNotify;
  readonly #proxy: ProxyCore;
  readonly #uac: UacCore;
  readonly #uas: UasCore;
  readonly #network: NetworkRequests;
  readonly #app: AppCommands;
  readonly #proxyIds: ProxyIdentity;
  /** CANCELs for an INVITE under way from elsewhere than the INVITE: 481 from the transaction layer (cancel-source.ts). */
  #closed = false;

  constructor(o: EngineCoreOptions) {
    this.#tl = o.transactions;
    this.#transport = o.transport;
    this.#hub = o.hub;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log;
    this.#addr = new LocalAddresses(o.transport, o.advertiseHost ?? '127.0.0.1');
    this.#names = new NameLookups({
      // Counted by the lookups themselves (nameLookupsRefused); the line is rate-limited with the core's refusals.
      onRefused: (host, max, pool) => this.#guard.log?.refused('ERR_ENGINE_DNS_LIMIT', `${max} ${pool} name lookups in flight`, host.slice(0, 255), '-',
        `name ${host.slice(0, 255)} not looked up: ${max} lookups of ${pool === 'peer' ? 'names peers supplied' : 'configured names'} in flight`),
      onTimeout: (host, ms) => this.#guard.log?.refused('ERR_ENGINE_DNS_TIMEOUT', `no answer within ${ms} ms`, host.slice(0, 255), '-',
        `name ${host.slice(0, 255)} not resolved within ${ms} ms`),
      clock: this.#clock,
      ...(o.lookup ? { lookup: o.lookup } : {}), ...(o.isConfiguredName ? { isConfigured: o.isConfiguredName } : {}),
    });
    this.#T1 = this.#tl.timerSettings.T1;
    this.#guard = new CoreGuard({
      limits: { ...(o.appAnswerTimeoutMs !== undefined ? { appAnswerTimeoutMs: o.appAnswerTimeoutMs } : {}), ...o.limits },
      log: o.log, clock: this.#clock,
      sizes: {
        server: () => this.#server.size, client: () => this.#uac.pendingCount, dialogs: () => this.#dialogs.size,
        // An app's new INVITE adds its dialog as it is sent, so only its name lookup is under way beyond the table.
        dialogsUnderWay: () => this.#server.dialogsUnderWay + this.#uac.dialogsUnderWay,
      },
    });
    const proxyIds = this.#proxyIds = new ProxyIdentity(o.proxyIdentity ?? [], (source, tenant) => this.#guard.counted(
      'proxyIdentityIgnored', 'ERR_ENGINE_PROXY_IDENTITY_UNTRUSTED', 'proxy identity header from an untrusted source', undefined,
      `proxy identity header from ${source} (tenant ${tenant ?? '-'}) removed: not a trusted proxy of that tenant`));
    this.#notify = new AppNotify(this.#hub, this.#clock);
    this.#server = new ServerRequests({
      clock: this.#clock, answerTimeoutMs: this.#guard.limits.appAnswerTimeoutMs,
      onNoAnswer: (p, ms) => {
        const text = `no answer from the application within ${ms} ms`;
        this.#guard.counted('appNoAnswer', 'ERR_ENGINE_APP_NO_ANSWER', text, p.flow, `${p.method} answered 503 by the engine: ${text}`);
        this.#app.answerForApp(p, { status: 503, phrase: 'Service Unavailable', text }, 'app-no-answer');
      },
    });
    this.#gate = new RequestGate(this.#tl, this.#guard.log);
    this.#proxiedDialogs = new ProxiedDialogs({
      clock: this.#clock, max: this.#guard.limits.maxProxiedDialogs,
      // Counted by the table itself (proxiedDialogsEvicted); the line is rate-limited with the core's other refusals.
      onEvicted: (max) => this.#guard.log?.refused('ERR_ENGINE_TABLE_FULL', `limit of ${max} proxied dialogs reached`, '-', '-',
        `proxied dialogs: the least recently used was forgotten, the limit of ${max} was reached`),
    });
    this.#tl.setUser(this);
    const transport = o.transport;
    const connections: ConnectionList | undefined = transport.connectionInfo ? { connectionInfo: (id) => transport.connectionInfo!(id) } : undefined;
    this.#uac = new UacCore({
      tl: this.#tl, send: this.#gate, hub: this.#hub, clock: this.#clock, log: this.#log, addr: this.#addr, names: this.#names, T1: this.#T1,
      dialogs: this.#dialogs, notify: this.#notify, limits: this.#guard, guard: this.#guard, connections,
    });
    this.#uas = new UasCore({
      tl: this.#tl, hub: this.#hub, clock: this.#clock, addr: this.#addr, T1: this.#T1, dialogs: this.#dialogs,
      server: this.#server, uac: this.#uac, notify: this.#notify, finalTimeoutMs: this.#guard.limits.appFinalTimeoutMs,
      merged: (request, flow, r, byApp) => {
        this.#guard.counted('mergedRequest', 'ERR_ENGINE_MERGED_REQUEST', 'merged request', flow,
          `${request.method} refused with 482: its Call-ID and From tag are those of a call under way or established (RFC 3261 §8.2.2.2)`);
        if (!byApp) o.refusals?.refused(request, flow, r.status, refusalReason(r), 'ERR_ENGINE_MERGED_REQUEST');
      },
    });
    this.#proxy = new ProxyCore({
      transactions: this.#gate, hub: this.#hub, clock: this.#clock, log: this.#log,
      now: () => this.#notify.now(),
      viaFor: (protocol) => this.#addr.viaFor(protocol),
      recordRouteFor: (protocol) => this.#addr.recordRouteFor(protocol),
      isLocal: (address, port) => this.#addr.isLocal(address, port),
      names: this.#names, connections,
      release: (p) => this.#server.clear(p),
      newTag,
      proxiedDialog: (callId, fromTag, toTag, ends) => this.#proxiedDialogs.add(callId, fromTag, toTag, ends),
      relayRefused: (request, flow, why) => this.#guard.counted('relayRefused', 'ERR_ENGINE_RELAY_REFUSED', why,
        flow, `${request.method} in a proxied dialog not relayed: ${why}`),
      relayLoop: (request, flow, target) => this.#guard.counted('relayLoop', 'ERR_ENGINE_RELAY_LOOP', `next hop ${target} is this gateway`,
        flow, `${request.method} in a proxied dialog not relayed: its next hop ${target} is this gateway`),
      tooManyHops: (request, flow) => this.#guard.counted('tooManyHops', 'ERR_ENGINE_TOO_MANY_HOPS', 'Max-Forwards reached 0', flow,
        `${request.method} not forwarded: Max-Forwards reached 0`),
      targetsRefused: (request, flow, refused, max) => this.#guard.counted('proxyTargetsRefused', 'ERR_ENGINE_TABLE_FULL',
        `limit of ${max} proxy targets reached`, flow, `${request.method}: ${refused} more proxy targets not tried, the limit of ${max} was reached`, refused),
    });
    const forApp = new RequestForApp({
      listeners: () => this.#transport.listeners(), proxyIds,
      onProxyIdentityTaken: () => { this.#guard.count.proxyIdentityTaken++; },
    });
    this.#network = new NetworkRequests({
      tl: this.#tl, hub: this.#hub, guard: this.#guard, server: this.#server, dialogs: this.#dialogs, notify: this.#notify,
      uac: this.#uac, proxy: this.#proxy, proxiedDialogs: this.#proxiedDialogs, gate: this.#gate, forApp, stages: o.stages,
      refusals: o.refusals,
    });
    this.#app = new AppCommands({
      hub: this.#hub, server: this.#server, dialogs: this.#dialogs, notify: this.#notify, uac: this.#uac, uas: this.#uas,
      proxy: this.#proxy, guard: this.#guard, stages: o.stages, log: this.#log,
    });
  }

  /** Live dialogs, pending transactions and every refusal and limit counter, for tests and the admin API. */
  stats(): Record<string, number> {
    return {
      dialogs: this.#dialogs.size, serverPending: this.#server.size, clientPending: this.#uac.pendingCount,
      invitesPending: this.#server.invites, invitesUnanswered: this.#server.unanswered, proxiedDialogs: this.#proxiedDialogs.size,
      proxiedDialogsEvicted: this.#proxiedDialogs.evicted, ...this.#names.stats(), requestUriRefused: this.#gate.refused,
      ...this.#guard.count.snapshot(),
      ...this.#hub.counters?.(),
    };
  }

  /** From now on OPTIONS to the gateway itself are answered 503 (a load balancer's probe takes it out). */
  drain(retryAfterSeconds: number): void {
    this.#network.drain({ status: 503, phrase: 'Service Unavailable', text: 'draining', retryAfter: retryAfterSeconds });
  }

  /** Retry-After of the 503s past a table cap, after a configuration reload changed it (drain keeps its own). */
  setRetryAfterSeconds(seconds: number): void {
    this.#guard.setRetryAfterSeconds(seconds);
  }

  /** The tenants' proxy identity rules after a reload of the trusted sources; requests from now on are read by them. */
  replaceProxyIdentity(tenants: ProxyIdentityTenant[]): void {
    this.#proxyIds.replace(tenants);
  }

  /**
   * Whether an in-dialog request (To tag) belongs to a dialog of the engine's or to one an app proxied. One that
   * does not, and has no server transaction yet, is answered 481 at the edge without one (edge-guard.ts).
   */
  knowsDialog(request: SipRequest): boolean {
    const callId = getHeader(request, 'call-id') ?? '';
    const toTag = tagOf(getHeader(request, 'to')) ?? '';
    const fromTag = tagOf(getHeader(request, 'from')) ?? '';
    return this.#dialogs.match(callId, toTag, fromTag) !== undefined || this.#proxiedDialogs.has(callId, fromTag, toTag);
  }

  /** Counts (and logs, rate-limited) an in-dialog request the edge answered 481 because it matched no dialog. */
  strayInDialog(request: SipRequest, flow: Flow): void {
    // A CANCEL the edge found stray because its INVITE came from elsewhere (the edge matches with the flow).
    if (request.method === 'CANCEL' && this.#tl.findInviteServerTransaction(request) !== undefined) {
      this.onCancelFromOtherSource(request, flow);
      return;
    }
    this.#guard.counted(request.method === 'CANCEL' ? 'unmatchedCancel' : 'noDialog', 'ERR_ENGINE_NO_DIALOG', 'no such dialog', flow, `${request.method} for no dialog: 481 without a transaction`);
  }

  /** New INVITEs handed to an app that has not answered them at all yet (the overload guard's queue depth). */
  unansweredInvites(): number {
    return this.#server.unanswered;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#server.list()) this.#server.clear(p);
    this.#dialogs.stopTimers();
  }

  // ---------------------------------------------------------------- transport and transaction callbacks

  onMessage(message: SipMessage, raw: Buffer, flow: Flow): void {
    if (this.#closed) return;
    // X-Trunkgate-Peer and X-Trunkgate-Route are the engine's word to its apps: a copy from the network is removed.
    stripInternal(message.headers);
    this.#tl.receive(message, raw, flow);
  }

  onRequest(request: SipRequest, flow: Flow, txn: ServerTransaction): void {
    if (request.method === 'INVITE' && this.#uas.refuseMerged(request, flow, txn)) return;
    this.#network.onRequest(request, flow, txn);
  }

  onAck(request: SipRequest, flow: Flow): void {
    this.#network.onAck(request, flow);
  }

  onStrayResponse(response: SipResponse, flow: Flow): void {
    this.#network.onStrayResponse(response, flow);
  }

  onCancelFromOtherSource(_request: SipRequest, flow: Flow): void {
    this.#guard.counted('cancelFromOtherSource', 'ERR_ENGINE_CANCEL_OTHER_SOURCE', 'CANCEL from elsewhere than its INVITE', flow,
      'CANCEL from another source than its INVITE: 481, the INVITE goes on');
  }

  onServerTransactionError(txn: ServerTransaction, error: Error): void {
    this.#log?.debug({ err: error, transaction: txn.id }, 'server transaction failed');
  }

  // ---------------------------------------------------------------- app side

  hostports(): { hostports: string[]; localHostports: string[] } {
    const list = this.#transport.listeners().map((l) => `${l.protocol}/${this.#addr.hostportOf(l)}`);
    return { hostports: list, localHostports: list };
  }

  onAppSip(cmd: AppSipCommand): void {
    this.#app.onAppSip(cmd);
  }

  onAppProxy(cmd: AppProxyCommand): void {
    this.#app.onAppProxy(cmd);
  }

  /**
   * A TCP/TLS connection was reset or failed: the confirmed dialogs that lived on it have lost their peer. Each
   * is ended as for an ACK timeout: a BYE (best effort) and an unsolicited BYE to the app with Reason
   * "Connection lost", so the app can end the other leg at once. A connection the peer closed cleanly is not a
   * loss (RFC 3261 §18 lets a later request open a new one).
   */
  onConnectionLost(connectionId: string, reason: string): void {
    if (this.#closed) return;
    for (const d of this.#dialogs.list()) {
      if (d.phase.kind === 'confirmed' && d.flow?.connectionId === connectionId) this.#uac.byeFromEngine(d, `Connection lost (${reason})`, { cause: 503, cdrCause: 'connection-lost' });
    }
  }

  /** The peer closed a connection we opened: the confirmed dialogs on it are probed (UacCore.probeDialog). */
  onConnectionClosedByPeer(connectionId: string): void {
    if (this.#closed) return;
    for (const d of this.#dialogs.list()) {
      if (d.phase.kind === 'confirmed' && d.flow?.connectionId === connectionId) this.#uac.probeDialog(d);
    }
  }

  /**
   * An app's control connection is gone. Nothing of it may linger: every request it had to answer gets 503 with
   * a Reason now, every dialog it owned is ended (BYE to a confirmed leg, CANCEL to a leg still ringing, both
   * legs of a B2BUA call being its dialogs), each with a CDR stop and a counter, and one summary log line.
   */
  onAppDisconnected(connId: string): void {
    this.#app.onAppDisconnected(connId);
  }
}
