import { normalizeDnsName } from '../common/peer-name.js';

/** Where a request arrived: the engine's `receivedOn` (local address and port), transport and SNI. */
export interface ReceivedOn {
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  port: number;
  /** The SNI the client sent (TLS only). */
  servername?: string;
}

/** A listener as the config layer lists it (ListenerSpec). */
export interface TenantListener {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  tenant?: string;
}

export interface IdentifyTenantOptions {
  /** Server name (lower case) → tenant, for TLS tenants picked by SNI on a shared listener. */
  sniTenants?: Readonly<Record<string, string>>;
  /** The tenant of calls on a shared listener that names none (gateway.defaultTenant). */
  defaultTenant?: string;
}

const WILDCARD = new Set(['0.0.0.0', '::']);

/**
 * The tenant an inbound request belongs to: the listener that received it (transport, address and port;
 * a wildcard listener address matches any), then that listener's tenant, else the tenant the SNI selects,
 * else the default tenant. An exact address beats a wildcard one. Undefined: no tenant, refuse the call.
 */
export function identifyTenant(
  received: ReceivedOn,
  listeners: readonly TenantListener[],
  opts: IdentifyTenantOptions = {},
): string | undefined {
  const on = listeners.filter((l) => l.transport === received.transport && l.port === received.port);
  const listener = on.find((l) => l.host === received.address) ?? on.find((l) => WILDCARD.has(l.host));
  if (listener?.tenant !== undefined) return listener.tenant;
  if (received.transport === 'tls' && received.servername) {
    const t = opts.sniTenants?.[normalizeDnsName(received.servername)];
    if (t !== undefined) return t;
  }
  return opts.defaultTenant;
}
