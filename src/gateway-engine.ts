import type { Logger } from 'pino';
import { startEngine, type Engine, type EngineAddresses, type EngineControlOptions, type EngineListenerOptions, type TransportLimits } from './engine/engine.js';
import { startEngineWorker } from './engine/worker.js';
import type { EngineWorkerHandle } from './engine/worker-types.js';
import type { EngineTlsOptions } from './engine/engine-tls.js';
import type { SourceTrustOptions, TrustReloadResult } from './engine/source-trust.js';
import type { CoreLimits } from './engine/core/limits.js';
import type { OverloadOptions } from './engine/overload.js';
import type { RefusalRecord } from './engine/refusal-record.js';
import { engineSnapshot, type EngineSnapshot } from './engine/engine-snapshot.js';
import { closeConnectionByAdmin } from './engine/close-connection.js';
import type { ConnectionInfo, ListenerRetry } from './sip/transport/index.js';
import type { ProfileInput, ReloadResult } from './tls/index.js';
import type { LogStyle } from './log/index.js';

/** The embedded engine as the gateway drives it, whichever thread it runs in. */
export interface EmbeddedEngine {
  addresses: EngineAddresses;
  reloadTls(p: ProfileInput[]): Promise<ReloadResult>;
  snapshot(): Promise<EngineSnapshot>;
  close(): Promise<void>;
  reloadTrust(plan: SourceTrustOptions): Promise<TrustReloadResult>;
  retryListeners(): Promise<ListenerRetry>;
  closeConnection(id: string): Promise<ConnectionInfo | undefined>;
  drain(retryAfterSeconds: number): void;
  setRetryAfterSeconds(seconds: number): void;
  /** Only for an engine in its own worker: that worker died on its own. */
  onFailure?: EngineWorkerHandle['onFailure'];
}

/** What the engine is built from: plain data, the same for both threads. */
export interface EmbeddedEngineSpec {
  listen: EngineListenerOptions[];
  control: EngineControlOptions;
  tls?: EngineTlsOptions;
  trust?: SourceTrustOptions;
  limits?: CoreLimits;
  transportLimits?: TransportLimits;
  overload?: OverloadOptions;
  prewarmCalls?: number;
}

/**
 * Starts the embedded engine in a worker thread of its own (`inWorker`, the default) or in this thread after
 * `warmed` (this thread's own warm-up), and hands the records of the new INVITEs it refuses to `onRefusalRecords`
 * in this thread, from the moment its listeners open.
 */
export async function startEmbeddedEngine(spec: EmbeddedEngineSpec, o: {
  inWorker: boolean; warmed: Promise<void> | undefined; log: Logger; logLevel?: string | undefined; logStyle?: LogStyle | undefined;
  /** The module the engine's thread warms up through loopback sockets with (prewarm.ts), when there is a warm-up. */
  prewarmModule: string;
  onRefusalRecords: (records: RefusalRecord[]) => void;
}): Promise<EmbeddedEngine> {
  if (o.inWorker) {
    const w = await startEngineWorker({
      ...spec, ...(o.logLevel ? { logLevel: o.logLevel } : {}), ...(o.logStyle ? { logStyle: o.logStyle } : {}),
      // The engine's thread warms up through loopback sockets with the same module as the app workers (prewarm.ts).
      ...(spec.prewarmCalls ? { prewarmModule: o.prewarmModule } : {}),
    }, o.warmed, o.onRefusalRecords);
    return {
      addresses: w.ports, reloadTls: w.reloadTls, snapshot: w.snapshot, close: w.close, onFailure: w.onFailure, closeConnection: w.closeConnection,
      drain: w.drain, reloadTrust: w.reloadTrust, retryListeners: w.retryListeners, setRetryAfterSeconds: w.setRetryAfterSeconds,
    };
  }
  // One thread for both: the b2bua's warm-up first, then the engine's.
  await o.warmed;
  const e: Engine = await startEngine({ ...spec, log: o.log, onRefusalRecords: o.onRefusalRecords });
  return {
    addresses: e.addresses()!, reloadTls: (p) => Promise.resolve(e.reloadTls(p)), snapshot: () => Promise.resolve(engineSnapshot(e)), close: () => e.close(),
    reloadTrust: (plan) => e.reloadTrust(plan), retryListeners: () => e.retryListeners(),
    closeConnection: (id) => Promise.resolve(closeConnectionByAdmin(e, id, o.log.child({ thread: 'engine' }))),
    drain: (s) => e.drain(s), setRetryAfterSeconds: (s) => e.setRetryAfterSeconds(s),
  };
}
