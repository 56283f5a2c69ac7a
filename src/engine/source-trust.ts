import { isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../common/clock.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import { toTagOf } from '../sip/message/accessors.js';
import type { SipMessage } from '../sip/message/types.js';
import { sourceKey } from '../sip/transport/address.js';
import type { Flow } from '../sip/transport/types.js';
import {
  buildLists, resolveHosts, type Lookup, type SourceTrustOptions, type TrustLists, type TrustReplaceResult,
} from './trust-lists.js';

export type { SourceTrustOptions, TrustedTenant, TrustReloadResult, TrustReplaceResult } from './trust-lists.js';

export type TrustVerdict =
  | { admit: true; tenant?: string }
  /** `tenant`: the one whose listener or certificate the source was judged by, when there was one. */
  | { admit: false; action: 'reject' | 'drop'; cause: 'untrusted-source' | 'tls-address' | 'reject-rate'; tenant?: string };

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
  /** The plan in force (swapped whole by a reload): each tenant's written sources and its host names' last addresses. */
  plan: TrustPlanView;
}

/** The plan as `/stats` shows it (Kamailio's `permissions.addressDump`): what a request is judged by now. */
export interface TrustPlanView {
  untrusted: 'reject' | 'drop';
  defaultTenant: string | null;
  /** The default tenant first, then the others in the order they are tried on a shared listener. */
  tenants: { name: string; sources: string[]; hosts: Record<string, string[]>; restrictTls: boolean }[];
}

const defaultLookup: Lookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/**
 * Who may send new requests (CUBE's trusted list, Kamailio's permissions): a tenant trusts its targets (resolved)
 * and its `trustedSources`. A new out-of-dialog request on a listener of a tenant must come from that tenant's
 * list; on a shared listener (any transport) it is attributed to the first tenant (the default one first) whose list has its
 * source; a TLS peer is identified by its certificate and is held to addresses only where its tenant names them.
 * Everything else is refused before a transaction or an app spends anything on it.
 */
export class SourceTrust {
  readonly #log: Logger;
  readonly #lines: RateLimitedLog;
  readonly #clock: Clock;
  readonly #lookup: Lookup;
  /** The plan in force, read once per request: a replace swaps the whole of it at once. */
  #plan: TrustLists;
  /** Last addresses each host name of the plan resolved to. */
  readonly #resolved = new Map<string, string[]>();
  /** Per source: the second it is in and the 403s sent in it. Bounded: cleared when it grows past MAX_REJECT_SOURCES. */
  readonly #rejects = new Map<string, { second: number; n: number }>();
  readonly #stats: Omit<SourceTrustStats, 'plan'> = { admitted: 0, rejected: 0, dropped: 0, byListener: {}, resolveFailures: 0, rejectTableResets: 0 };
  /** The next refresh, when one is waiting; undefined while none is (no host names, or one under way). */
  #timer: TimerHandle | undefined;
  #refreshing = false;
  #started = false;
  #closed = false;
  /** Replaces run one after the other, in the order asked. */
  #replacing: Promise<unknown> = Promise.resolve();

  constructor(options: SourceTrustOptions, deps: { log: Logger; clock: Clock; lookup?: Lookup }) {
    this.#log = deps.log;
    this.#clock = deps.clock;
    this.#lookup = deps.lookup ?? defaultLookup;
    this.#lines = new RateLimitedLog(deps.log, deps.clock, { intervalMs: 60_000 });
    this.#plan = buildLists(options, this.#resolved);
  }

  /** Resolves the host names once (awaited) and again every refresh. */
  async start(): Promise<void> {
    await this.#resolveAll();
    this.#started = true;
    this.#schedule();
  }

  /** A refresh of the host names is waiting or under way (the plan has some). */
  get refreshing(): boolean {
    return this.#timer !== undefined || this.#refreshing;
  }

  /**
   * Puts a new plan in force (a configuration reload): its host names are resolved first (one that fails keeps the
   * addresses it last had), its lists built whole, and only then swapped in with `onSwap` in the same step, so a
   * request judged meanwhile sees all of the old plan or all of the new one. Counters go on; the refresh timer
   * starts or stops with the plan's host names.
   */
  replace(options: SourceTrustOptions, onSwap?: () => void): Promise<TrustReplaceResult> {
    const run = this.#replacing.then(() => this.#replace(options, onSwap));
    this.#replacing = run.catch(() => undefined);
    return run;
  }

  async #replace(options: SourceTrustOptions, onSwap: (() => void) | undefined): Promise<TrustReplaceResult> {
    const hosts = [...new Set(options.tenants.flatMap((t) => t.hosts))];
    const unresolved = await this.#resolve(hosts, options);
    const plan = buildLists(options, this.#resolved);
    this.#plan = plan;
    onSwap?.();
    for (const h of this.#resolved.keys()) if (!plan.hosts.includes(h)) this.#resolved.delete(h);
    if (this.#started) this.#schedule();
    this.#log.info({ tenants: options.tenants.length, hosts: hosts.length, unresolved }, 'trusted sources replaced');
    return { tenants: options.tenants.length, hosts: hosts.length, unresolved };
  }

  /** A refresh is waiting while the plan has host names, and none once it has none. */
  #schedule(): void {
    if (this.#closed) return;
    const hasHosts = this.#plan.hosts.length > 0;
    if (!hasHosts) {
      this.#timer?.cancel();
      this.#timer = undefined;
      return;
    }
    if (this.#timer || this.#refreshing) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#refreshing = true;
      void this.#resolveAll().finally(() => {
        this.#refreshing = false;
        this.#schedule();
      });
    }, (this.#plan.options.refreshSeconds ?? 60) * 1000);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  stats(): SourceTrustStats {
    const p = this.#plan;
    const plan: TrustPlanView = {
      untrusted: p.options.untrusted ?? 'reject', defaultTenant: p.options.defaultTenant ?? null,
      tenants: p.order.map((t) => ({
        name: t.name, sources: [...t.sources], restrictTls: t.restrictTls,
        hosts: Object.fromEntries(t.hosts.map((h) => [h, [...(this.#resolved.get(h) ?? [])]])),
      })),
    };
    return { ...this.#stats, byListener: { ...this.#stats.byListener }, plan };
  }

  /**
   * The verdict on one message; `listenerTenant` is the tenant of the listener it arrived on, if any. `stray`: an
   * in-dialog request that matches no dialog, or a CANCEL that matches no INVITE (edge-guard.ts), judged as a new one
   * whatever its To tag.
   */
  judge(message: SipMessage, flow: Flow, listenerTenant: string | undefined, stray = false): TrustVerdict {
    // Responses match our own client transactions or are dropped there; in-dialog requests (To tag) and ACKs of a
    // known dialog are held to its peer or its tenant's sources by the edge (edge-guard.ts, trustedBy); ACK is never
    // answered. New requests and stray in-dialog ones are judged here.
    if (message.kind !== 'request' || message.method === 'ACK' || (!stray && hasToTag(message))) return { admit: true };
    const source = flow.remoteAddress;
    const type = isIP(source) === 6 ? 'ipv6' : 'ipv4';
    const plan = this.#plan;
    // A TLS connection's tenant (its listener's, or the one its SNI picked) is taken on the word of a client
    // certificate the profile verified. One that showed none (requireClientCert: false) proves nothing: it is
    // judged by its address, as TCP is.
    const tlsTenant = flow.protocol === 'tls' && flow.tls?.authorized === true ? flow.tls.tenant : undefined;
    if (tlsTenant !== undefined) {
      const t = plan.order.find((x) => x.name === tlsTenant);
      if (!t || !t.restrictTls || plan.explicit.get(t.name)!.check(source, type)) return this.#admit(tlsTenant);
      return this.#refuse(plan, flow, 'tls-address', tlsTenant);
    }
    if (listenerTenant !== undefined) {
      if (plan.lists.get(listenerTenant)?.check(source, type)) return this.#admit(listenerTenant);
      return this.#refuse(plan, flow, 'untrusted-source', listenerTenant);
    }
    // A tenant's transport is how we call it; it may call us over any of the shared listeners.
    for (const t of plan.order) {
      if (plan.lists.get(t.name)!.check(source, type)) return this.#admit(t.name);
    }
    return this.#refuse(plan, flow, 'untrusted-source', undefined);
  }

  #admit(tenant: string): TrustVerdict {
    this.#stats.admitted++;
    return { admit: true, tenant };
  }

  #refuse(plan: TrustLists, flow: Flow, cause: 'untrusted-source' | 'tls-address', tenant: string | undefined): TrustVerdict {
    const counted = `${flow.listenerId ?? '-'} ${cause}`;
    this.#stats.byListener[counted] = (this.#stats.byListener[counted] ?? 0) + 1;
    const key = sourceKey(flow.remoteAddress);
    const source = `${flow.remoteAddress}:${flow.remotePort}`;
    this.#lines.line('warn', 'ERR_ENGINE_UNTRUSTED_SOURCE', {
      remote: source, listener: flow.listenerId, protocol: flow.protocol, tenant: tenant ?? '-', cause,
    }, `request from untrusted source ${source} on ${flow.listenerId ?? '-'} refused (${cause})`, key);
    const judgedBy = tenant !== undefined ? { tenant } : {};
    const action = this.#bound(plan, flow);
    return { admit: false, action, cause: action === 'drop' && plan.options.untrusted !== 'drop' ? 'reject-rate' : cause, ...judgedBy };
  }

  /**
   * Whether a request from `flow` inside a dialog of `tenant` comes from a source that tenant trusts (edge-guard.ts):
   * a TLS connection whose certificate verified belongs to the tenant of the profile that checked it, held to the
   * tenant's written addresses where it restricts TLS; any other source is judged by its address. Not counted.
   */
  trustedBy(tenant: string, flow: Flow): boolean {
    const plan = this.#plan;
    const source = flow.remoteAddress;
    const type = isIP(source) === 6 ? 'ipv6' : 'ipv4';
    const tlsTenant = flow.protocol === 'tls' && flow.tls?.authorized === true ? flow.tls.tenant : undefined;
    if (tlsTenant !== undefined) {
      if (tlsTenant !== tenant) return false;
      const t = plan.order.find((x) => x.name === tenant);
      return !t || !t.restrictTls || plan.explicit.get(t.name)!.check(source, type);
    }
    return plan.lists.get(tenant)?.check(source, type) === true;
  }

  /** The first tenant (the default one first) whose trusted sources have `address`, as a shared listener attributes it. */
  tenantOf(address: string): string | undefined {
    const plan = this.#plan;
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return plan.order.find((t) => plan.lists.get(t.name)!.check(address, type))?.name;
  }

  /**
   * A request inside a known dialog that came from neither its peer nor a source its tenant trusts (edge-guard.ts):
   * 403 ('reject') or 'drop' as the plan's `untrusted` says, within the same per-source bound on 403s as new
   * requests; counted per listener as `dialog-source`. Its line is the core's (ERR_ENGINE_DIALOG_SOURCE).
   */
  refuseInDialog(flow: Flow): 'reject' | 'drop' {
    const counted = `${flow.listenerId ?? '-'} dialog-source`;
    this.#stats.byListener[counted] = (this.#stats.byListener[counted] ?? 0) + 1;
    return this.#bound(this.#plan, flow);
  }

  /** 'drop' when the plan drops untrusted sources or this source had its 403s this second, else 'reject'; counted. */
  #bound(plan: TrustLists, flow: Flow): 'reject' | 'drop' {
    if ((plan.options.untrusted ?? 'reject') === 'drop') {
      this.#stats.dropped++;
      return 'drop';
    }
    const key = sourceKey(flow.remoteAddress);
    const second = Math.floor(this.#clock.now() / 1000);
    let r = this.#rejects.get(key);
    if (!r || r.second !== second) {
      if (this.#rejects.size >= MAX_REJECT_SOURCES) {
        this.#rejects.clear();
        this.#stats.rejectTableResets++;
        this.#lines.line('warn', 'ERR_ENGINE_UNTRUSTED_SOURCE', { max: MAX_REJECT_SOURCES, rejectTableResets: this.#stats.rejectTableResets },
          `more than ${MAX_REJECT_SOURCES} untrusted sources refused: their per-source 403 counts start again`, '-table');
      }
      r = { second, n: 0 };
      this.#rejects.set(key, r);
    }
    if (++r.n > (plan.options.rejectsPerSecondPerSource ?? 5)) {
      this.#stats.dropped++;
      return 'drop';
    }
    this.#stats.rejected++;
    return 'reject';
  }

  /** Resolves the plan's host names again and swaps in lists built from them, unless a replace came meanwhile. */
  async #resolveAll(): Promise<void> {
    const plan = this.#plan;
    if (plan.hosts.length === 0) return;
    await this.#resolve(plan.hosts, plan.options);
    if (this.#plan !== plan) return;
    this.#plan = buildLists(plan.options, this.#resolved);
    this.#log.debug({ tenants: plan.options.tenants.length }, 'trusted sources resolved');
  }

  /** Resolves `hosts` into the last-known addresses; a failure keeps what the name had. The names that failed. */
  async #resolve(hosts: readonly string[], options: SourceTrustOptions): Promise<string[]> {
    const r = await resolveHosts(hosts, this.#lookup, this.#clock, options.resolveTimeoutMs ?? 5_000);
    for (const [host, addresses] of r.addresses) this.#resolved.set(host, addresses);
    for (const { host, err } of r.failed) {
      // A DNS outage must not lock a trunk out: the addresses the name had stay trusted.
      const kept = this.#resolved.get(host)?.length ?? 0;
      const tenant = options.tenants.filter((t) => t.hosts.includes(host)).map((t) => t.name).join(',');
      this.#stats.resolveFailures++;
      this.#lines.line('warn', 'ERR_ENGINE_TRUST_RESOLVE', { tenant, host, err, kept },
        `trusted source ${host} of tenant ${tenant} did not resolve; its last ${kept} address(es) stay trusted`, host);
    }
    return r.failed.map((f) => f.host);
  }
}

function hasToTag(m: SipMessage): boolean {
  return toTagOf(m) !== undefined;
}
