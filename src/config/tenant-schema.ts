import { isIP } from 'node:net';
import { z } from 'zod';
import { BindHostSchema, EnvNameSchema, NameSchema, PortSchema } from './common-schema.js';
import { parseSipServer } from './sip-server.js';

export const TransportSchema = z.enum(['udp', 'tcp', 'tls']);

/** An IPv4 or IPv6 address, or a CIDR block of either. */
export const TrustedSourceSchema = z.string().refine((s) => {
  const [addr, len, ...rest] = s.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (len === undefined) return true;
  const n = /^\d{1,3}$/.test(len) ? Number(len) : -1;
  return n >= 0 && n <= (family === 4 ? 32 : 128);
}, { error: 'an IPv4 or IPv6 address, or a CIDR such as 192.0.2.0/24 or 2001:db8::/32' });

export const SipServerSchema = z.string().refine((s) => parseSipServer(s) !== undefined, {
  error: 'host:port ([IPv6]:port), or dns:name[:port]',
});

/** A listener a tenant owns; its transport defaults to the tenant's. */
export const TenantListenSchema = z.strictObject({
  host: BindHostSchema.optional(),
  port: PortSchema,
  transport: TransportSchema.optional(),
});

/** RFC 4568 / RFC 7714 SDES crypto suites, in the order the tenant prefers them. */
export const SrtpSuiteSchema = z.enum([
  'AEAD_AES_256_GCM',
  'AEAD_AES_128_GCM',
  'AES_256_CM_HMAC_SHA1_80',
  'AES_256_CM_HMAC_SHA1_32',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
]);

/**
 * Media of this tenant's calls. flow-around (the default): SDP passes leg to leg and media flows between the
 * endpoints. flow-through: the call's media is anchored on rtpengine (gateway.media.rtpengines), so each side
 * sees only the gateway's media address. `srtp` is the SDES policy of this tenant's leg; `suites` its SDES suites
 * in order (default: srtpCrypto, else rtpengine's own list).
 */
export const TenantMediaSchema = z.strictObject({
  mode: z.enum(['flow-through', 'flow-around']).default('flow-around'),
  /** required: SDES SRTP only (a plain offer from it, or one that cannot be secured towards it, gets 488); off: plain RTP towards it. */
  srtp: z.enum(['required', 'optional', 'off']).default('optional'),
  suites: z.array(SrtpSuiteSchema).min(1).optional(),
  /**
   * Addresses and CIDRs this tenant's SDP may name as its media on an anchored call (absent: any unicast address).
   * Loopback, link-local, multicast and broadcast addresses are always refused (488), except loopback and
   * link-local ones an entry lies inside (127.0.0.0/8, ::1, fe80::/10): 0.0.0.0/0 does not name them.
   */
  allowedNetworks: z.array(TrustedSourceSchema).min(1).optional(),
});

/** A tenant (CUBE `voice class tenant`): one trunk, its listeners, transport, scheme, profile and target. */
export const TenantSchema = z.strictObject({
  description: z.string().optional(),
  /** Transport of calls we place on this tenant. */
  transport: TransportSchema.default('udp'),
  /** Plain listeners of this tenant (one or a list). */
  listen: z.union([TenantListenSchema, z.array(TenantListenSchema)]).optional(),
  /** Port of this tenant's own TLS listener (CUBE `listen-port secure`), on gateway.bindHost. */
  listenPortSecure: PortSchema.optional(),
  /** Request-URI scheme of calls we place: sips means TLS on every hop (RFC 5630). */
  url: z.enum(['sip', 'sips', 'tel']).default('sip'),
  tlsProfile: NameSchema.optional(),
  sipServer: SipServerSchema.optional(),
  /** SDES suites kept in SDP offers and answers, in this order; absent: a=crypto passes unchanged. */
  srtpCrypto: z.array(SrtpSuiteSchema).min(1).optional(),
  /** Media anchoring and SRTP policy (absent: flow-around, SDP as it is today). */
  media: TenantMediaSchema.optional(),
  /** OPTIONS keepalive towards sipServer; a trunk that stops answering is down and its dial peers skipped. */
  optionsPing: z
    .strictObject({
      intervalSeconds: z.number().int().min(1).max(3600).default(30),
      /** Unanswered pings before the trunk counts as down. */
      downAfter: z.number().int().min(1).max(10).default(1),
    })
    .optional(),
  /** Digest credentials for an ITSP that challenges us. */
  digest: z
    .strictObject({
      username: z.string().min(1),
      realm: z.string().min(1).optional(),
      /** Environment variable holding the password. */
      passwordEnv: EnvNameSchema,
      password: z.never({ error: 'inline passwords are refused: put it in an environment variable and name that in passwordEnv' }).optional(),
    })
    .optional(),
  /**
   * A registration trunk (CUBE `sip-ua` registrar, sipXbridge "register on initialization"): the gateway keeps
   * `contactUser` registered at the registrar (default: sipServer) with digest credentials, refreshes it before
   * it expires, backs off and fails over across the registrar's RFC 3263 targets when it fails; INVITEs to that
   * contact are this tenant's calls.
   */
  register: z
    .strictObject({
      /** `host[:port]` or `dns:name` of the registrar; default the tenant's (first) sipServer. */
      registrar: SipServerSchema.optional(),
      username: z.string().min(1).max(128).regex(/^[^\s@<>";]+$/, { error: 'a SIP user: no spaces, @, <, >, ", ;' }),
      /** The domain of the address of record (sip:username@domain); default the registrar's host. */
      domain: z.string().min(1).max(253).optional(),
      realm: z.string().min(1).optional(),
      passwordEnv: EnvNameSchema,
      password: z.never({ error: 'inline passwords are refused: put it in an environment variable and name that in passwordEnv' }).optional(),
      /** Expires asked for (RFC 3261 §10.2.1); the registrar may grant less. */
      expires: z.number().int().min(10).max(86_400).default(3600),
      /** The user part of the Contact registered; default the username. */
      contactUser: z.string().min(1).max(128).regex(/^[^\s@<>";]+$/, { error: 'a SIP user: no spaces, @, <, >, ", ;' }).optional(),
      /**
       * Every this many seconds while registered, an OPTIONS to the registrar over the REGISTER's own path: when it
       * comes back over another connection (the registrar restarted, the TCP/TLS connection dropped) or after the
       * registrar was unreachable, the trunk registers again at once (RFC 5626 §4.4.1's flow recovery). 0: off.
       */
      probeSeconds: z.number().int().min(0).max(3600).default(30),
      /** Waits after a failure: from `min`, doubling to `max` seconds. */
      retrySeconds: z.strictObject({ min: z.number().int().min(1).max(3600).default(5), max: z.number().int().min(1).max(86_400).default(300) }).prefault({}),
    })
    .optional(),
  /**
   * REGISTER relay (an edge proxy in front of a registrar, Kamailio `add_path` / the Genesys SIP Proxy case): the
   * phones and PBXs of this tenant register through the gateway to the registrar of tenant `to` (its `registrar`,
   * else `to`'s register.registrar, else its sipServer), with a Path (RFC 3327) naming the gateway and a signed flow
   * token; requests to those bindings come back to the phone over the connection it registered on (RFC 5626).
   * Off by default: a REGISTER on a tenant without it is refused.
   */
  registerRelay: z
    .strictObject({
      /** The tenant whose registrar the REGISTERs go to (and whose sources may then send requests to the bindings). */
      to: NameSchema,
      /** `host[:port]` of the registrar; default the `to` tenant's register.registrar, else its first sipServer. */
      registrar: SipServerSchema.optional(),
      /** Flows (connections, or UDP sources) with a live relayed binding at once; a REGISTER from a new one past it gets 503. */
      maxBindings: z.number().int().min(1).max(1_000_000).default(10_000),
      /** Longest binding kept for a flow when the registrar's answer names none, and the cap on what it grants (seconds). */
      maxExpires: z.number().int().min(60).max(86_400).default(7200),
    })
    .optional(),
  /** Permissions of callers on this tenant that match no TLS peer (over each category's default). */
  defaultPermissions: z.record(NameSchema, z.boolean()).default({}),
  /**
   * Addresses and CIDRs (IPv4, IPv6) besides the tenant's targets that may send it new requests (CUBE's trusted
   * list). On a TLS tenant, a peer must then also come from one of these, beside its certificate.
   */
  trustedSources: z.array(TrustedSourceSchema).optional(),
  /**
   * Behind a SIP proxy that terminates the carrier's mutual TLS (Kamailio's dispatcher in front of several
   * gateways): the certificate names the proxy verified arrive in `header` and count as the caller's TLS
   * identities, only from `trustedFrom`; from anywhere else the header is removed and ignored.
   */
  proxyIdentity: z
    .strictObject({
      header: z.string().regex(/^X-[A-Za-z0-9-]{1,60}$/, { error: 'an X- header name' })
        .refine((h) => !h.toLowerCase().startsWith('x-trunkgate-'), { error: 'X-Trunkgate- headers are the gateway\'s own' }),
      trustedFrom: z.array(TrustedSourceSchema).min(1),
    })
    .optional(),
  /** A caller matching no TLS peer: allow with the defaults and a warning, or refuse (403). */
  unknownPeer: z.enum(['allow', 'reject']).default('allow'),
  /**
   * Concurrent calls with this tenant on either leg: the calls it sends us (each held from the moment its tenant is
   * known until the call ends, however it ends) plus the B legs placed on it (held as a dial peer's maxCalls). A new
   * call from it past the limit gets 503 with Retry-After and a Reason (ERR_B2BUA_CALL_LIMIT); a B leg towards it is
   * passed over for the next target. With gateway.workers N > 1 the apps count together, so the limit holds for the
   * gateway (src/b2bua/app-call-counts.ts). A reload applies a new limit to the calls already held. Absent: no limit.
   */
  maxCalls: z.number().int().min(1).max(1_000_000).optional(),
  /**
   * New calls this tenant may send us a second (CUBE `call spike`): a token bucket of callBurst tokens refilled at
   * this rate, each new call from the tenant taking one as it is admitted (before its maxCalls slot). A call finding
   * the bucket empty gets 503 with Retry-After and a Reason (ERR_B2BUA_CALL_RATE); it holds no slot. Fractions are
   * allowed (0.5: one call every two seconds). With gateway.workers N > 1 each app refills at maxCallsPerSecond / N
   * and holds ceil(callBurst / N) tokens. A reload applies a new rate to the bucket, keeping its tokens up to the
   * new burst. B legs towards this tenant are not counted here (a dial peer's own rate is). Absent: no rate.
   */
  maxCallsPerSecond: z.number().gt(0).max(100_000).optional(),
  /** Tokens of the maxCallsPerSecond bucket: calls that may come at once after a quiet spell. Ignored without maxCallsPerSecond. Absent: max(1, ceil(maxCallsPerSecond)). */
  callBurst: z.number().int().min(1).max(1_000_000).optional(),
});

export type TenantConfig = z.output<typeof TenantSchema>;
export type TenantMediaConfig = z.output<typeof TenantMediaSchema>;
export type TenantListenConfig = z.output<typeof TenantListenSchema>;
