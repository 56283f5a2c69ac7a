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
import { mergedRefusals } from './merged-requests.js';
import { timerCLine } from './proxy-timers.js';
import { EdgeDialogs } from './edge-dialogs.js';
import { connectionClosedByPeer, connectionLost } from './connection-loss.js';
import { nameLookupLines, proxiedEvictedLine, proxyIdentityIgnoredLine, proxyRefusalLines } from './core-lines.js';
import type { DialogPeer } from './dialog-peer.js';
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
  readonly #edge: EdgeDialogs;
  #closed = false;

  constructor(o: EngineCoreOptions) {
    this.#tl = o.transactions;
    this.#transport = o.transport;
    this.#hub = o.hub;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log;
    this.#addr = new LocalAddresses(o.transport, o.advertiseHost ?? '127.0.0.1');
    this.#names = new NameLookups({
      ...nameLookupLines(() => this.#guard),
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
    const proxyIds = this.#proxyIds = new ProxyIdentity(o.proxyIdentity ?? [], proxyIdentityIgnoredLine(this.#guard));
    this.#notify = new AppNotify(this.#hub, this.#clock);
    this.#server = new ServerRequests({
      clock: this.#clock, answerTimeoutMs: this.#guard.limits.appAnswerTimeoutMs,
      onNoAnswer: (p, ms) => {
        const text = `no answer from the application within ${ms} ms`;
        this.#guard.counted('appNoAnswer', 'ERR_ENGINE_APP_NO_ANSWER', text, p.flow, `${p.method} answered 503 by the engine: ${text}`);
        this.#app.answerForApp(p, this.#guard.busy(text), 'app-no-answer');
      },
      merged: {
        lingerMs: 64 * this.#tl.timerSettings.T1 + this.#tl.timerSettings.T4, maxEnded: this.#guard.limits.maxServerTransactions,
        onForgotten: (max) => this.#guard.counted('mergedIndexFull', 'ERR_ENGINE_TABLE_FULL', `limit of ${max} ended requests reached`, undefined,
          `merged requests: the oldest ended request was forgotten, the limit of ${max} was reached`),
      },
    });
    this.#gate = new RequestGate(this.#tl, this.#guard.log);
    this.#proxiedDialogs = new ProxiedDialogs({
      clock: this.#clock, max: this.#guard.limits.maxProxiedDialogs,
      onEvicted: proxiedEvictedLine(this.#guard),
    });
    this.#tl.setUser(this);
    this.#edge = new EdgeDialogs({
      dialogs: this.#dialogs, proxied: this.#proxiedDialogs, tl: this.#tl, guard: this.#guard,
      cancelFromOtherSource: (request, flow) => this.onCancelFromOtherSource(request, flow),
    });
    const transport = o.transport;
    const connections: ConnectionList | undefined = transport.connectionInfo ? { connectionInfo: (id) => transport.connectionInfo!(id) } : undefined;
    this.#uac = new UacCore({
      tl: this.#tl, send: this.#gate, hub: this.#hub, clock: this.#clock, log: this.#log, addr: this.#addr, names: this.#names, T1: this.#T1,
      dialogs: this.#dialogs, notify: this.#notify, limits: this.#guard, guard: this.#guard, connections,
    });
    this.#uas = new UasCore({
      tl: this.#tl, hub: this.#hub, clock: this.#clock, addr: this.#addr, T1: this.#T1, dialogs: this.#dialogs,
      server: this.#server, uac: this.#uac, notify: this.#notify, finalTimeoutMs: this.#guard.limits.appFinalTimeoutMs,
      merged: mergedRefusals(this.#guard, o.refusals), guard: this.#guard, answerForApp: (p, r, cdrCause) => this.#app.answerForApp(p, r, cdrCause),
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
      ...proxyRefusalLines(this.#guard), timerC: timerCLine(this.#guard),
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
   * Who may send in the dialog an in-dialog request names (edge-dialogs.ts): a dialog of the engine's or one an app
   * proxied. Undefined when it names none: such a request with no server transaction yet is answered 481 at the edge
   * without one (edge-guard.ts).
   */
  dialogPeer(request: SipRequest): DialogPeer | undefined {
    return this.#edge.peer(request);
  }

  /** Counts (and logs, rate-limited) an in-dialog request the edge answered 481 because it matched no dialog. */
  strayInDialog(request: SipRequest, flow: Flow): void {
    this.#edge.stray(request, flow);
  }

  /** Counts (and logs, rate-limited) an in-dialog request or ACK the edge refused: not from its dialog's peer. */
  dialogSourceRefused(request: SipRequest, flow: Flow, tenant: string | undefined): void {
    this.#edge.sourceRefused(request, flow, tenant);
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
    if (request.method !== 'CANCEL' && this.#uas.refuseMerged(request, flow, txn)) return;
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

  /** A TCP/TLS connection was reset or failed: its confirmed dialogs end (connection-loss.ts). */
  onConnectionLost(connectionId: string, reason: string): void {
    if (!this.#closed) connectionLost(this.#dialogs, this.#uac, connectionId, reason);
  }

  /** The peer closed a connection we opened: its confirmed dialogs are probed (connection-loss.ts). */
  onConnectionClosedByPeer(connectionId: string): void {
    if (!this.#closed) connectionClosedByPeer(this.#dialogs, this.#uac, connectionId);
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
