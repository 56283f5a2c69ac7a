/**
 * JSON Schemas of the admin API's answers: they document the API (OpenAPI at /openapi.json) and fastify
 * serializes with them. Objects whose keys are data (counters by code) allow any further property.
 */

import { adminActionsSchema, adminRefusedSchema } from './call-schemas.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const strings = { type: 'array', items: str } as const;
const counts = { type: 'object', additionalProperties: int } as const;

export const errorSchema = {
  type: 'object',
  properties: { code: str, message: str },
  required: ['code', 'message'],
} as const;

export const connectionSchema = {
  type: 'object',
  description: "One TCP or TLS connection (CUBE's show sip-ua connections tcp tls detail)",
  properties: {
    id: str,
    protocol: { type: 'string', enum: ['tcp', 'tls'] },
    direction: { type: 'string', enum: ['inbound', 'outbound'] },
    state: { type: 'string', enum: ['connecting', 'open', 'closing', 'closed'] },
    localAddress: str, localPort: int, remoteAddress: str, remotePort: int,
    listenerId: str, tenant: str, tlsProfile: str, servername: str,
    createdAt: { type: 'number', description: 'ms since the epoch' },
    lastActivityAt: { type: 'number' },
    bytesIn: int, bytesOut: int, messagesIn: int, messagesOut: int,
    tls: {
      type: 'object',
      properties: {
        version: str,
        cipher: { type: 'string', description: 'OpenSSL name for TLS 1.2, IANA name for TLS 1.3' },
        group: str,
        authorized: { type: 'boolean', description: "the peer's chain verified against the profile's trust store" },
        identities: { ...strings, description: "the peer certificate's identities: sip:, dns:, ip:, cn:" },
        profile: str, tenant: str, servername: str,
      },
    },
  },
} as const;

export const connectionsSchema = {
  type: 'object',
  properties: { count: int, connections: { type: 'array', items: connectionSchema } },
} as const;

const certificateSchema = {
  type: 'object',
  properties: {
    subject: str, commonName: str, issuer: str, san: strings, notBefore: str, notAfter: str,
    keyType: str, keySize: int, fingerprint256: str, serialNumber: str,
  },
} as const;

export const tlsSchema = {
  type: 'object',
  properties: {
    version: { type: 'integer', description: 'generation of the profile set: +1 per accepted reload' },
    profiles: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: str, tenant: str, minVersion: str, maxVersion: str, requestCert: bool, cnSanValidate: str, sni: str,
          serverNames: strings, ciphers: strings, certificate: certificateSchema, clientCertificate: certificateSchema,
        },
      },
    },
    failures: {
      type: 'array',
      description: 'handshake failures per tenant ("-" when unknown), direction and reason code',
      items: {
        type: 'object',
        properties: { tenant: str, direction: { type: 'string', enum: ['client', 'server'] }, reason: str, count: int },
      },
    },
  },
} as const;

/** A tenant listener that could not bind at start. */
export const listenerDownSchema = {
  type: 'object',
  properties: { id: str, protocol: str, host: str, port: int, tenant: str, error: str },
} as const;

export const trunksSchema = {
  type: 'object',
  properties: {
    trunks: {
      type: 'array',
      items: {
        type: 'object',
        properties: { tenant: str, server: str, state: { type: 'string', enum: ['unknown', 'up', 'down'] }, failures: int, lastStatus: int },
      },
    },
    wentDown: int, cameUp: int, pings: int, pingFailures: int, resolvedRefused: int,
    listenersDown: { type: 'array', items: listenerDownSchema },
    registrations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          tenant: str, registrar: str, aor: str, contactUser: str, state: { type: 'string', enum: ['unregistered', 'registered', 'failed'] },
          target: str, granted: int, expiresAt: { type: 'string', format: 'date-time' }, lastStatus: int, lastError: str, failures: int, registers: int,
          intervalTooBrief: int, resolvedRefused: int,
        },
      },
    },
  },
} as const;

/** One certificate as `pki list` and `pki inspect --json` show it. */
export const certificateRowSchema = {
  type: 'object',
  properties: {
    where: str, role: { type: 'string', enum: ['leaf', 'chain', 'ca', 'crl'] }, subject: str, san: { type: 'array', items: str }, issuer: str,
    serial: str, sha256: str, notBefore: str, notAfter: str, daysLeft: int,
  },
} as const;

export const certificatesSchema = {
  type: 'object',
  properties: { certificates: { type: 'array', items: certificateRowSchema } },
} as const;

/** Calls held now on each tenant or dial peer that has a maxCalls, by name, with that limit as configured. */
const callLimitRows = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { calls: int, max: int } },
} as const;

const callRateRows = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { perSecond: { type: 'number' }, burst: int, tokens: { type: 'number' } } },
} as const;

export const statsSchema = {
  type: 'object',
  properties: {
    engine: {
      type: 'object',
      properties: {
        transport: { type: 'object', additionalProperties: true },
        transactions: { type: 'object', additionalProperties: true },
        core: counts,
        apps: int,
        tls: { type: 'object', properties: { version: int, handshakeFailures: int } },
        trust: {
          type: 'object',
          additionalProperties: true,
          description: 'Trusted-source counters, and `plan`: the plan requests are judged by now (each tenant in the order tried, its written sources, its host names\' last addresses)',
          properties: {
            admitted: int, rejected: int, dropped: int,
            plan: {
              type: 'object',
              properties: {
                untrusted: { type: 'string', enum: ['reject', 'drop'] },
                defaultTenant: { type: ['string', 'null'] },
                tenants: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      name: { type: 'string' }, sources: { type: 'array', items: { type: 'string' } }, restrictTls: { type: 'boolean' },
                      hosts: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
                    },
                  },
                },
              },
            },
          },
        },
        rate: { type: 'object', properties: { admitted: int, rejected: int, dropped: int, sources: int, evicted: int } },
        stages: { type: 'object', additionalProperties: true },
        thread: { type: 'object', additionalProperties: true },
        overload: {
          type: 'object',
          properties: {
            shedding: { type: 'boolean' }, admitShare: { type: 'number' }, episodes: int, rejected: int, dropped: int, notFromCalls: int, lightAdmitted: int, retransmissions: int, acksAbsorbed: int, remembered: int, rememberedEvicted: int, sourcesUncounted: int,
            byCause: { type: 'object', properties: { utilization: int, 'event-loop-delay': int, 'receive-queue': int, 'unanswered-invites': int } },
            utilization: { type: 'number' }, eventLoopDelayMs: { type: 'number' }, receiveQueueBytes: int, receiveQueueMs: { type: 'number' }, udpReceiveDrops: int,
            unansweredInvites: int,
          },
        },
        refusalRecords: {
          type: 'object',
          description: 'CDRs of new INVITEs the engine refused before any app saw them: the rate allowed (gateway.limits.refusalCdrsPerSecond, 0: off), records written, refusals past the rate (answered and counted, no CDR), and retransmissions of a recorded INVITE refused again (no second CDR)',
          properties: { perSecond: int, written: int, dropped: int, retransmissions: int },
        },
        heap: { type: 'object', properties: { total: int, used: int, external: int } },
        control: {
          type: 'object',
          description: 'the control port: apps connected now, apps that authenticated (appConnects) and whose connection then closed (appDisconnects), apps and connections refused, socket and listener errors, send buffers overflowed',
          additionalProperties: int,
        },
        listenersDown: { type: 'array', items: listenerDownSchema },
      },
    },
    b2bua: {
      type: 'object',
      additionalProperties: true,
      properties: {
        attempted: int, connected: int, completed: int, failed: counts, failedTotal: int, active: int,
        appWorkerRestarts: { ...int, description: 'app workers (gateway.workers) started again after one stopped' },
        appWorkersDown: { ...int, description: 'app workers with none connected in their place now (stopped, or waiting out their restart backoff)' },
        appWorkersUnresponsive: { ...int, description: 'app workers silent while connected past their bound, ended and started again' },
        policy: {
          type: 'object',
          description: 'what the call policy decided, when it runs',
          additionalProperties: true,
          properties: {
            badNumber: { ...int, description: 'calls refused 484: the called number is neither digits (an optional leading +) nor a feature code of *, # and digits' },
            bLegAuthFailed: { ...int, description: 'B-leg attempts whose trunk answered 401/407 to the gateway\'s credentials (or to a tenant without any)' },
            refusedAtTenantLimit: { ...int, description: 'calls refused 503: their tenant held its maxCalls' },
            skippedAtLimit: { ...int, description: 'targets passed over: their dial peer or tenant held its maxCalls' },
            refusedAtTargetLimit: { ...int, description: 'calls refused 503: every target was passed over at its limit' },
            refusedOverTenantRate: { ...int, description: 'calls refused 503: their tenant was over its maxCallsPerSecond' },
            skippedOverRate: { ...int, description: 'targets passed over: their dial peer was over its maxCallsPerSecond' },
            refusedOverTargetRate: { ...int, description: 'calls refused 503: every target was passed over, the first for its rate' },
            callLimits: {
              type: 'object',
              description: 'calls held now per tenant and dial peer that has a maxCalls (summed over the apps), with that limit',
              properties: { tenants: callLimitRows, dialPeers: callLimitRows },
            },
            callRates: {
              type: 'object',
              description: 'per tenant and dial peer that has a maxCallsPerSecond: that rate and burst as configured, and the tokens (calls that may start now) its bucket holds, refilled to now; with several apps they share one bucket (past 4,096 names, the tokens are summed over the apps\' buckets, each holding a share)',
              properties: { tenants: callRateRows, dialPeers: callRateRows },
            },
          },
        },
      },
    },
    appThread: { type: 'object', additionalProperties: true },
    cdr: { type: 'object', additionalProperties: true },
    admin: adminActionsSchema,
    adminRefused: adminRefusedSchema,
    /** The configuration API's writes, by operation (create, replace, delete) and outcome (done, or the refusal's code). */
    configWrites: { type: 'object', additionalProperties: { type: 'object', additionalProperties: int } },
    /** Configuration reloads, by trigger (signal, api, file) and outcome (applied, or the first problem's code). */
    configReloads: { type: 'object', additionalProperties: { type: 'object', additionalProperties: int } },
    /** TLS profile reloads, by trigger (file, api, signal) and outcome (applied, or the first problem's code). */
    tlsReloads: { type: 'object', additionalProperties: { type: 'object', additionalProperties: int } },
    process: { type: 'object', properties: { rss: int, heapTotal: int, heapUsed: int, external: int, arrayBuffers: int } },
  },
} as const;

export { configReloadSchema, listenersReloadSchema, tlsReloadAnswerSchema, tlsReloadSchema, trustReloadSchema } from './reload-schemas.js';
