import type { Worker } from 'node:worker_threads';
import type { LogStyle } from '../log/index.js';
import type { TimerSettings } from '../sip/transaction/index.js';
import type { ConnectionInfo, ListenerRetry } from '../sip/transport/index.js';
import type { ProfileInput, ReloadResult } from '../tls/index.js';
import type { EngineAddresses, EngineControlOptions, EngineListenerOptions, TransportLimits } from './engine.js';
import type { EngineTlsOptions } from './engine-tls.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import type { CoreLimits } from './core/limits.js';
import type { OverloadOptions } from './overload.js';
import type { SourceTrustOptions, TrustReloadResult } from './source-trust.js';

// What the engine worker (worker.ts) is given, what its starter gets back, and how it can fail.

/** Engine options that cross a thread boundary (structured clone): no functions, no logger, no SecureContext. */
export interface EngineWorkerOptions {
  listen: EngineListenerOptions[];
  control: EngineControlOptions;
  /** TLS profiles as specs and PEM text; the worker builds the SecureContexts itself. */
  tls?: EngineTlsOptions;
  timers?: Partial<TimerSettings>;
  /** Answer times and table caps of the SIP core (defaults in core/limits.ts). */
  limits?: CoreLimits;
  /** Trusted sources per tenant (see source-trust.ts). */
  trust?: SourceTrustOptions;
  /** Bounds of the SIP transport (connections, handshakes, message time and size). */
  transportLimits?: TransportLimits;
  /** Overload control for new INVITEs (see overload.ts). */
  overload?: OverloadOptions;
  /** Synthetic calls run before the listeners open (see prewarm.ts). */
  prewarmCalls?: number;
  /** URL of the module whose `prewarmB2bua` carries them through loopback sockets in the worker (prewarm.ts loopbackWarmUpFrom). */
  prewarmModule?: string;
  /** The listeners wait for a `listen` message (startEngineWorker's `listenWhen`). */
  holdListeners?: boolean;
  /** The engine records the new INVITEs it refuses and posts them to the starter (startEngineWorker's `onRefusalRecords`). */
  refusalRecords?: boolean;
  /** pino level of the worker's own logger (default info; main.ts passes TRUNKGATE_LOG_LEVEL, checked). */
  logLevel?: string;
  /** Its log form (the main thread's: pretty on a terminal). */
  logStyle?: LogStyle;
  /** Bound on the engine's start and close inside the worker (default 10,000 ms). */
  timeoutMs?: number;
}

export interface EngineWorkerHandle {
  ports: EngineAddresses;
  worker: Worker;
  /**
   * Hot reload of the TLS profiles inside the worker: built and validated there before the swap; a bad set
   * leaves the running one and comes back with its problems.
   */
  reloadTls(profiles: ProfileInput[]): Promise<ReloadResult>;
  /**
   * Hot reload of the trusted sources inside the worker (Engine.reloadTrust): host names resolved and lists built
   * there before the swap; the running plan stays unless the answer is ok.
   */
  reloadTrust(plan: SourceTrustOptions): Promise<TrustReloadResult>;
  /**
   * Tries again inside the worker the tenant listeners that could not bind at start (Engine.retryListeners): what
   * bound, and what still cannot with its new OS error.
   */
  retryListeners(): Promise<ListenerRetry>;
  /** The connection table, TLS profiles and counters, copied inside the worker (admin API). */
  snapshot(): Promise<EngineSnapshot>;
  /** Closes one TCP/TLS connection (admin API): the connection as it was, or undefined when none is open by that id. */
  closeConnection(id: string): Promise<ConnectionInfo | undefined>;
  /** The gateway drains: OPTIONS to it get 503 from now on (Engine.drain). */
  drain(retryAfterSeconds: number): void;
  /** Retry-After of the engine's 503s past its limits, from a configuration reload (Engine.setRetryAfterSeconds). */
  setRetryAfterSeconds(seconds: number): void;
  /** Closes the engine, then lets the worker end (terminated if it lingers). Idempotent. */
  close(): Promise<void>;
  /**
   * The worker died after start (an uncaught error in it, or it exited) while nobody had asked it to close:
   * `listener` gets the coded failure once. SIP is gone at that point; the process should end non-zero so a
   * service manager restarts it.
   */
  onFailure(listener: (failure: EngineWorkerFailure) => void): void;
}

export type EngineWorkerErrorCode = 'ERR_ENGINE_WORKER' | 'ERR_ENGINE_WORKER_CRASHED' | 'ERR_ENGINE_WORKER_EXITED';

/** How the engine worker died after start. */
export interface EngineWorkerFailure {
  code: Extract<EngineWorkerErrorCode, 'ERR_ENGINE_WORKER_CRASHED' | 'ERR_ENGINE_WORKER_EXITED'>;
  message: string;
  exitCode?: number;
  err?: unknown;
}
