import { isIP } from 'node:net';
import type { GatewayConfig } from './load-config.js';
import { parseSipServer } from './sip-server.js';

/** What the engine's trusted-source check is built from (the engine's SourceTrustOptions, as plain data). */
export interface TrustPlan {
  tenants: {
    name: string; transport: 'udp' | 'tcp' | 'tls'; sources: string[]; hosts: string[]; restrictTls: boolean;
    proxyIdentity?: { header: string; trustedFrom: string[] };
  }[];
  defaultTenant?: string;
  untrusted: 'reject' | 'drop';
}

/**
 * Each tenant trusts its sipServer, its registrar, the sipServer of every dial peer that routes to it, and its
 * trustedSources (CUBE: calls are taken from dial-peer targets and the trusted list). Literal addresses are taken as they are;
 * names (`host:port` with a name, `dns:name`) are resolved by the engine, now and again every minute.
 */
export function trustPlanFromConfig(config: GatewayConfig): TrustPlan {
  const tenants: TrustPlan['tenants'] = [];
  for (const [name, t] of Object.entries(config.tenants ?? {})) {
    const sources = [...(t.trustedSources ?? [])];
    const hosts: string[] = [];
    const servers = [t.sipServer, t.register?.registrar, ...config.dialPeers.filter((d) => d.tenant === name).map((d) => d.sipServer)];
    for (const s of servers) {
      const target = s !== undefined ? parseSipServer(s) : undefined;
      if (!target) continue;
      const host = target.kind === 'static' ? target.host : target.name;
      const list = isIP(host) !== 0 ? sources : hosts;
      if (!list.includes(host)) list.push(host);
    }
    // A proxy that vouches for the caller's identity must also be a trusted source of the tenant.
    if (t.proxyIdentity) for (const p of t.proxyIdentity.trustedFrom) if (!sources.includes(p)) sources.push(p);
    tenants.push({
      name, transport: t.transport, sources, hosts, restrictTls: t.trustedSources !== undefined,
      ...(t.proxyIdentity ? { proxyIdentity: { header: t.proxyIdentity.header, trustedFrom: [...t.proxyIdentity.trustedFrom] } } : {}),
    });
  }
  return {
    tenants, untrusted: config.gateway.untrusted,
    ...(config.gateway.defaultTenant !== undefined ? { defaultTenant: config.gateway.defaultTenant } : {}),
  };
}
