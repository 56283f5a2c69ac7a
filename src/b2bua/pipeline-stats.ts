import { CallStats } from './call-stats.js';
import type { CallLimitsSnapshot } from './call-limits.js';
import type { CallRatesSnapshot } from './call-rates.js';

/** What gateway.outbound kept `dns:` targets from (middleware/resolve-target.ts). */
export interface OutboundCounters {
  /** Resolved addresses refused as targets: loopback, unspecified, link-local, multicast, broadcast or the gateway's own. */
  resolvedRefused: number;
  /** NAPTR or SRV records past maxSrvRecords, not used. */
  srvRecordsCapped: number;
  /** Addresses past maxAddressesPerName, not used. */
  addressesCapped: number;
  /** Targets past maxTargetsPerCall, not tried. */
  targetsCapped: number;
  /** `dns:` targets whose resolution the call's deadline cut (resolveTimeoutMs). */
  resolveDeadline: number;
}

/** A point-in-time copy of the pipeline's outcome counters. */
export interface PipelineStatsSnapshot {
  /** 403 by the category refused. */
  deniedByCategory: Record<string, number>;
  /** 403 because no TLS peer matched and the tenant refuses unknown peers. */
  unknownPeerRejected: number;
  /** Calls whose identities matched no TLS peer but were let through with the tenant defaults. */
  unknownPeerAllowed: number;
  /** 404: no dial peer for the number. */
  noRoute: number;
  /** 483: Max-Forwards reached 0. */
  tooManyHops: number;
  /** 484: a called number that is neither digits (with an optional leading +) nor a feature code (middleware/classify-number.ts). */
  badNumber: number;
  /** 488: no acceptable SRTP suite left in an offer or answer. */
  cryptoRejected: number;
  /** Requests whose tenant could not be determined (403). */
  noTenant: number;
  /** X-Trunkgate-Peer headers that did not match how the request arrived, so were ignored. */
  peerHeaderIgnored: number;
  /** B-leg attempts moved on to the next target after 503/408/a transport failure. */
  failovers: number;
  /** B-leg attempts whose trunk answered 401/407 to the gateway's credentials, or to a tenant without any (middleware/b-leg-answers.ts). */
  bLegAuthFailed: number;
  /** Dial peers (or targets) passed over because the OPTIONS ping found their trunk down. */
  skippedDown: number;
  /** `dns:` targets that resolved to nothing (RFC 3263). */
  dnsFailures: number;
  /** What gateway.outbound refused or cut, once anything was. */
  outbound?: OutboundCounters;
  /** 503: the calling tenant already held its maxCalls calls. */
  refusedAtTenantLimit: number;
  /** Targets passed over because their dial peer or their tenant already held its maxCalls calls. */
  skippedAtLimit: number;
  /** 503: every target of the call was passed over for its dial peer's or tenant's maxCalls. */
  refusedAtTargetLimit: number;
  /** 503: the calling tenant was over its maxCallsPerSecond. */
  refusedOverTenantRate: number;
  /** Targets passed over because their dial peer was over its maxCallsPerSecond. */
  skippedOverRate: number;
  /** 503: every target of the call was passed over, the first for its dial peer's maxCallsPerSecond. */
  refusedOverTargetRate: number;
  /**
   * Calls held now on each tenant and dial peer that has a maxCalls, with that limit as configured (with several
   * apps, `calls` is summed over them; they keep the limit together, src/b2bua/app-call-counts.ts).
   */
  callLimits?: CallLimitsSnapshot;
  /**
   * Each tenant and dial peer that has a maxCallsPerSecond: that rate and its burst as configured, and the tokens
   * its bucket holds now (with several apps, summed over their buckets: each app holds a share; sum-stats.ts).
   */
  callRates?: CallRatesSnapshot;
}

/** The bridge counters plus what the policy steps decided. */
export class PipelineStats {
  readonly calls: CallStats;
  readonly #denied = new Map<string, number>();
  unknownPeerRejected = 0;
  unknownPeerAllowed = 0;
  noRoute = 0;
  tooManyHops = 0;
  badNumber = 0;
  cryptoRejected = 0;
  noTenant = 0;
  peerHeaderIgnored = 0;
  failovers = 0;
  bLegAuthFailed = 0;
  skippedDown = 0;
  dnsFailures = 0;
  readonly outbound: OutboundCounters = { resolvedRefused: 0, srvRecordsCapped: 0, addressesCapped: 0, targetsCapped: 0, resolveDeadline: 0 };
  refusedAtTenantLimit = 0;
  skippedAtLimit = 0;
  refusedAtTargetLimit = 0;
  refusedOverTenantRate = 0;
  skippedOverRate = 0;
  refusedOverTargetRate = 0;
  readonly #limits: { snapshot(): CallLimitsSnapshot } | undefined;
  readonly #rates: { snapshot(): CallRatesSnapshot } | undefined;

  /** `limits`: the calls held against the call limits; `rates`: the call-rate buckets; both shown in each snapshot. */
  constructor(calls: CallStats = new CallStats(), limits?: { snapshot(): CallLimitsSnapshot }, rates?: { snapshot(): CallRatesSnapshot }) {
    this.calls = calls;
    this.#limits = limits;
    this.#rates = rates;
  }

  denied(category: string): void {
    this.#denied.set(category, (this.#denied.get(category) ?? 0) + 1);
  }

  snapshot(): PipelineStatsSnapshot {
    const deniedByCategory: Record<string, number> = {};
    for (const [c, n] of [...this.#denied].sort((a, b) => a[0].localeCompare(b[0]))) deniedByCategory[c] = n;
    return {
      deniedByCategory, unknownPeerRejected: this.unknownPeerRejected, unknownPeerAllowed: this.unknownPeerAllowed,
      noRoute: this.noRoute, tooManyHops: this.tooManyHops, badNumber: this.badNumber, cryptoRejected: this.cryptoRejected, noTenant: this.noTenant,
      peerHeaderIgnored: this.peerHeaderIgnored, failovers: this.failovers, bLegAuthFailed: this.bLegAuthFailed, skippedDown: this.skippedDown,
      dnsFailures: this.dnsFailures, refusedAtTenantLimit: this.refusedAtTenantLimit, skippedAtLimit: this.skippedAtLimit,
      refusedAtTargetLimit: this.refusedAtTargetLimit, refusedOverTenantRate: this.refusedOverTenantRate, skippedOverRate: this.skippedOverRate,
      refusedOverTargetRate: this.refusedOverTargetRate, ...(Object.values(this.outbound).some((n) => n > 0) ? { outbound: { ...this.outbound } } : {}),
      ...(this.#limits ? { callLimits: this.#limits.snapshot() } : {}),
      ...(this.#rates ? { callRates: this.#rates.snapshot() } : {}),
    };
  }
}
