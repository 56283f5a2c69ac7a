import type { B2buaStatsSnapshot } from '../b2bua/start-b2bua.js';
import type { EngineSnapshot } from '../engine/engine-snapshot.js';
import type { ConfigReloadReport, TlsReloadReport } from '../gateway-reload.js';
import type { CertificateRow } from '../certificate-inventory.js';
import type { PkiService } from '../certificate-ops/index.js';
import type { TlsProbeReport } from '../tls/probe.js';
import type { ThreadLoadSnapshot } from '../common/thread-load.js';
import type { CdrSinkStats } from '../cdr/index.js';
import type { CallList, HangUpResult } from '../b2bua/active-calls.js';
import type { ConnectionInfo, ListenerInfo } from '../sip/transport/index.js';
import type { ConfigStore } from '../config/write/index.js';

/**
 * What the admin API reads and asks of the running gateway. The composition root (main.ts) wires these to
 * the gateway and its reloader; tests may pass fakes. The admin layer imports no service, only these types.
 */
export interface AdminServices {
  /** The engine's connection table, TLS profiles and counters (from the engine worker). */
  engineSnapshot(): Promise<EngineSnapshot>;
  /**
   * Which engine the b2bua speaks to (/health). External (a real drachtio-server): the routes that read or act on
   * the embedded engine answer 501 ERR_ADMIN_ENGINE_EXTERNAL, and /stats, /trunks and /metrics leave its part out.
   */
  engine?(): AdminEngineStatus;
  /** Closes one of the engine's TCP/TLS connections: the connection as it was, or undefined when none is open by that id. */
  closeConnection?(id: string): Promise<ConnectionInfo | undefined>;
  /** The SIP listeners that are bound (those that could not bind are in the engine's snapshot). */
  listeners?(): readonly ListenerInfo[];
  /** The live calls of every b2bua app, at most `limit`, oldest answer first. */
  listCalls?(limit: number): Promise<CallList>;
  /** Ends one call by its id: BYE on both legs, its CDR with cause `admin`. */
  hangUpCall?(id: string): Promise<HangUpResult>;
  /** The b2bua's call, policy and OPTIONS-ping counters. */
  b2buaStats(): B2buaStatsSnapshot;
  /** The b2bua thread's event-loop busy time and garbage collection. */
  appThread?(): ThreadLoadSnapshot;
  /** The CDR sinks' counters (file, database, on-disk queue), when the gateway writes CDRs. */
  cdr?(): CdrSinkStats;
  /** Rebuilds the TLS profiles from their files. */
  reloadTls(): Promise<TlsReloadReport>;
  /** Reads the profiles directory again and applies it, or keeps the running configuration. */
  reloadConfig(): Promise<ConfigReloadReport>;
  /** Configuration reloads since start (SIGHUP, `trunkgate reload`, the API), by trigger and outcome. */
  configReloads?(): Record<string, Record<string, number>>;
  /** TLS profile reloads since start (the file watch, `trunkgate reload --tls`, the API, a configuration reload's TLS part), by trigger and outcome. */
  tlsReloads?(): Record<string, Record<string, number>>;
  /** Every configured certificate (trustpoints and trust stores) with its expiry, as last checked. */
  certificates?(): readonly CertificateRow[];
  /** `trunkgate tls probe` from the running gateway, with a profile of its running configuration. */
  probeTls?(req: TlsProbeRequest): Promise<TlsProbeReport>;
  /** `trunkgate pki` on the running configuration's trustpoints and trust stores: CA export, CSR, import, trust. */
  pki?: PkiService;
  /** The configuration objects in profiles/: read, and written through validation and the reload path. */
  configStore?: Pick<ConfigStore, 'list' | 'get' | 'create' | 'replace' | 'remove' | 'counts'>;
}

export interface AdminEngineStatus {
  mode: 'embedded' | 'external';
  /** The control endpoint host:port. */
  control: string;
  /** Embedded: the engine's own worker thread, or the b2bua's main thread. */
  thread?: 'worker' | 'main';
  /** Whether the control connection is up now. */
  connected: boolean;
  /** The SIP address the server reported on authenticate. */
  hostport?: string;
  /** External: how often the control connection came up (the first time included) and how often it was lost. */
  engineConnects?: number;
  engineLosses?: number;
}

/** True when the gateway runs against drachtio-server: the embedded engine's snapshot does not exist. */
export function engineIsExternal(services: AdminServices): boolean {
  return services.engine?.().mode === 'external';
}

export interface TlsProbeRequest {
  host: string;
  port: number;
  sni?: string;
  profile?: string;
}
