import { basename, dirname, resolve } from 'node:path';
import { GatewayError } from './common/index.js';
import { b2buaPolicyFromConfig, formatProblem, tryLoadConfig, type GatewayConfig } from './config/index.js';
import { validateCipherName } from './cli/config-check.js';
import { bootstrapPki, trustpointExists } from './pki/index.js';
import { engineListeners, engineTlsOptions } from './startup-tls.js';
import type { GatewayOptions } from './gateway.js';
import type { Logger } from './log/index.js';

/** What `trunkgate start` derives from profiles/ before anything listens. */
export interface StartupPlan {
  config: GatewayConfig;
  options: Omit<GatewayOptions, 'log' | 'control'> & { control: { host: string; port: number } };
  /** Trustpoints created on this start (first start). */
  bootstrapped: string[];
}

/**
 * Loads and validates the configuration, creates the local CA and the gateway trustpoint on first start, and
 * turns listeners and TLS profiles into engine options. Every problem is reported at once; nothing is bound.
 */
export function planStartup(profilesDir: string, env: NodeJS.ProcessEnv, log: Logger): StartupPlan {
  const loaded = tryLoadConfig(profilesDir, { validateCipherName, env });
  if (!loaded.ok) {
    const text = loaded.problems.map((p) => formatProblem(p)).join('\n');
    throw new GatewayError('ERR_CONFIG_INVALID', `configuration in ${profilesDir} is invalid:\n${text}`,
      { details: { problems: loaded.problems } });
  }
  const config = loaded.config;
  const domain = config.gateway.domain ?? 'trunkgate.invalid';
  const bootstrapped: string[] = [];

  // First start: a trustpoint under <pki>/trustpoints/<name> that does not exist yet is created, with a local CA
  // in <pki>/ca. A trustpoint elsewhere must have been provisioned by the administrator.
  for (const [name, tp] of Object.entries(config.trustpoints ?? {})) {
    const dir = resolve(tp.dir);
    if (trustpointExists(dir)) continue;
    if (basename(dirname(dir)) !== 'trustpoints') {
      throw new GatewayError('ERR_CONFIG_INVALID', `trustpoint ${name}: no key and certificate in ${tp.dir}`, { details: { trustpoint: name } });
    }
    const r = bootstrapPki(dirname(dirname(dir)), domain, { trustpointName: name });
    if (r.created) {
      bootstrapped.push(name);
      log.info({ trustpoint: name, dir: tp.dir, ca: r.caCertPath, domain }, `trunkgate: created a local CA and trustpoint ${name} for ${domain}`);
    }
  }

  // Listeners name their TLS profile; the engine builds every profile's contexts from this plain data.
  const listen = engineListeners(config);
  const tls = engineTlsOptions(config);

  const engine = config.gateway.engine;
  if (engine.mode !== 'embedded') throw new GatewayError('ERR_CONFIG_INVALID', 'trunkgate start runs the embedded engine; gateway.engine.mode external is for the b2bua alone');
  const control = { host: engine.control.host, port: engine.control.port };
  // With dial peers, every call runs the policy pipeline (tenant, TLS-peer permissions, category, dial peer).
  // TRUNKGATE_TARGET, or a configuration without dial peers, keeps the plain bridge to one target.
  if (!env.TRUNKGATE_TARGET && config.dialPeers.length > 0) {
    return { config, bootstrapped, options: { listen, tls, control, policy: b2buaPolicyFromConfig(config, env) } };
  }
  const defaultTenant = config.gateway.defaultTenant ? config.tenants?.[config.gateway.defaultTenant] : undefined;
  const target = env.TRUNKGATE_TARGET || (typeof defaultTenant?.sipServer === 'string' && !defaultTenant.sipServer.startsWith('dns:') ? defaultTenant.sipServer : undefined) || '127.0.0.1:5080';
  return { config, bootstrapped, options: { listen, tls, control, target } };
}
