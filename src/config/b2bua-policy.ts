import type { B2buaDialPeer, B2buaPolicy, RegisterPolicy, RegisterRelayPolicy, TenantPolicy } from '../b2bua/policy-types.js';
import type { GatewayConfig } from './load-config.js';
import { tenantsByServerName } from './list-listeners.js';

/**
 * The b2bua's policy pipeline data from a loaded configuration: tenants (transport, scheme, target, TLS
 * profile, SRTP suites, OPTIONS ping, default permissions, unknown-peer rule, call limit and rate), every listener
 * with its tenant, the SNI → tenant map, the default tenant, the effective categories in check order, the TLS peers,
 * the dial peers in configuration order (call limit and rate included) and the Retry-After of the b2bua's 503s. Pure: the frozen configuration is read, never changed, and the
 * b2bua never sees YAML or zod. Digest passwords are read from `env` by the variable each tenant names.
 */
export function b2buaPolicyFromConfig(config: GatewayConfig, env: Readonly<Record<string, string | undefined>> = {}): B2buaPolicy {
  const tenants: Record<string, TenantPolicy> = {};
  for (const [name, t] of Object.entries(config.tenants)) {
    // The password comes from the environment variable the tenant names (config check warns when it is unset).
    const password = t.digest ? env[t.digest.passwordEnv] : undefined;
    tenants[name] = {
      ...(t.digest && password !== undefined
        ? { digest: { username: t.digest.username, password, ...(t.digest.realm !== undefined ? { realm: t.digest.realm } : {}) } }
        : {}),
      transport: t.transport,
      url: t.url,
      ...(t.sipServer !== undefined ? { sipServer: t.sipServer } : {}),
      ...(t.tlsProfile !== undefined ? { tlsProfile: t.tlsProfile } : {}),
      ...(t.srtpCrypto !== undefined ? { srtpCrypto: t.srtpCrypto } : {}),
      ...(t.media !== undefined ? {
        media: {
          mode: t.media.mode, srtp: t.media.srtp, ...(t.media.suites ?? t.srtpCrypto ? { suites: t.media.suites ?? t.srtpCrypto } : {}),
          ...(t.media.allowedNetworks !== undefined ? { allowedNetworks: t.media.allowedNetworks } : {}),
        },
      } : {}),
      ...(t.optionsPing !== undefined ? { optionsPing: { intervalSeconds: t.optionsPing.intervalSeconds, downAfter: t.optionsPing.downAfter } } : {}),
      ...registerPolicy(t, env),
      ...registerRelayPolicy(config, t),
      defaultPermissions: t.defaultPermissions,
      unknownPeer: t.unknownPeer,
      ...(t.maxCalls !== undefined ? { maxCalls: t.maxCalls } : {}),
      ...rateOf(t),
    };
  }
  const dialPeers: B2buaDialPeer[] = config.dialPeers.map((d) => ({
    id: d.id,
    destinationPattern: d.destinationPattern,
    tenant: d.tenant,
    ...(d.from !== undefined ? { from: d.from } : {}),
    ...(d.preference !== undefined ? { preference: d.preference } : {}),
    ...(d.sipServer !== undefined ? { sipServer: d.sipServer } : {}),
    ...(d.noAnswerTimeoutSeconds !== undefined ? { noAnswerTimeoutSeconds: d.noAnswerTimeoutSeconds } : {}),
    ...(d.maxCalls !== undefined ? { maxCalls: d.maxCalls } : {}),
    ...rateOf(d),
  }));
  const c = config.gateway.calls;
  const calls = {
    ...(c.sessionTimer.enabled ? { sessionTimer: { expiresSeconds: c.sessionTimer.expiresSeconds, minSeSeconds: Math.min(c.sessionTimer.minSeSeconds, c.sessionTimer.expiresSeconds) } } : {}),
    ...(c.maxDurationSeconds > 0 ? { maxDurationSeconds: c.maxDurationSeconds } : {}),
    ...(config.gateway.engine.mode === 'embedded' ? { appFinalTimeoutMs: config.gateway.limits.appFinalTimeoutMs } : {}),
  };
  const tlsPeers: Record<string, { permissions: Readonly<Record<string, boolean>>; tenants?: readonly string[] }> = {};
  for (const [name, p] of Object.entries(config.tlsPeers)) {
    tlsPeers[name] = { permissions: p.permissions, ...(p.tenants !== undefined ? { tenants: p.tenants } : {}) };
  }
  const sniTenants = tenantsByServerName(config);
  const m = config.gateway.media;
  return {
    tenants,
    listeners: config.listeners.map((l) => ({ transport: l.transport, host: l.host, port: l.port, ...(l.tenant !== undefined ? { tenant: l.tenant } : {}) })),
    ...(Object.keys(sniTenants).length > 0 ? { sniTenants } : {}),
    ...(config.gateway.defaultTenant !== undefined ? { defaultTenant: config.gateway.defaultTenant } : {}),
    ...(config.gateway.engine.mode === 'external' ? { engine: 'external' as const } : {}),
    categories: config.permissionCategories,
    tlsPeers,
    dialPeers,
    calls,
    retryAfterSeconds: config.gateway.limits.retryAfterSeconds,
    outbound: { ...config.gateway.outbound, allowResolved: [...config.gateway.outbound.allowResolved] },
    ...(m.rtpengines.length > 0
      ? { media: { rtpengines: m.rtpengines.map((r) => ({ host: r.host, port: r.port })), timeoutMs: m.timeoutMs, pingIntervalMs: m.pingIntervalSeconds * 1000, whenDown: m.whenDown,
        ...(m.rtpTimeoutSeconds > 0 ? { rtpTimeoutMs: m.rtpTimeoutSeconds * 1000 } : {}) } }
      : {}),
  };
}

/** A tenant's or dial peer's call rate: callBurst goes only with a maxCallsPerSecond (call-rates.ts gives its default). */
function rateOf(c: { maxCallsPerSecond?: number | undefined; callBurst?: number | undefined }): { maxCallsPerSecond?: number; callBurst?: number } {
  if (c.maxCallsPerSecond === undefined) return {};
  return { maxCallsPerSecond: c.maxCallsPerSecond, ...(c.callBurst !== undefined ? { callBurst: c.callBurst } : {}) };
}

/**
 * A tenant's registration for the b2bua: the registrar (default its sipServer), the password from the variable
 * `passwordEnv` names, the contact user (default the username). Nothing when the password is not set (config check
 * warns) or there is no registrar to send to.
 */
function registerPolicy(t: GatewayConfig['tenants'][string], env: Readonly<Record<string, string | undefined>>): { register?: RegisterPolicy } {
  const r = t.register;
  if (r === undefined) return {};
  const password = env[r.passwordEnv];
  const registrar = r.registrar ?? t.sipServer;
  if (password === undefined || registrar === undefined) return {};
  return {
    register: {
      registrar, username: r.username, password, expires: r.expires, contactUser: r.contactUser ?? r.username,
      retrySeconds: { min: r.retrySeconds.min, max: Math.max(r.retrySeconds.min, r.retrySeconds.max) }, probeSeconds: r.probeSeconds,
      ...(r.realm !== undefined ? { realm: r.realm } : {}), ...(r.domain !== undefined ? { domain: r.domain } : {}),
    },
  };
}

const WILDCARD = new Set(['0.0.0.0', '::']);

/**
 * A tenant's REGISTER relay for the b2bua: the registrar (registerRelay.registrar, else the `to` tenant's
 * register.registrar, else its first sipServer), `to`'s transport, scheme and TLS profile, and the gateway address
 * the Path names: `to`'s own listener of its transport, else a shared one (a wildcard host is named by
 * gateway.domain). Nothing when there is no registrar or no such address: the relay is then off.
 */
function registerRelayPolicy(config: GatewayConfig, t: GatewayConfig['tenants'][string]): { registerRelay?: RegisterRelayPolicy } {
  const r = t.registerRelay;
  const to = r === undefined ? undefined : config.tenants[r.to];
  if (r === undefined || to === undefined) return {};
  const servers = to.sipServer === undefined ? [] : typeof to.sipServer === 'string' ? [to.sipServer] : to.sipServer;
  const registrar = r.registrar ?? to.register?.registrar ?? servers[0];
  const scheme = to.url === 'sips' ? 'sips' : 'sip';
  const transport = scheme === 'sips' ? 'tls' : to.transport;
  const listener = config.listeners.find((l) => l.tenant === r.to && l.transport === transport)
    ?? config.listeners.find((l) => l.tenant === undefined && l.transport === transport);
  const host = listener === undefined ? undefined : WILDCARD.has(listener.host) ? config.gateway.domain : listener.host;
  if (registrar === undefined || listener === undefined || host === undefined) return {};
  return {
    registerRelay: {
      to: r.to, registrar, transport, scheme, ...(to.tlsProfile !== undefined ? { tlsProfile: to.tlsProfile } : {}),
      path: { host: host.includes(':') && !host.startsWith('[') ? `[${host}]` : host, port: listener.port },
      maxBindings: r.maxBindings, maxExpires: r.maxExpires,
    },
  };
}
