import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../common/clock.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import { toTagOf } from '../sip/message/accessors.js';
import type { SipMessage } from '../sip/message/types.js';
import type { Flow, TransportProtocol } from '../sip/transport/types.js';

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
}

export type TrustVerdict =
  | { admit: true; tenant?: string }
  | { admit: false; action: 'reject' | 'drop'; cause: 'untrusted-source' | 'tls-address' | 'reject-rate' };

/** Sources whose 403s a second are counted at most; past it the table starts again (counted, logged). */
const MAX_REJECT_SOURCES = 10_000;

export interface SourceTrustStats {
  admitted: number;
  rejected: number;
  dropped: number;
  /** Refusals per listener and cause (`<listener> <cause>`). */
  byListener: Record<string, number>;
  resolveFailures: number;
  /** Times the table of 403s per source was cleared because more than 10,000 sources were refused in one second. */
  rejectTableResets: number;
}

type Lookup = (host: string) => Promise<string[]>;
const defaultLookup: Lookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/**
 * Adds an address or a CIDR the configuration schema has already checked; anything else is skipped. BlockList
 * matches an IPv4-mapped IPv6 source (`::ffff:10.1.2.3`) against IPv4 entries and the other way round itself.
 */
function addEntry(list: BlockList, entry: string): void {
  const slash = entry.indexOf('/');
  const addr = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) list.addAddress(addr, type);
  else list.addSubnet(addr, Number(entry.slice(slash + 1)), type);
}

/**
 * Who may send new requests (CUBE's trusted list, Kamailio's permissions): a tenant trusts its targets (resolved)
 * and its `trustedSources`. A new out-of-dialog request on a listener of a tenant must come from that tenant's
 * list; on a shared listener (any transport) it is attributed to the first tenant (the default one first) whose list has its
 * source; a TLS peer is identified by its certificate and is held to addresses only where its tenant names them.
 * Everything else is refused before a transaction or an app spends anything on it.
 */
export class SourceTrust {
  readonly #o: SourceTrustOptions;
  readonly #log: Logger;
  readonly #lines: RateLimitedLog;
  readonly #clock: Clock;
  readonly #lookup: Lookup;
  readonly #lists = new Map<string, BlockList>();
  readonly #explicit = new Map<string, BlockList>();
  readonly #order: TrustedTenant[];
  /** Last addresses each host name resolved to. */
  readonly #resolved = new Map<string, string[]>();
  /** Per source: the second it is in and the 403s sent in it. Bounded: cleared when it grows past MAX_REJECT_SOURCES. */
  readonly #rejects = new Map<string, { second: number; n: number }>();
  readonly #stats: SourceTrustStats = { admitted: 0, rejected: 0, dropped: 0, byListener: {}, resolveFailures: 0, rejectTableResets: 0 };
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(options: SourceTrustOptions, deps: { log: Logger; clock: Clock; lookup?: Lookup }) {
    this.#o = options;
    this.#log = deps.log;
    this.#clock = deps.clock;
    this.#lookup = deps.lookup ?? defaultLookup;
    this.#lines = new RateLimitedLog(deps.log, deps.clock, { intervalMs: 60_000 });
    const first = options.tenants.filter((t) => t.name === options.defaultTenant);
    this.#order = [...first, ...options.tenants.filter((t) => t.name !== options.defaultTenant)];
    for (const t of options.tenants) {
      const explicit = new BlockList();
      for (const s of t.sources) addEntry(explicit, s);
      this.#explicit.set(t.name, explicit);
      this.#lists.set(t.name, explicit);
    }
  }

  /** Resolves the host names once (awaited) and again every refresh. */
  async start(): Promise<void> {
    await this.#resolveAll();
    const every = (this.#o.refreshSeconds ?? 60) * 1000;
    const tick = (): void => {
      if (this.#closed) return;
      void this.#resolveAll().finally(() => {
        if (!this.#closed) this.#timer = this.#clock.setTimeout(tick, every);
      });
    };
    if (this.#o.tenants.some((t) => t.hosts.length > 0)) this.#timer = this.#clock.setTimeout(tick, every);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
  }

  stats(): SourceTrustStats {
    return { ...this.#stats, byListener: { ...this.#stats.byListener } };
  }

  /** The verdict on one message; `listenerTenant` is the tenant of the listener it arrived on, if any. */
  judge(message: SipMessage, flow: Flow, listenerTenant: string | undefined): TrustVerdict {
    // Responses match our own client transactions or are dropped there; in-dialog requests (To tag) match a
    // dialog or get 481; ACK is never answered. Only new requests are judged here.
    if (message.kind !== 'request' || message.method === 'ACK' || hasToTag(message)) return { admit: true };
    const source = flow.remoteAddress;
    const type = isIP(source) === 6 ? 'ipv6' : 'ipv4';
    const tlsTenant = flow.protocol === 'tls' ? flow.tls?.tenant : undefined;
    if (tlsTenant !== undefined) {
      const t = this.#order.find((x) => x.name === tlsTenant);
      if (!t || !t.restrictTls || this.#explicit.get(t.name)!.check(source, type)) return this.#admit(tlsTenant);
      return this.#refuse(flow, 'tls-address', tlsTenant);
    }
    if (listenerTenant !== undefined) {
      if (this.#lists.get(listenerTenant)?.check(source, type)) return this.#admit(listenerTenant);
      return this.#refuse(flow, 'untrusted-source', listenerTenant);
    }
    // A tenant's transport is how we call it; it may call us over any of the shared listeners.
    for (const t of this.#order) {
      if (this.#lists.get(t.name)!.check(source, type)) return this.#admit(t.name);
    }
    return this.#refuse(flow, 'untrusted-source', undefined);
  }

  #admit(tenant: string): TrustVerdict {
    this.#stats.admitted++;
    return { admit: true, tenant };
  }

  #refuse(flow: Flow, cause: 'untrusted-source' | 'tls-address', tenant: string | undefined): TrustVerdict {
    const key = `${flow.listenerId ?? '-'} ${cause}`;
    this.#stats.byListener[key] = (this.#stats.byListener[key] ?? 0) + 1;
    const source = `${flow.remoteAddress}:${flow.remotePort}`;
    this.#lines.line('warn', 'ERR_ENGINE_UNTRUSTED_SOURCE', {
      remote: source, listener: flow.listenerId, protocol: flow.protocol, tenant: tenant ?? '-', cause,
    }, `request from untrusted source ${source} on ${flow.listenerId ?? '-'} refused (${cause})`, flow.remoteAddress);
    if ((this.#o.untrusted ?? 'reject') === 'drop') {
      this.#stats.dropped++;
      return { admit: false, action: 'drop', cause };
    }
    const second = Math.floor(this.#clock.now() / 1000);
    let r = this.#rejects.get(flow.remoteAddress);
    if (!r || r.second !== second) {
      if (this.#rejects.size >= MAX_REJECT_SOURCES) {
        this.#rejects.clear();
        this.#stats.rejectTableResets++;
        this.#lines.line('warn', 'ERR_ENGINE_UNTRUSTED_SOURCE', { max: MAX_REJECT_SOURCES, rejectTableResets: this.#stats.rejectTableResets },
          `more than ${MAX_REJECT_SOURCES} untrusted sources refused: their per-source 403 counts start again`, '-table');
      }
      r = { second, n: 0 };
      this.#rejects.set(flow.remoteAddress, r);
    }
    if (++r.n > (this.#o.rejectsPerSecondPerSource ?? 5)) {
      this.#stats.dropped++;
      return { admit: false, action: 'drop', cause: 'reject-rate' };
    }
    this.#stats.rejected++;
    return { admit: false, action: 'reject', cause };
  }

  async #resolveAll(): Promise<void> {
    for (const t of this.#o.tenants) {
      if (t.hosts.length === 0) continue;
      const list = new BlockList();
      for (const s of t.sources) addEntry(list, s);
      for (const host of t.hosts) {
        let addresses: string[];
        try {
          addresses = await this.#lookup(host);
          this.#resolved.set(host, addresses);
        } catch (err) {
          // A DNS outage must not lock a trunk out: the addresses the name had stay trusted.
          addresses = this.#resolved.get(host) ?? [];
          this.#stats.resolveFailures++;
          this.#lines.line('warn', 'ERR_ENGINE_TRUST_RESOLVE', { tenant: t.name, host, err, kept: addresses.length },
            `trusted source ${host} of tenant ${t.name} did not resolve; its last ${addresses.length} address(es) stay trusted`, host);
        }
        for (const a of addresses) addEntry(list, a);
      }
      this.#lists.set(t.name, list);
    }
    this.#log.debug({ tenants: this.#o.tenants.length }, 'trusted sources resolved');
  }
}

function hasToTag(m: SipMessage): boolean {
  return toTagOf(m) !== undefined;
}
