import { tryLoadConfig, type ConfigResult, type GatewayConfig, type LoadConfigOptions } from './load-config.js';

export type ReloadResult =
  | { ok: true; config: GatewayConfig; previous: GatewayConfig; changed: string[]; warnings: ConfigResult['warnings'] }
  | (Extract<ConfigResult, { ok: false }> & { current: GatewayConfig });

const SECTIONS = ['gateway', 'trustpoints', 'trustStores', 'tlsCiphers', 'tlsProfiles', 'tenants', 'dialPeers', 'permissions', 'tlsPeers', 'cdr'] as const;

/**
 * Loads the configuration again. A bad one is reported and the running one stays (it is frozen, and this
 * never touches it); a good one comes back with the top-level sections that changed, so the caller applies
 * only those (listeners, profiles, routing).
 */
export function reloadConfig(current: GatewayConfig, source: string | readonly string[], opts: LoadConfigOptions = {}): ReloadResult {
  const r = tryLoadConfig(source, { running: current, ...opts });
  if (!r.ok) return { ...r, current };
  const changed = SECTIONS.filter((s) => JSON.stringify(current[s]) !== JSON.stringify(r.config[s]));
  return { ok: true, config: r.config, previous: current, changed, warnings: r.warnings };
}
