// The reports of a configuration or TLS reload (gateway-reload.ts), as the admin API and the CLI read them.

import { errorCodeOf } from './common/gateway-error.js';

/** What asked for a reload (logged with the outcome). */
export type ReloadTrigger = 'api' | 'signal' | 'file' | 'start';

/** One reason a reload was refused, or a warning: a stable code and where the problem is. */
export interface ReloadProblem {
  code: string;
  message: string;
  file?: string;
  line?: number;
  path?: string;
  profile?: string;
}

/** A thrown error as a reload problem: its own code when it has one, else `fallback`. */
export function errorProblem(e: unknown, fallback: string): ReloadProblem {
  return { code: errorCodeOf(e, fallback), message: e instanceof Error ? e.message : String(e) };
}

/** The outcome of a TLS reload: what the engine loaded, and what changed, or why it kept the running set. */
export interface TlsReloadReport {
  ok: boolean;
  trigger: ReloadTrigger;
  /** Generation of the engine's profile set after the call (unchanged when refused). */
  version: number;
  /** Profiles loaded after the call. */
  profiles: string[];
  added: string[];
  removed: string[];
  /** Profiles whose certificate (server or client) changed: SHA-256 fingerprints before and after. */
  certificates: { profile: string; kind: 'server' | 'client'; from: string; to: string }[];
  problems: ReloadProblem[];
  /** Applied, but not working as the configuration reads (ERR_TLS_SNI_WIDENS: an SNI profile wider than its listener's default). */
  warnings?: ReloadProblem[];
}

/** A part of the new configuration that takes a restart to apply, and why. */
export interface NeedsRestart {
  what: string;
  reason: string;
}

/** The outcome of a configuration reload. */
export interface ConfigReloadReport {
  ok: boolean;
  trigger: ReloadTrigger;
  /** Top-level sections that differ from the running configuration. */
  changed: string[];
  /**
   * What was swapped in the running gateway: 'routing' (the b2bua's policy), 'tlsProfiles', 'trustedSources',
   * 'listeners' (a listener that could not bind at start bound now), 'gateway.limits.retryAfterSeconds' (every 503
   * the engine and the b2bua send from now on).
   */
  applied: string[];
  /** Changes accepted in the configuration but not in effect until a restart (listeners, ports...). */
  needsRestart: NeedsRestart[];
  /** Why the reload was refused; empty when ok. */
  problems: ReloadProblem[];
  warnings: ReloadProblem[];
  /** The TLS part, when the profiles were reloaded. */
  tls?: TlsReloadReport;
  /** The trusted-source part, when the trust plan changed and the engine was asked to apply it. */
  trust?: TrustReloadReport;
  /** The tenant listeners that could not bind at start, tried again with the spec they had then; only when some had failed. */
  listeners?: ListenersReloadReport;
}

/** What trying again the listeners that could not bind at start came to. */
export interface ListenersReloadReport {
  /** Listener ids that bound now and serve their tenant. */
  bound: string[];
  /** Those that still cannot bind, with the OS error of this try. */
  stillFailed: { id: string; error: string }[];
}

/**
 * The engine's trusted sources after a reload changed them (tenants' targets, trustedSources, proxyIdentity,
 * gateway.untrusted, gateway.defaultTenant): applied, or why the running plan stays.
 */
export interface TrustReloadReport {
  ok: boolean;
  /** Tenants and host names of the plan now in force (the new one when ok). */
  tenants: number;
  hosts: number;
  /** Host names of the new plan that did not resolve: one known before keeps its last addresses, a new one trusts none yet. */
  unresolved: string[];
  /** Why the engine did not take the plan; empty when ok. */
  problems: ReloadProblem[];
}
