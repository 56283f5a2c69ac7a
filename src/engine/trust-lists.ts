import type { BlockList } from 'node:net';
import { addAddressEntry, addressList } from '../common/address-list.js';
import type { Clock } from '../common/clock.js';
import type { TransportProtocol } from '../sip/transport/types.js';

/** What a tenant trusts, as plain data (it crosses into the engine's worker). */
export interface TrustedTenant {
  name: string;
  /** The transport we place the tenant's calls on (it may reach us over any shared listener). */
  transport: TransportProtocol;
  /** Addresses and CIDRs (IPv4 and IPv6) given in `trustedSources`, plus every target given as an address. */
  sources: string[];
  /** Host names of its targets (sipServer, dial peers), resolved now and again every refresh. */
  hosts: string[];
  /** `trustedSources` was written for this tenant: a TLS peer of it must also come from one of those. */
  restrictTls: boolean;
  /** Its callers' TLS identities come from this header, set by a proxy at one of `trustedFrom` (proxy-identity.ts). */
  proxyIdentity?: { header: string; trustedFrom: string[] };
}

export interface SourceTrustOptions {
  tenants: TrustedTenant[];
  /** The tenant tried first on a shared listener (gateway.defaultTenant). */
  defaultTenant?: string;
  /** An untrusted request gets 403 with a Reason (reject, default) or no byte at all (drop). */
  untrusted?: 'reject' | 'drop';
  /** 403s sent to one source per second at most; past it the request is dropped (default 5). */
  rejectsPerSecondPerSource?: number;
  /** How often host names are resolved again (default 60 s). */
  refreshSeconds?: number;
  /** How long one host name may take to resolve before it counts as failed (default 5,000 ms). */
  resolveTimeoutMs?: number;
}

/** What a replaced plan came to (SourceTrust.replace, Engine.reloadTrust). */
export interface TrustReplaceResult {
  tenants: number;
  /** Host names in the new plan. */
  hosts: number;
  /** Names that did not resolve: one known before keeps its last addresses, a new one trusts no address yet. */
  unresolved: string[];
}

/** The outcome of a trust reload in the engine. */
export type TrustReloadResult =
  | ({ ok: true } & TrustReplaceResult)
  /** `enforced` false: the engine was started without trusted sources, checks none, and did not take the plan. */
  | { ok: false; enforced: boolean; code: string; reason: string };

/** One plan as the check reads it: built whole, then swapped in at once. */
export interface TrustLists {
  readonly options: SourceTrustOptions;
  /** The default tenant first, then the others in their order. */
  readonly order: readonly TrustedTenant[];
  /** Per tenant: its written sources only (the TLS address check). */
  readonly explicit: ReadonlyMap<string, BlockList>;
  /** Per tenant: its written sources and the addresses its host names resolved to. */
  readonly lists: ReadonlyMap<string, BlockList>;
  /** Every host name of the plan, once. */
  readonly hosts: readonly string[];
}

export type Lookup = (host: string) => Promise<string[]>;

/** Builds every list of a plan; a host name counts with the addresses `resolved` has for it (none if absent). */
export function buildLists(options: SourceTrustOptions, resolved: ReadonlyMap<string, readonly string[]>): TrustLists {
  const explicit = new Map<string, BlockList>();
  const lists = new Map<string, BlockList>();
  const hosts = new Set<string>();
  for (const t of options.tenants) {
    const own = addressList(t.sources);
    explicit.set(t.name, own);
    if (t.hosts.length === 0) {
      lists.set(t.name, own);
      continue;
    }
    const list = addressList(t.sources);
    for (const h of t.hosts) {
      hosts.add(h);
      for (const a of resolved.get(h) ?? []) addAddressEntry(list, a);
    }
    lists.set(t.name, list);
  }
  const first = options.tenants.filter((t) => t.name === options.defaultTenant);
  const order = [...first, ...options.tenants.filter((t) => t.name !== options.defaultTenant)];
  return { options, order, explicit, lists, hosts: [...hosts] };
}

/**
 * Resolves every name at once, each bounded by `timeoutMs`: the addresses of those that answered, and the failures
 * (an error, or no answer in time).
 */
export async function resolveHosts(hosts: readonly string[], lookup: Lookup, clock: Clock, timeoutMs: number):
  Promise<{ addresses: Map<string, string[]>; failed: { host: string; err: unknown }[] }> {
  const addresses = new Map<string, string[]>();
  const failed: { host: string; err: unknown }[] = [];
  await Promise.all(hosts.map(async (host) => {
    let timer: { cancel(): void } | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      addresses.set(host, await Promise.race([lookup(host), late]));
    } catch (err) {
      failed.push({ host, err });
    } finally {
      timer?.cancel();
    }
  }));
  return { addresses, failed };
}
