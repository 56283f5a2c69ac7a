import type { DialPeer, PermissionCategory, PermissionSet, TenantListener, TlsPeer } from '../policy/index.js';
import type { TenantMedia } from '../media/index.js';

/**
 * The plain data the b2bua's policy pipeline works on. It mirrors the configuration's shapes (tenants,
 * listeners, categories, TLS peers, dial peers) so the composition root can hand the loaded configuration
 * over nearly as is; the b2bua itself never sees YAML or zod.
 */

export type SipTransport = 'udp' | 'tcp' | 'tls';

/** Request-URI scheme of calls placed on a tenant (RFC 5630 for sips, RFC 3966 for tel). */
export type UrlScheme = 'sip' | 'sips' | 'tel';

/** OPTIONS keepalive towards a tenant's targets (config `optionsPing`). */
export interface OptionsPingPolicy {
  readonly intervalSeconds: number;
  /** Unanswered pings in a row before a target counts as down. Default 1. */
  readonly downAfter?: number;
}

/** Credentials for an ITSP that challenges our B legs (RFC 3261 §22.2, 401/407). */
export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
  /** Answer only challenges from this realm; any other realm gets no credentials. */
  readonly realm?: string;
}

/** A tenant (trunk) as the pipeline needs it. Extra fields (listeners) are ignored. */
export interface TenantPolicy {
  /** Digest credentials given when a B leg on this tenant is challenged. */
  readonly digest?: DigestCredentials;
  /** Transport of the B legs placed on this tenant. Default udp. */
  readonly transport?: SipTransport;
  /** Scheme of the B-leg Request-URI. Default sip. */
  readonly url?: UrlScheme;
  /**
   * Where calls on this tenant go: `host:port` (a name, IPv4, or `[IPv6]`) or `dns:name[:port]`; a list is
   * tried in order when a target fails. A dial peer's own sipServer overrides it.
   */
  readonly sipServer?: string | readonly string[];
  /** The TLS profile of B legs on this tenant, passed to the engine in X-Trunkgate-Route. */
  readonly tlsProfile?: string;
  /** SDES suites kept in SDP sent on this tenant, in this order; absent: a=crypto passes unchanged. */
  readonly srtpCrypto?: readonly string[];
  /** Permissions of callers on this tenant that match no TLS peer (over each category's default). */
  readonly defaultPermissions?: PermissionSet;
  /** A caller matching no TLS peer: allow with the defaults and a warning, or refuse (403). Default allow. */
  readonly unknownPeer?: 'allow' | 'reject';
  /** Ping each target with OPTIONS; a target that stops answering is skipped while others are up. */
  readonly optionsPing?: OptionsPingPolicy;
  /** A registration trunk: the contact kept registered at the registrar (config tenants.<name>.register). */
  readonly register?: RegisterPolicy;
  /** REGISTERs from this tenant's phones relayed to another tenant's registrar with Path (config registerRelay). */
  readonly registerRelay?: RegisterRelayPolicy;
  /** Media anchoring and SRTP on this tenant's leg (absent: flow-around, SDP passes with a=crypto filtered). */
  readonly media?: TenantMedia;
  /** Concurrent calls with this tenant on either leg, gateway-wide (call-limits.ts); absent: no limit. */
  readonly maxCalls?: number;
  /** New calls this tenant sends us a second, gateway-wide (a token bucket, call-rates.ts); absent: no rate. */
  readonly maxCallsPerSecond?: number;
  /** The bucket's size for maxCallsPerSecond; absent: max(1, ceil(maxCallsPerSecond)). */
  readonly callBurst?: number;
}

/** The rtpengine instances flow-through calls are anchored on (config gateway.media). */
export interface MediaRelayPolicy {
  readonly rtpengines: readonly { readonly host: string; readonly port: number }[];
  readonly timeoutMs: number;
  readonly pingIntervalMs: number;
  /** No live rtpengine: 503 with a Reason (reject, the default) or the call's media flows around the gateway. */
  readonly whenDown?: 'reject' | 'flow-around';
  /** An anchored call with no media for this long is ended with BYE on both legs (cause media-timeout); absent: never. */
  readonly rtpTimeoutMs?: number;
}

/** A tenant's registration at its registrar, the password read from its variable. */
export interface RegisterPolicy {
  readonly registrar: string;
  readonly username: string;
  readonly password: string;
  readonly realm?: string;
  readonly domain?: string;
  readonly expires: number;
  readonly contactUser: string;
  readonly retrySeconds: { readonly min: number; readonly max: number };
  /** Seconds between OPTIONS probes of the registrar while registered (0: none); absent: 30. */
  readonly probeSeconds?: number;
}

/** Where a tenant's REGISTERs are relayed (config tenants.<name>.registerRelay, resolved against tenant `to`). */
export interface RegisterRelayPolicy {
  /** The registrar tenant: requests to the relayed bindings are taken only from its sources. */
  readonly to: string;
  /** `host:port` or `dns:name` of the registrar. */
  readonly registrar: string;
  /** How the gateway reaches the registrar: the `to` tenant's transport, scheme and TLS profile. */
  readonly transport: SipTransport;
  readonly scheme: 'sip' | 'sips';
  readonly tlsProfile?: string;
  /** The gateway's address on the registrar's side, named in the Path (a listener of `to`, or a shared one). */
  readonly path: { readonly host: string; readonly port: number };
  readonly maxBindings: number;
  readonly maxExpires: number;
}

/** A dial peer, with the optional target that overrides its tenant's sipServer (CUBE `session target`). */
export interface B2buaDialPeer extends DialPeer {
  readonly sipServer?: string;
  /**
   * Longest wait for a B leg on this dial peer to answer (a final response); then the attempt is cancelled and
   * the next target or dial peer is tried. Absent: the transaction's own timeout (64·T1, 32 s).
   */
  readonly noAnswerTimeoutSeconds?: number;
  /** Concurrent B legs routed over this dial peer, gateway-wide (CUBE `max-conn`, call-limits.ts); absent: no limit. */
  readonly maxCalls?: number;
  /** B-leg attempts placed over this dial peer a second, gateway-wide (CUBE `call spike`, call-rates.ts); absent: no rate. */
  readonly maxCallsPerSecond?: number;
  /** The bucket's size for maxCallsPerSecond; absent: max(1, ceil(maxCallsPerSecond)). */
  readonly callBurst?: number;
}

/** RFC 4028 session timers the b2bua runs on each leg of a connected call. */
export interface SessionTimerPolicy {
  /** Session-Expires asked for and granted (seconds). RFC 4028 recommends 1800. */
  readonly expiresSeconds: number;
  /** Min-SE: the shortest interval accepted; shorter asks get 422 (RFC 4028 floor 90). */
  readonly minSeSeconds: number;
}

/** What bounds a connected call. */
export interface CallLimitsPolicy {
  /** Session timers on both legs; absent: none (a dead call then lasts until maxDurationSeconds). */
  readonly sessionTimer?: SessionTimerPolicy;
  /** A connected call is ended with BYE on both legs after this long; absent: no limit. */
  readonly maxDurationSeconds?: number;
  /**
   * The engine's time for an app to answer a call it rang (gateway.limits.appFinalTimeoutMs, embedded engine):
   * the b2bua ends a call still ringing a little before it (setup-deadline.ts); absent: the engine's default.
   */
  readonly appFinalTimeoutMs?: number;
}

/**
 * gateway.outbound: what a `dns:` target may resolve to and the bounds of resolving it (middleware/resolve-target.ts).
 * Each field absent: its default there.
 */
export interface OutboundPolicy {
  /** Addresses and CIDRs a DNS answer may name although loopback, link-local, multicast, unspecified or the gateway's own. */
  readonly allowResolved?: readonly string[];
  readonly maxSrvRecords?: number;
  readonly maxAddressesPerName?: number;
  readonly maxTargetsPerCall?: number;
  /** One deadline on every `dns:` lookup of one call (ms). */
  readonly resolveTimeoutMs?: number;
  /** How long a failed lookup is remembered (ms). */
  readonly negativeCacheMs?: number;
}

export interface B2buaPolicy {
  readonly tenants: Readonly<Record<string, TenantPolicy>>;
  /** Every SIP listener with its tenant (config `listListeners`): the tenant of a request without a usable X-Trunkgate-Peer. */
  readonly listeners?: readonly TenantListener[];
  /** Server name → tenant for TLS tenants picked by SNI (config `tenantsByServerName`). */
  readonly sniTenants?: Readonly<Record<string, string>>;
  /** The tenant of calls on a shared listener naming none (gateway.defaultTenant). */
  readonly defaultTenant?: string;
  /** Permission categories in the order they are checked (config `effectiveCategories`). */
  readonly categories: readonly PermissionCategory[];
  /** Certificate identity → permissions. */
  readonly tlsPeers?: Readonly<Record<string, TlsPeer>>;
  readonly dialPeers: readonly B2buaDialPeer[];
  /** Session timers and the longest call (config gateway.calls). */
  readonly calls?: CallLimitsPolicy;
  /** rtpengine for flow-through tenants; absent: none configured. */
  readonly media?: MediaRelayPolicy;
  /** Retry-After (seconds) of the 503 a call gets at a call limit or over a call rate (config gateway.limits.retryAfterSeconds); absent: 5. */
  readonly retryAfterSeconds?: number;
  /** gateway.outbound; absent: every default. */
  readonly outbound?: OutboundPolicy;
  /**
   * external: the app runs against a real drachtio-server, which passes an X-Trunkgate-Peer from the network on
   * untouched, so the header is never believed (the tenant comes from the listener, or the default tenant).
   * Absent: the embedded engine, which removes any network copy and writes its own.
   */
  readonly engine?: 'external';
}

/**
 * The header the engine adds to every request it delivers, after removing any copy that came from the
 * network: `tenant=<t>;verified=<0|1>;transport=<udp|tcp|tls>;identities="sip:a,dns:b"`. The pipeline
 * removes it from the request before anything is sent on.
 */
export const PEER_HEADER = 'X-Trunkgate-Peer';

/**
 * The header the b2bua puts on a B-leg INVITE for the engine: `tenant=<t>;profile=<tls profile>`. The engine
 * picks the client TLS profile from it and removes it before the request leaves.
 */
export const ROUTE_HEADER = 'X-Trunkgate-Route';

/** Headers that belong between the engine and the app and never go to a peer. */
export const INTERNAL_HEADERS: readonly string[] = [PEER_HEADER, ROUTE_HEADER];
