import type { ConfigPath } from './config-path.js';
import type { ConfigSections } from './config-schema.js';
import type { DeepReadonly } from './deep-freeze.js';

/** One SIP listener the engine opens: the gateway's shared ones, then each tenant's own. */
export interface ListenerSpec {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  /** TLS: the profile served (by default, on a shared listener). */
  tlsProfile?: string;
  /** The tenant inbound calls on this listener belong to; absent on a shared listener naming none. */
  tenant?: string;
  /** True for `gateway.listen` entries. */
  shared: boolean;
  /** Where it is configured, e.g. ['tenants', 'acme', 'listenPortSecure']. */
  path: ConfigPath;
}

type Sections = ConfigSections | DeepReadonly<ConfigSections>;

/**
 * Every SIP listener of a configuration. A tenant's `listen` entries take the tenant's transport unless
 * they name one, and `gateway.bindHost` unless they name a host; `listenPortSecure` is a TLS listener on
 * `gateway.bindHost`. A tenant's TLS listener serves the tenant's profile.
 */
export function listListeners(config: Sections): ListenerSpec[] {
  const out: ListenerSpec[] = [];
  config.gateway.listen.forEach((l, i) => {
    out.push({
      transport: l.transport,
      host: l.host,
      port: l.port,
      ...(l.tlsProfile !== undefined ? { tlsProfile: l.tlsProfile } : {}),
      ...(l.tenant !== undefined ? { tenant: l.tenant } : {}),
      shared: true,
      path: ['gateway', 'listen', i],
    });
  });
  for (const [name, t] of Object.entries(config.tenants)) {
    const listen = t.listen === undefined ? [] : Array.isArray(t.listen) ? t.listen : [t.listen];
    listen.forEach((l, i) => {
      const transport = l.transport ?? t.transport;
      out.push({
        transport,
        host: l.host ?? config.gateway.bindHost,
        port: l.port,
        ...(transport === 'tls' && t.tlsProfile !== undefined ? { tlsProfile: t.tlsProfile } : {}),
        tenant: name,
        shared: false,
        path: Array.isArray(t.listen) ? ['tenants', name, 'listen', i] : ['tenants', name, 'listen'],
      });
    });
    if (t.listenPortSecure !== undefined) {
      out.push({
        transport: 'tls',
        host: config.gateway.bindHost,
        port: t.listenPortSecure,
        ...(t.tlsProfile !== undefined ? { tlsProfile: t.tlsProfile } : {}),
        tenant: name,
        shared: false,
        path: ['tenants', name, 'listenPortSecure'],
      });
    }
  }
  return out;
}

/**
 * Server name → tenant, for TLS tenants picked by SNI on a shared listener: each tenant whose profile lists
 * serverNames. A name claimed by two tenants (same profile) is left out: SNI cannot tell them apart.
 */
export function tenantsByServerName(config: Sections): Record<string, string> {
  const out: Record<string, string> = {};
  const taken = new Set<string>();
  for (const [name, t] of Object.entries(config.tenants)) {
    const profile = t.tlsProfile !== undefined ? config.tlsProfiles[t.tlsProfile] : undefined;
    for (const sn of profile?.serverNames ?? []) {
      const key = sn.toLowerCase().replace(/\.$/, '');
      if (key in out) taken.add(key);
      else out[key] = name;
    }
  }
  for (const k of taken) delete out[k];
  return out;
}
