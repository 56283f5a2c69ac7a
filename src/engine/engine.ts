import type { Logger } from 'pino';
import type { SecureContextOptions } from 'node:tls';
import { afterInputClock, DEFAULT_RETRY_AFTER_SECONDS, systemClock } from '../common/index.js';
import { silentLogger } from '../log/index.js';
import { TransactionLayer } from '../sip/transaction/index.js';
import { TransportLayer, type ListenerRetry, type TransportUser } from '../sip/transport/index.js';
import { AppRegistry } from './app-registry.js';
import { ControlServer, DEFAULT_CONTROL_PORT } from './control-server.js';
import { warmEngineThread, type LoopbackWarmUp } from './prewarm.js';
import { EngineCore as SipCore } from './core/index.js';
import { EngineTls } from './engine-tls.js';
import { listenerSpecs, transportLimitOptions, udpListenerQueue } from './engine-listeners.js';
import type { ProfileInput, ReloadResult } from '../tls/index.js';
import { SourceTrust, type SourceTrustOptions, type TrustReloadResult } from './source-trust.js';
import type { ProxyIdentityTenant } from './core/proxy-identity.js';
import { SourceRate } from './source-rate.js';
import { edgeGuard } from './edge-guard.js';
import { OverloadGuard } from './overload.js';
import { LoadSampler } from './load-sampler.js';
import { StageTimes } from './core/stage-times.js';
import { ThreadLoad } from '../common/thread-load.js';
import { RefusalRecords } from './refusal-records.js';

export type { ClosableEngineCore, EngineAddresses, EngineControlOptions, EngineCoreDeps, EngineListenerOptions, EngineOptions, EngineState, TransportLimits } from './engine-options.js';
import type { ClosableEngineCore, EngineAddresses, EngineCoreDeps, EngineOptions, EngineState } from './engine-options.js';

/**
 * The trunkgate engine: SIP transport, transactions, the SIP core and the drachtio control server, composed.
 * Build, then listen: the constructor binds nothing; start() opens the SIP listeners first (the hostports apps
 * are told on authenticate come from them), then the control listener. close() is idempotent and cascades:
 * control connections, then the core, transactions and sockets.
 */
export class Engine {
  readonly registry: AppRegistry;
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly core: ClosableEngineCore;
  readonly control: ControlServer;
  /** The TLS profiles, when the engine was given any. */
  readonly tls: EngineTls | undefined;
  /** Who may send new requests, when the engine was given trusted sources. */
  readonly trust: SourceTrust | undefined;
  /** New requests per second per source. */
  readonly rate: SourceRate;
  /** Sheds new INVITEs under overload. */
  readonly overload: OverloadGuard;
  /** Per-stage timings of this thread (core/stage-times.ts). */
  readonly stages: StageTimes;
  /** This thread's event-loop busy time and garbage collection. */
  readonly threadLoad = new ThreadLoad();
  /** The records of new INVITEs refused here, for their CDRs. */
  readonly refusalRecords: RefusalRecords;
  readonly #load: LoadSampler;
  readonly #log: Logger;
  /**
   * Tenant of each listener, by listener id, from the specs: known before any binds, since a listener receives as
   * soon as it is bound, while the others still bind (transport-layer.ts `start`) or on a retry.
   */
  readonly #listenerTenants: ReadonlyMap<string, string | undefined>;
  #state: EngineState = 'new';
  #addresses: EngineAddresses | undefined;
  #closing: Promise<void> | undefined;
  /** Host names of the trust plan (the tenants' and dial peers' targets): the core looks them up in a pool of their own. */
  #configuredNames: ReadonlySet<string>;
  readonly #prewarmCalls: number;
  readonly #loopbackWarmUp: LoopbackWarmUp | undefined;
  readonly #listenWhen: Promise<unknown> | undefined;
  #retryAfterSeconds: number;

  constructor(options: EngineOptions) {
    this.#prewarmCalls = options.prewarmCalls ?? 0;
    this.#loopbackWarmUp = options.loopbackWarmUp;
    this.#listenWhen = options.listenWhen;
    this.#retryAfterSeconds = options.limits?.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    const log = options.log ?? silentLogger();
    const clock = options.clock ?? systemClock;
    // The protocol's timers (transport, transactions, core) yield to input already received, also to datagrams the
    // kernel holds while the engine is behind (the overload guard's last reading of that queue); the overload guard
    // keeps the plain clock, since the lateness of its own sampling timer is what it measures.
    let backlogMs = (): number => 0;
    const sipClock = options.clock ?? afterInputClock(systemClock, { backlogMs: () => backlogMs() });
    this.#log = log;
    const tls = options.tls ? new EngineTls(options.tls, log.child({ component: 'tls' })) : undefined;
    this.tls = tls;
    const listeners = listenerSpecs(options.listen, tls);
    this.#listenerTenants = new Map(listeners.map((l) => [l.id, l.tenant]));
    const tl = options.transportLimits ?? {};
    const stages = this.stages = new StageTimes();
    const records = this.refusalRecords = new RefusalRecords({
      deliver: options.onRefusalRecords, clock, log: log.child({ component: 'refusal-cdr' }),
      ...(tl.refusalCdrsPerSecond !== undefined ? { perSecond: tl.refusalCdrsPerSecond } : {}),
    });
    this.transport = new TransportLayer({
      listeners, log: log.child({ component: 'transport' }), clock: sipClock, stages,
      ...transportLimitOptions(tl),
      ...(tls ? { tlsClientOptions: tls.clientOptions, tenantForServername: (sn: string) => tls.tenantForServername(sn) } : {}),
    });
    this.transactions = new TransactionLayer({
      transport: this.transport, clock: sipClock, log: log.child({ component: 'transaction' }),
      ...(options.timers ? { timers: options.timers } : {}),
      ...(tl.maxTransactions !== undefined ? { maxTransactions: tl.maxTransactions } : {}),
      ...(tl.maxTransactionWaits !== undefined ? { maxWaiting: tl.maxTransactionWaits } : {}),
      onRefusedAtCap: (request, flow, reason) => records.refused(request, flow, 503, reason, 'ERR_SIP_TRANSACTION_LIMIT'),
    });
    this.transactions.setRetryAfterSeconds(this.#retryAfterSeconds);
    this.transport.on('badRequest', (r) => records.badRequest(r));
    // A TLS 1.3 server may refuse our client certificate after we sent on the connection: fail those requests now.
    this.transport.on('flowFailed', (connectionId, err) => void this.transactions.failFlow(connectionId, err));
    this.registry = new AppRegistry({ log: log.child({ component: 'control' }) });
    this.#configuredNames = configuredNames(options.trust);
    const deps: EngineCoreDeps = { hub: this.registry, transport: this.transport, transactions: this.transactions, clock: sipClock, log };
    const sipCore = options.createCore ? undefined : new SipCore({
      ...deps, log: log.child({ component: 'core' }), ...(options.limits ? { limits: options.limits } : {}), stages,
      proxyIdentity: proxyIdentityRules(options.trust), refusals: records, isConfiguredName: (name) => this.#configuredNames.has(name),
    });
    const core: ClosableEngineCore = sipCore ?? options.createCore!(deps);
    this.core = core;
    // A reset TCP/TLS connection ends the dialogs on it (the app hears an unsolicited BYE and ends the other leg);
    // one we opened that the peer closed has its dialogs probed.
    this.transport.on('connectionClose', (info, reason) => {
      if (reason.startsWith('error')) core.onConnectionLost?.(info.id, reason);
      else if (reason === 'peer closed' && info.direction === 'outbound') core.onConnectionClosedByPeer?.(info.id);
    });
    // The core sits on the transport (it passes messages down to the transaction layer) and is the TU.
    const user: TransportUser = isTransportUser(core) ? core : { onMessage: (m, raw, flow) => this.transactions.receive(m, raw, flow) };
    this.trust = options.trust ? new SourceTrust(options.trust, { log: log.child({ component: 'trust' }), clock }) : undefined;
    this.rate = new SourceRate({
      ...(tl.requestsPerSecondPerSource !== undefined ? { ratePerSecond: tl.requestsPerSecondPerSource } : {}),
      ...(tl.requestBurstPerSource !== undefined ? { burst: tl.requestBurstPerSource } : {}),
      ...(tl.overRate !== undefined ? { action: tl.overRate } : {}),
    }, { log: log.child({ component: 'rate' }), clock });
    const overload = new OverloadGuard(options.overload ?? {}, {
      log: log.child({ component: 'overload' }), clock, unansweredInvites: () => core.unansweredInvites?.() ?? 0,
    });
    this.overload = overload;
    backlogMs = () => overload.receiveQueueMs;
    this.#load = new LoadSampler((w) => overload.window(w), {
      queue: udpListenerQueue(() => this.#addresses?.sip, log),
      datagramsRead: () => this.transport.stats().datagramsIn,
    });
    const retryAfter = (): number => this.#retryAfterSeconds; // the edge guard reads it at each refusal: a reload changes it
    this.transport.setUser(edgeGuard(user, {
      transport: this.transport, transactions: this.transactions, trust: this.trust, rate: this.rate, overload: this.overload,
      listenerTenant: (id) => this.#listenerTenants.get(id), get retryAfterSeconds() { return retryAfter(); }, dialogs: sipCore ?? core,
      records,
    }));
    this.control = new ControlServer({
      core: this.core,
      registry: this.registry,
      secret: options.control.secret,
      host: options.control.host ?? '127.0.0.1',
      port: options.control.port ?? DEFAULT_CONTROL_PORT,
      log,
      clock,
      ...(options.control.maxFrameBytes !== undefined ? { maxFrameBytes: options.control.maxFrameBytes } : {}),
      ...(options.control.maxApps !== undefined ? { maxApps: options.control.maxApps } : {}),
      ...(options.control.maxSendBufferBytes !== undefined ? { maxSendBufferBytes: options.control.maxSendBufferBytes } : {}),
    });
  }

  readonly #applyTls = (id: string, context: SecureContextOptions, requestCert: boolean): void =>
    this.transport.setListenerSecureContext(id, context, { requestCert });

  get state(): EngineState {
    return this.#state;
  }

  addresses(): EngineAddresses | undefined {
    return this.#addresses;
  }

  /** Opens the SIP listeners, then the control listener. On failure, closes what opened and rethrows. */
  async start(): Promise<EngineAddresses> {
    if (this.#state !== 'new') throw new Error(`Engine.start: engine is ${this.#state}`);
    this.#state = 'starting';
    try {
      await this.trust?.start();
      if (this.#prewarmCalls > 0) await warmEngineThread(this.#prewarmCalls, this.#loopbackWarmUp, this.#log);
      if (this.#listenWhen) await this.#listenWhen;
      const sip = await this.transport.start();
      const control = await this.control.listen();
      this.#addresses = { sip, control };
    } catch (e) {
      await this.close();
      throw e;
    }
    this.#state = 'started';
    this.#log.info({
      sip: this.#addresses.sip.map((l) => `${l.protocol}/${l.address}:${l.port}`),
      control: `${this.#addresses.control.host}:${this.#addresses.control.port}`,
    }, 'engine started');
    return this.#addresses;
  }

  /**
   * The gateway stops taking calls (SIGTERM): from now on an OPTIONS to the gateway itself is answered 503 with
   * Retry-After and a Reason, so a dispatcher's probe marks this instance down while its calls drain.
   */
  drain(retryAfterSeconds: number): void {
    this.core.drain?.(retryAfterSeconds);
  }

  /**
   * Retry-After (gateway.limits.retryAfterSeconds, reloadable) of every 503 the engine sends past a table cap (the
   * transaction layer's too), a source's rate, overload or an app's silence; drain keeps its own.
   */
  setRetryAfterSeconds(seconds: number): void {
    this.#retryAfterSeconds = seconds;
    this.transactions.setRetryAfterSeconds(seconds);
    this.core.setRetryAfterSeconds?.(seconds);
  }

  /**
   * Hot reload of the TLS profiles: all are built and validated first; only then swapped, with each profile
   * listener given its new default context. New handshakes use them; live connections and calls go on.
   */
  reloadTls(profiles: ProfileInput[]): ReloadResult {
    if (!this.tls) return { ok: false, version: 0, problems: [{ profile: '-', code: 'ERR_TLS_PROFILE_INVALID', reason: 'the engine was started without TLS profiles' }] };
    // A listener that could not bind at start has no context to swap: it takes the profiles in force when it binds.
    const down = new Set(this.transport.failedListeners().map((f) => f.id));
    return this.tls.reload(profiles, (id, context, requestCert) => { if (!down.has(id)) this.#applyTls(id, context, requestCert); });
  }

  /**
   * Hot reload of the trusted sources (a configuration reload): the new plan's host names are resolved and its lists
   * built before the swap; the source check and the core's proxy identity rules change in one step, so a new request
   * meets the old plan or the new one, whole. Calls and dialogs up go on. An engine started without trusted sources
   * checks none and stays so (not enforced): a restart with them starts the check.
   */
  async reloadTrust(plan: SourceTrustOptions): Promise<TrustReloadResult> {
    if (!this.trust) return { ok: false, enforced: false, code: 'ERR_ENGINE_WORKER', reason: 'the engine was started without trusted sources: it checks none' };
    if (this.#state === 'closed') return { ok: false, enforced: true, code: 'ERR_ENGINE_WORKER', reason: 'the engine is closed' };
    const r = await this.trust.replace(plan, () => {
      this.core.replaceProxyIdentity?.(proxyIdentityRules(plan));
      this.#configuredNames = configuredNames(plan);
    });
    return { ok: true, ...r };
  }

  /**
   * Tries again the tenant listeners that could not bind at start (a configuration reload), each with the spec it
   * had then: one that binds serves its tenant from now on; one that still cannot stays down with its new error.
   */
  async retryListeners(): Promise<ListenerRetry> {
    if (this.#state !== 'started') return { bound: [], stillFailed: this.transport.failedListeners() };
    const r = await this.transport.retryFailedListeners();
    for (const l of r.bound) {
      try {
        if (l.protocol === 'tls') this.tls?.reapply(l.id, this.#applyTls);
      } catch (e) {
        this.#log.error({ err: e, listener: l.id }, 'engine: a TLS listener bound on retry keeps the profiles it was built with at start');
      }
    }
    if (r.bound.length > 0 && this.#addresses) this.#addresses = { ...this.#addresses, sip: this.transport.listeners() };
    return r;
  }

  /** Closes everything; idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state = 'closed';
    this.#closing = (async () => {
      await this.control.close();
      try {
        await this.core.close?.();
      } catch (e) {
        this.#log.error({ err: e }, 'engine: core close failed');
      }
      this.transactions.close();
      // What was refused up to here still goes to the gateway, before the engine says it closed.
      this.refusalRecords.close();
      this.trust?.close();
      this.#load.close();
      this.threadLoad.close();
      await this.transport.close();
    })();
    return this.#closing;
  }
}

/** Every host name a trust plan's tenants name, in lower case. */
function configuredNames(plan: SourceTrustOptions | undefined): Set<string> {
  return new Set((plan?.tenants ?? []).flatMap((t) => t.hosts.map((h) => h.toLowerCase())));
}

/** The proxy identity rules of a trust plan's tenants (proxy-identity.ts). */
function proxyIdentityRules(plan: SourceTrustOptions | undefined): ProxyIdentityTenant[] {
  return (plan?.tenants ?? []).flatMap((t) => t.proxyIdentity ? [{ tenant: t.name, ...t.proxyIdentity }] : []);
}

function isTransportUser(core: object): core is TransportUser {
  return typeof (core as Partial<TransportUser>).onMessage === 'function';
}

/** Builds, starts and returns an engine; on failure nothing is left listening. */
export async function startEngine(options: EngineOptions): Promise<Engine> {
  const engine = new Engine(options);
  await engine.start();
  return engine;
}
