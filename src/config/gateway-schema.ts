import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../common/index.js';
import { BindHostSchema, EnvNameSchema, NameSchema, PortSchema } from './common-schema.js';
import { TrustedSourceSchema } from './tenant-schema.js';

/** A shared SIP listener of the gateway. */
export const ListenerSchema = z.strictObject({
  transport: z.enum(['udp', 'tcp', 'tls']),
  host: BindHostSchema.default('0.0.0.0'),
  port: PortSchema,
  /** TLS only: the profile served by default (others are picked by SNI through their serverNames). */
  tlsProfile: NameSchema.optional(),
  /** Calls arriving here belong to this tenant (else to the tenant picked by SNI, else gateway.defaultTenant). */
  tenant: NameSchema.optional(),
  /** TLS only: refuse a handshake whose SNI names no profile served here (instead of serving tlsProfile). */
  refuseUnknownSni: z.boolean().optional(),
});

/**
 * The admin API (connection table, counters, Prometheus metrics, reload). Loopback by default; any other
 * address needs the token to be set, or the gateway refuses to start.
 */
export const AdminSchema = z.strictObject({
  /** false: no admin API (reload then by SIGHUP only). */
  enabled: z.boolean().default(true),
  host: BindHostSchema.default('127.0.0.1'),
  port: PortSchema.default(8080),
  /** The environment variable holding the bearer token of the admin API (unset: no token asked on loopback). */
  tokenEnv: EnvNameSchema.default('TRUNKGATE_ADMIN_TOKEN'),
  /** Connections open at once, all sources together; past it a connection is closed at accept (ERR_ADMIN_CONN_LIMIT). */
  maxConnections: z.number().int().min(1).max(100_000).default(64),
  /** Of those, from one source address (ERR_ADMIN_CONN_SOURCE_LIMIT). */
  maxConnectionsPerSource: z.number().int().min(1).max(100_000).default(16),
});

/** How many synthetic calls warm the engine before its listeners open. */
export const PrewarmCallsSchema = z.number().int().min(0).max(20_000);
/** gateway.engine.prewarmCalls when the file does not say. */
export const DEFAULT_PREWARM_CALLS = 1_000;

/** embedded: the engine of this process (every TLS-profile feature); external: a real drachtio-server. */
export const EngineSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('embedded'),
    /** The loopback drachtio control endpoint between the engine and the b2bua. */
    control: z.strictObject({ host: BindHostSchema.default('127.0.0.1'), port: PortSchema.default(9022) }).prefault({}),
    /**
     * Synthetic calls run before the listeners open, so the first real calls do not pay for code V8 has not
     * compiled yet: on the engine's thread and on the b2bua's, end to end through a throwaway engine and app on
     * loopback ports (src/prewarm/b2bua-prewarm.ts; the engine's thread through a throwaway SIP core in memory
     * instead when that fails, src/engine/prewarm.ts). 0 turns both off.
     */
    prewarmCalls: PrewarmCallsSchema.default(DEFAULT_PREWARM_CALLS),
    /**
     * worker: the engine in a thread of its own, so SIP gets a core beside the b2bua's (the most calls a second);
     * main: the engine in the b2bua's thread, one core for both (less CPU per call at low rates, a lower ceiling;
     * docs/performance.md).
     */
    thread: z.enum(['worker', 'main']).default('worker'),
  }),
  z.strictObject({
    mode: z.literal('external'),
    host: z.string().min(1),
    port: PortSchema.default(9022),
    secretEnv: EnvNameSchema.default('TRUNKGATE_ENGINE_SECRET'),
  }),
]);

/**
 * What bounds a connected call: RFC 4028 session timers on both legs and the longest duration. Intervals under
 * RFC 4028's 90 s floor are accepted for tests and labs; production keeps the defaults or longer.
 */
export const CallsSchema = z.strictObject({
  sessionTimer: z.strictObject({
    enabled: z.boolean().default(true),
    /** Session-Expires asked for on B legs and the most granted on A legs (RFC 4028 recommends 1800). */
    expiresSeconds: z.number().int().min(1).max(86_400).default(1800),
    /** Min-SE: shorter asks get 422 (RFC 4028 §5: at least 90). */
    minSeSeconds: z.number().int().min(1).max(86_400).default(90),
  }).prefault({}),
  /** A connected call is ended with BYE on both legs after this long; 0: no limit. */
  maxDurationSeconds: z.number().int().min(0).max(604_800).default(0),
});

/** SIGTERM: new calls get 503 with Retry-After, calls up get this long to end, then BYE; then exit 0. */
export const ShutdownSchema = z.strictObject({
  drainSeconds: z.number().int().min(0).max(3_600).default(30),
  /** Retry-After (seconds) on the 503 a new call gets while the gateway drains. */
  retryAfterSeconds: z.number().int().min(0).max(86_400).default(60),
});

const ms = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def);

/** gateway.limits: connections, handshakes, message time and size, and the SIP core's answer times and tables. */
export const LimitsSchema = z.strictObject({
  maxConnections: ms(1, 1_000_000, 4_096),
  maxConnectionsPerSource: ms(1, 1_000_000, 64),
  handshakeTimeoutMs: ms(100, 600_000, 10_000),
  unusedConnectionTimeoutMs: ms(100, 3_600_000, 60_000),
  /** A TCP/TLS connection in use (a trusted request came on it, or one of ours went out on it) is closed after this long without traffic. */
  idleConnectionTimeoutMs: ms(1_000, 86_400_000, 3_600_000),
  messageTimeoutMs: ms(100, 600_000, 10_000),
  /** Bytes that may wait unread by a TCP/TLS peer; past it the connection is closed (ERR_SIP_TRANSPORT_SEND_BUFFER_FULL). */
  maxSendBufferBytes: ms(16_384, 67_108_864, 1_048_576),
  /** Outbound TCP/TLS connections open or connecting at once; past it a new one is not opened (ERR_SIP_TRANSPORT_OUTBOUND_LIMIT). */
  maxOutboundConnections: ms(1, 1_000_000, 1_024),
  /** Of those, to one remote address; past it a new one to that address is not opened (ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT). */
  maxOutboundConnectionsPerAddress: ms(1, 1_000_000, 64),
  maxMessageBytes: ms(1_024, 1_048_576, 65_535),
  maxHeaders: ms(16, 4_096, 256),
  appAnswerTimeoutMs: ms(100, 600_000, 5_000),
  appFinalTimeoutMs: ms(1_000, 3_600_000, 180_000),
  maxServerTransactions: ms(1, 1_000_000, 10_000),
  maxClientTransactions: ms(1, 1_000_000, 10_000),
  maxDialogs: ms(1, 10_000_000, 20_000),
  /** Transactions at work at once (waiting for a final response, or the ACK of a non-2xx); past it new requests get 503 (ERR_SIP_TRANSACTION_LIMIT). */
  maxTransactions: ms(100, 10_000_000, 50_000),
  /** Finished transactions waiting out their final timer (32 s over UDP, about 1 KB each); past it the oldest waits end early. */
  maxTransactionWaits: ms(1_000, 10_000_000, 150_000),
  retryAfterSeconds: ms(1, 3_600, DEFAULT_RETRY_AFTER_SECONDS),
  /** New requests (outside a dialog) a second per source address; 0: no limit. Requests of a live dialog are never charged. */
  requestsPerSecondPerSource: ms(0, 1_000_000, 500),
  /** Requests a source may send at once after a quiet spell; default twice the rate. */
  requestBurstPerSource: z.number().int().min(1).max(10_000_000).optional(),
  /** Past the rate: 503 with Retry-After and a Reason (reject), or no answer (drop). */
  overRate: z.enum(['reject', 'drop']).default('reject'),
  /** 400s a second one source may be sent for messages that cannot be parsed (burst twice that); past it, no answer. */
  badRequestsPerSecondPerSource: ms(1, 1_000_000, 5),
  /**
   * CDRs a second (burst twice that) for refused calls: the new INVITEs the embedded engine refuses before any app
   * sees them (untrusted source, source rate, overload, a full table, no app), and, as a bound of their own, the calls
   * the b2bua refuses before any B leg is tried (call rate, call limit, no route, permissions, media policy, Min-SE,
   * draining), each of the gateway.workers apps taking its share. Past it a refusal is answered and counted but gets
   * no CDR (nor, from the b2bua, its `cdr` line); a call that reached a B leg always has its CDR. 0: no such CDRs.
   */
  refusalCdrsPerSecond: ms(0, 100_000, 50),
  maxHandshakes: ms(1, 1_000_000, 128),
  maxHandshakesPerSource: ms(1, 1_000_000, 16),
  /**
   * Overload control: fewer new INVITEs are admitted after each 100 ms in which the kernel held more than
   * maxReceiveQueueMs of datagrams for the UDP listeners, the engine's event loop was later than maxEventLoopDelayMs, or (when
   * set) the engine thread was busier than maxUtilization; all of them are shed while the app has
   * maxUnansweredInvites new INVITEs it has not answered. 0 turns a sign off. Calls in progress are never shed.
   */
  maxUtilization: z.number().min(0).max(1).default(0),
  maxEventLoopDelayMs: ms(0, 60_000, 250),
  maxReceiveQueueMs: ms(0, 60_000, 150),
  maxUnansweredInvites: ms(0, 1_000_000, 150),
  /** A shed INVITE: 503 with Retry-After and `Reason: SIP;cause=503;text="overloaded"` (reject), or no answer (drop). */
  overload: z.enum(['reject', 'drop']).default('reject'),
});

/** One rtpengine's ng control socket (UDP). */
export const RtpengineSchema = z.strictObject({
  host: z.string().refine((h) => isIP(h) !== 0, { error: 'an IP address (IPv4 or IPv6 literal)' }),
  port: PortSchema.default(22222),
});

/**
 * rtpengine instances for flow-through tenants: new calls go to a live one (round robin), each call's answer and
 * delete to the one that took its offer; health pings every pingIntervalSeconds. None (the default): no tenant
 * may be flow-through.
 */
export const MediaSchema = z.strictObject({
  rtpengines: z.array(RtpengineSchema).default([]),
  /** How long one ng request waits for its reply. */
  timeoutMs: ms(50, 30_000, 1_000),
  pingIntervalSeconds: z.number().int().min(1).max(3_600).default(5),
  /**
   * A flow-through call when no rtpengine is live: reject (503 with a Reason) or flow-around (SDP passes leg to leg
   * as without media anchoring, unless a tenant's srtp: required then cannot be met). Counted and logged either way.
   */
  whenDown: z.enum(['reject', 'flow-around']).default('reject'),
  /**
   * An anchored call on which rtpengine has received no media for this long is ended with BYE and a Reason on both
   * legs (CDR cause media-timeout), a dead-call signal beside session timers; 0: never.
   */
  rtpTimeoutSeconds: z.number().int().min(0).max(86_400).default(0),
});

/**
 * Where a call may be sent when a `dns:` target names it, and how much resolving one call may use. An address a DNS
 * answer gave is never trusted as ours: loopback, unspecified, link-local (169.254.169.254, cloud metadata),
 * multicast and broadcast addresses and the gateway's own addresses are refused as targets unless allowResolved
 * holds them (ERR_B2BUA_TARGET_REFUSED); private ranges stay allowed. Addresses written in a sipServer are the
 * administrator's and are not checked. Each bound is counted and logged with its code (src/b2bua/middleware/resolve-target.ts).
 */
export const OutboundSchema = z.strictObject({
  /** Addresses and CIDRs a DNS answer may name although they are loopback, link-local, ... or the gateway's own (labs, tests). */
  allowResolved: z.array(TrustedSourceSchema).default([]),
  /** SRV (and NAPTR) records used per name, in RFC 2782 order; the rest are dropped (ERR_B2BUA_DNS_CAPPED). */
  maxSrvRecords: ms(1, 64, 8),
  /** A and AAAA addresses used per host name (ERR_B2BUA_DNS_CAPPED). */
  maxAddressesPerName: ms(1, 64, 8),
  /** Targets one call may try, configured and resolved together (ERR_B2BUA_TARGETS_CAPPED). */
  maxTargetsPerCall: ms(1, 256, 16),
  /** One deadline on all the `dns:` lookups of a call; past it the call goes on with what it has (ERR_B2BUA_DNS_DEADLINE). */
  resolveTimeoutMs: ms(100, 60_000, 4_000),
  /** How long a name that did not resolve is answered from memory with its failure, without asking again. */
  negativeCacheMs: ms(0, 3_600_000, 30_000),
});

export const GatewaySchema = z.strictObject({
  /** Our SIP domain (Contact, Record-Route, SNI we answer to). */
  domain: z.string().min(1).optional(),
  /** Address of tenant listeners that do not name one (CUBE `bind control source-interface`). */
  bindHost: BindHostSchema.default('0.0.0.0'),
  listen: z.array(ListenerSchema).default([]),
  /** The tenant of calls on a shared listener that names none and matched no SNI. */
  defaultTenant: NameSchema.optional(),
  /**
   * A new request from a source no tenant trusts (its targets, its trustedSources): 403 with a Reason (reject) or
   * no answer at all (drop).
   */
  untrusted: z.enum(['reject', 'drop']).default('reject'),
  /** Bounds of the engine; every one has a counter when hit (README "Security"). */
  limits: LimitsSchema.prefault({}),
  admin: AdminSchema.prefault({}),
  engine: EngineSchema.prefault({ mode: 'embedded' }),
  calls: CallsSchema.prefault({}),
  shutdown: ShutdownSchema.prefault({}),
  /** rtpengine for media flow-through (README "Media (rtpengine)"). */
  media: MediaSchema.prefault({}),
  /** What `dns:` targets may resolve to, and the bounds of resolving them (README "Security"). */
  outbound: OutboundSchema.prefault({}),
  /**
   * pipeline (default): every call runs the policy (tenant, TLS-peer permissions, category, dial peer); no dial
   * peer for a number, or none configured, refuses the call with 404 and a Reason. bridge: every call that passes
   * the transport's source checks goes to the default tenant's sipServer with no policy at all; the gateway warns
   * at start and in /health while it runs so.
   */
  policy: z.enum(['pipeline', 'bridge']).default('pipeline'),
  /**
   * How many b2bua apps take the calls (pipeline only): this process's own, plus worker threads, all on the one
   * engine, which spreads new calls over them and keeps each dialog with its app. auto: one per core left
   * beside the engine's (the cores less one, at least one).
   */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(32)]).default(1),
});

export type ListenerConfig = z.output<typeof ListenerSchema>;
export type GatewaySection = z.output<typeof GatewaySchema>;
export type CallsConfig = z.output<typeof CallsSchema>;
export type MediaConfig = z.output<typeof MediaSchema>;
export type OutboundConfig = z.output<typeof OutboundSchema>;
export type ShutdownConfig = z.output<typeof ShutdownSchema>;
