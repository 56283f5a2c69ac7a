import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { startB2bua, type B2buaApp, type B2buaErrorCode, type B2buaOptions, type B2buaPolicy } from './b2bua/index.js';
import { startAppPool } from './b2bua/workers/app-pool.js';
import type { EngineAddresses, EngineListenerOptions, TransportLimits } from './engine/engine.js';
import type { EngineWorkerFailure } from './engine/worker-types.js';
import type { EngineTlsOptions } from './engine/engine-tls.js';
import type { SourceTrustOptions, TrustReloadResult } from './engine/source-trust.js';
import type { CoreLimits } from './engine/core/limits.js';
import type { OverloadOptions } from './engine/overload.js';
import type { EngineSnapshot } from './engine/engine-snapshot.js';
import type { ConnectionInfo, ListenerRetry } from './sip/transport/index.js';
import type { ProfileInput, ReloadResult } from './tls/index.js';
import { silentLogger, type LogStyle } from './log/index.js';
import { createCdrSink, type CdrSink, type CdrSinkOptions } from './cdr/index.js';
import { keepCallObjectsYoung, productModuleUrl } from './common/index.js';
import { prewarmB2bua } from './prewarm/b2bua-prewarm.js';
import { startEmbeddedEngine, type EmbeddedEngine } from './gateway-engine.js';
import { refusalCdrWriter } from './refusal-cdrs.js';

export interface GatewayOptions {
  /** SIP listeners of the engine. */
  listen: EngineListenerOptions[];
  /** TLS profiles (specs and PEM text) the engine builds; TLS listeners and B legs name them. */
  tls?: EngineTlsOptions;
  /** The drachtio control endpoint between the engine and the b2bua (loopback). */
  control: { host: string; port: number; secret: string };
  /**
   * Tenants, permissions and dial peers (config `b2buaPolicyFromConfig`): every call runs the policy pipeline.
   * Takes precedence over `target`.
   */
  policy?: B2buaPolicy;
  /** With a policy: how many b2bua apps take the calls (this thread's and `apps - 1` worker threads; default 1). */
  apps?: number;
  /** Trusted sources per tenant: the engine refuses new requests from any other source. Absent: no check (tests), and a reload does not start one. */
  trust?: SourceTrustOptions;
  /** The engine's bounds: its SIP core (answer times, tables) and its transport (connections, messages). */
  limits?: { core?: CoreLimits; transport?: TransportLimits; overload?: OverloadOptions };
  /** Without a policy, where the b2bua sends every call: `host:port[;transport=udp|tcp|tls]`. */
  target?: string;
  /** Without a policy: the longest a connected call lasts (gateway.calls.maxDurationSeconds); absent: no limit. */
  bridgeMaxDurationSeconds?: number;
  log?: Logger;
  /** Level of the engine worker's logger. */
  logLevel?: string;
  /** Form of the worker threads' log lines (the main thread's logger is made by the caller). */
  logStyle?: LogStyle;
  /**
   * Synthetic calls before the gateway takes any, end to end through a throwaway engine and b2bua app on loopback
   * ports (src/prewarm/b2bua-prewarm.ts): in this thread and in the engine's worker (src/engine/prewarm.ts), both
   * before the engine's listeners open, and in each app worker before it connects; default 0.
   */
  prewarmCalls?: number;
  /** Run the engine in a worker thread (default) or in this thread (tests, debugging). */
  engineInWorker?: boolean;
  /**
   * Leave V8's allocation-site pretenuring on (default false: the gateway turns it off for the whole process,
   * src/common/young-calls.ts). For comparisons only (bench/gateway-process.ts --pretenuring).
   */
  pretenuring?: boolean;
  /** Where each call's CDR goes besides its `cdr` log line (JSON-lines file, PostgreSQL); absent: the log line only. */
  cdr?: CdrSinkOptions;
}

export interface Gateway {
  addresses: EngineAddresses;
  b2bua: B2buaApp;
  /** The CDR sink (its `stats()`: records, file, database and queue counters), when the options named one. */
  cdr?: CdrSink;
  /** Hot reload of the engine's TLS profiles: validated before the swap; a bad set leaves the running one. */
  reloadTls(profiles: ProfileInput[]): Promise<ReloadResult>;
  /**
   * Hot reload of the engine's trusted sources (and its proxy identity rules): the new plan is built whole, names
   * resolved, before the swap; not ok leaves the running plan. Rejects when the engine cannot be asked.
   */
  reloadTrust(plan: SourceTrustOptions): Promise<TrustReloadResult>;
  /**
   * Tries again the tenant listeners that could not bind at start, with the spec each had then (a configuration
   * reload asks): what bound, and what still cannot. External mode has none to try: both empty.
   */
  retryListeners(): Promise<ListenerRetry>;
  /**
   * Retry-After (gateway.limits.retryAfterSeconds) of the 503s the engine sends past its limits, from now on; the
   * b2bua's call-limit and call-rate 503s take it with the policy. External mode: drachtio-server's are its own.
   */
  setRetryAfterSeconds(seconds: number): void;
  /** The engine's connection table, TLS profiles and counters (from its worker when it runs in one). */
  engineSnapshot(): Promise<EngineSnapshot>;
  /** Closes one of the engine's TCP/TLS connections (admin API): the connection as it was, or undefined when none is open by that id. */
  closeConnection(id: string): Promise<ConnectionInfo | undefined>;
  /** Disconnects the b2bua, then closes the engine. Idempotent. */
  close(): Promise<void>;
  /**
   * Graceful stop: new calls and OPTIONS to the gateway get 503 with Retry-After; calls up get `drainSeconds` to
   * end by themselves; what is left is ended with BYE and a Reason on both legs (at most 5 s more for those BYEs);
   * then close().
   */
  shutdown(o: ShutdownOptions): Promise<{ drainedAlone: boolean; ended: number }>;
  /** The engine worker died on its own (never fires for an engine in this thread). */
  onEngineFailure(listener: (f: EngineWorkerFailure) => void): void;
  /** Which engine the b2bua speaks to, and whether its control connection is up now (/health). */
  engineStatus(): EngineStatus;
}

/** The embedded engine (this process's worker), or a real drachtio-server at host:port (gateway-external.ts). */
export interface EngineStatus {
  mode: 'embedded' | 'external';
  /** The control endpoint the b2bua connects to. */
  control: string;
  /** Embedded: the engine's own worker thread, or the b2bua's main thread (gateway.engine.thread). */
  thread?: 'worker' | 'main';
  connected: boolean;
  /** What the server reported on authenticate (its SIP address). */
  hostport?: string;
  /** External: how often the control connection came up (the first time included) and how often it was lost. */
  engineConnects?: number;
  engineLosses?: number;
}

export interface ShutdownOptions {
  drainSeconds: number;
  retryAfterSeconds: number;
}

/**
 * SIGTERM's drain of the b2bua (both engine modes): new INVITEs get 503 with Retry-After, calls up or ringing get
 * `drainSeconds` to end by themselves, what is left is ended with BYE and a Reason on both legs (a call still ringing:
 * CANCEL towards the called side, 503 with the Reason to the caller), 5 s more for those.
 */
export async function drainCalls(b2bua: B2buaApp, o: ShutdownOptions, log: Logger): Promise<{ drainedAlone: boolean; ended: number }> {
  b2bua.drain(o.retryAfterSeconds);
  const drainedAlone = await within(b2bua.drained(), o.drainSeconds * 1000);
  let ended = 0;
  if (!drainedAlone) {
    ended = b2bua.endCalls('shutdown', 'SIP;cause=503;text="Gateway shutting down: call ended after the drain time"');
    log.info({ ended, drainSeconds: o.drainSeconds }, 'trunkgate: drain time over; remaining calls ended (BYE on calls up, CANCEL and 503 on calls ringing)');
    if (!(await within(b2bua.drained(), 5_000))) log.warn({ code: 'ERR_GATEWAY_DRAIN', left: b2bua.activeCalls }, 'trunkgate: calls still up after their BYEs');
  }
  return { drainedAlone, ended };
}

/** Resolves with true when `p` settles within `ms`, false otherwise. */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * The b2bua thread's warm-up, done before the engine's listeners open (no call arrives while this thread is busy with
 * it). A warm-up that fails is logged and the gateway starts without it: it only saves the first calls some latency.
 */
async function warmB2buaThread(calls: number, kind: 'policy' | 'plain', log: Logger): Promise<void> {
  try {
    const w = await prewarmB2bua({ calls, kind });
    log.info({ calls: w.calls, completed: w.completed, ms: Math.round(w.ms), gcMs: Math.round(w.gcMs) }, 'b2bua: call path warmed before the engine opens its listeners');
  } catch (e) {
    const code: B2buaErrorCode = 'ERR_B2BUA_PREWARM';
    log.warn({ code, err: e }, 'b2bua: warm-up failed; starting without it');
  }
}

/** The warm-up module app workers import (compiled beside this file, or through tsx from the sources). */
const WORKER_PREWARM_MODULE = productModuleUrl('prewarm/b2bua-prewarm').href;
/** A worker's warm-up stays well inside its 10 s to connect. */
const WORKER_PREWARM_MAX_MS = 3_000;

/** A secret for the loopback control connection, fresh on every start. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The composition root: the engine (in a worker thread by default, so SIP gets a core of its own) and the
 * b2bua drachtio-srf app in this thread, connected over the drachtio control protocol on loopback. If the b2bua
 * cannot start, the engine is closed again.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  if (options.pretenuring !== true) keepCallObjectsYoung();
  const log = options.log ?? silentLogger();
  const inWorker = options.engineInWorker ?? true;
  // The b2bua thread warms up while the engine starts (and warms its own); the engine opens its listeners after both.
  const warmed = options.prewarmCalls ? warmB2buaThread(options.prewarmCalls, options.policy ? 'policy' : 'plain', log) : undefined;
  const engineSpec = {
    listen: options.listen,
    // One control connection per b2bua app; the engine refuses any more (maxApps).
    control: { ...options.control, maxApps: options.policy ? Math.max(1, options.apps ?? 1) : 1 },
    ...(options.tls ? { tls: options.tls } : {}), ...(options.trust ? { trust: options.trust } : {}),
    ...(options.limits?.core ? { limits: options.limits.core } : {}),
    ...(options.limits?.transport ? { transportLimits: options.limits.transport } : {}),
    ...(options.limits?.overload ? { overload: options.limits.overload } : {}),
    ...(options.prewarmCalls ? { prewarmCalls: options.prewarmCalls } : {}),
  };
  // One sink for every b2bua app and for the engine's refusals: worker apps post their records to this thread, so
  // each file and table has one writer. Open before the engine, whose listeners may refuse calls at once.
  const cdr: CdrSink | undefined = options.cdr ? await createCdrSink(options.cdr, { log }) : undefined;
  let engine: EmbeddedEngine;
  try {
    engine = await startEmbeddedEngine(engineSpec, {
      inWorker, warmed, log, logLevel: options.logLevel, logStyle: options.logStyle, prewarmModule: WORKER_PREWARM_MODULE,
      onRefusalRecords: refusalCdrWriter(log.child({ component: 'engine' }), cdr),
    });
  } catch (e) {
    await cdr?.close();
    throw e;
  }
  const control = engine.addresses.control;
  let b2bua: B2buaApp;
  try {
    const onCdr = cdr ? { onCdr: cdr.write } : {};
    // The b2bua's refusals before any B leg are bounded by the same gateway.limits.refusalCdrsPerSecond as the engine's.
    const refusalCdrs = refusalCdrsOf(options);
    const engineAt = { host: control.host, port: control.port, secret: options.control.secret };
    b2bua = options.policy && (options.apps ?? 1) > 1
      ? await startAppPool({
        engine: engineAt, policy: options.policy, apps: options.apps!, logLevel: options.logLevel ?? 'info', ...(options.logStyle ? { logStyle: options.logStyle } : {}), log, ...onCdr, ...refusalCdrs,
        // Each app worker warms up as this thread did, before it connects (src/prewarm/b2bua-prewarm.ts, by URL).
        ...(options.prewarmCalls ? { prewarm: { module: WORKER_PREWARM_MODULE, calls: options.prewarmCalls, maxMs: WORKER_PREWARM_MAX_MS } } : {}),
      })
      : await startB2bua({
        engine: engineAt,
        ...bridgeOrPolicy(options),
        log, ...onCdr, ...refusalCdrs,
      });
  } catch (e) {
    await engine.close();
    await cdr?.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await b2bua.close();
      await engine.close();
      // Last: the CDRs of calls the close ended are written, then the file and the database let go.
      await cdr?.close();
    })();
    return closing;
  };
  return {
    addresses: engine.addresses,
    b2bua,
    ...(cdr ? { cdr } : {}),
    reloadTls: (p) => engine.reloadTls(p),
    reloadTrust: (plan) => engine.reloadTrust(plan),
    retryListeners: async () => {
      const r = await engine.retryListeners();
      // The admin API lists the listeners from here: one bound now joins them.
      engine.addresses.sip.push(...r.bound);
      return r;
    },
    setRetryAfterSeconds: (s) => engine.setRetryAfterSeconds(s),
    engineSnapshot: () => engine.snapshot(),
    closeConnection: (id) => engine.closeConnection(id),
    close,
    shutdown: async (o) => {
      // OPTIONS get 503 too, so a dispatcher in front takes this instance out at its next probe.
      engine.drain(o.retryAfterSeconds);
      const drained = await drainCalls(b2bua, o, log);
      await close();
      return drained;
    },
    onEngineFailure: (l) => engine.onFailure?.(l),
    engineStatus: () => ({
      mode: 'embedded', control: `${control.host}:${control.port}`, thread: inWorker ? 'worker' : 'main', connected: true, hostport: b2bua.hostport,
    }),
  };
}

/** gateway.limits.refusalCdrsPerSecond for the b2bua apps, when the options give it (with the engine's transport limits). */
export function refusalCdrsOf(o: Pick<GatewayOptions, 'limits'>): Pick<B2buaOptions, 'refusalCdrsPerSecond'> {
  const perSecond = o.limits?.transport?.refusalCdrsPerSecond;
  return perSecond !== undefined ? { refusalCdrsPerSecond: perSecond } : {};
}

/** What the b2bua routes by: the policy, or the plain bridge's target and its calls' longest duration. */
export function bridgeOrPolicy(o: Pick<GatewayOptions, 'policy' | 'target' | 'bridgeMaxDurationSeconds'>): Pick<B2buaOptions, 'policy' | 'target' | 'bridgeMaxDurationSeconds'> {
  if (o.policy) return { policy: o.policy };
  return { ...(o.target !== undefined ? { target: o.target } : {}), ...(o.bridgeMaxDurationSeconds ? { bridgeMaxDurationSeconds: o.bridgeMaxDurationSeconds } : {}) };
}
