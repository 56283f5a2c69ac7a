/** JSON Schemas of the call list, the listener table and the admin actions (OpenAPI at /openapi.json). */

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const nullableStr = { type: 'string', nullable: true } as const;
const ms = { type: 'number', description: 'ms since the epoch' } as const;

/** The biggest `?limit` a list takes, and what it gives when none is asked. */
export const LIST_LIMIT_MAX = 10_000;
export const LIST_LIMIT_DEFAULT = 1_000;

export const limitQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT, description: `rows at most (default ${LIST_LIMIT_DEFAULT}); the total is given whatever the limit` },
  },
} as const;

export const callSchema = {
  type: 'object',
  description: "One live call, connected or still ringing (CUBE's show call active voice brief)",
  required: ['id', 'app', 'state', 'callIds', 'startAt', 'answerAt', 'durationMs'],
  properties: {
    id: { type: 'string', description: 'stable for the call\'s life: `<app>-<8 hex>`; DELETE /calls/{id} takes it' },
    app: { type: 'integer', description: 'the b2bua app that holds the call: 0 the main thread\'s, 1.. the workers (gateway.workers)' },
    state: {
      type: 'string', enum: ['ringing', 'connected', 'ending'],
      description: 'ringing: the B leg is being placed, no final answer yet; ending: a BYE (or a CANCEL, for a call not answered) is under way',
    },
    callIds: { type: 'array', items: str, description: 'the A leg\'s Call-ID, then the B leg\'s' },
    tenantIn: nullableStr, tenantOut: nullableStr, dialPeer: nullableStr, callingNumber: nullableStr, calledNumber: nullableStr,
    startAt: { ...ms, description: 'the A leg\'s INVITE, ms since the epoch' },
    answerAt: { ...ms, nullable: true, description: 'the B leg\'s answer, ms since the epoch; null while ringing' },
    durationMs: { type: 'number', description: 'connected time so far (0 while ringing)' },
  },
} as const;

export const callsSchema = {
  type: 'object',
  properties: {
    count: { ...int, description: 'rows in `calls`' },
    total: { ...int, description: 'live calls in all' },
    truncated: { type: 'boolean', description: 'more calls are up than `limit` let through' },
    calls: { type: 'array', items: callSchema },
    unansweredApps: { type: 'array', items: int, description: 'app workers that did not answer in time: their calls are missing' },
  },
} as const;

export const hangUpSchema = {
  type: 'object',
  properties: {
    id: str,
    state: { type: 'string', enum: ['ended', 'ending'], description: 'ended: both legs released; ending: a BYE is still out' },
    call: callSchema,
  },
} as const;

export const closedConnectionSchema = {
  type: 'object',
  properties: { id: str, protocol: str, direction: str, remoteAddress: str, remotePort: int, localAddress: str, localPort: int, tenant: str },
} as const;

export const listenersSchema = {
  type: 'object',
  properties: {
    listeners: {
      type: 'array',
      description: "The SIP listeners (CUBE's show sip-ua status listen-socket)",
      items: {
        type: 'object',
        properties: {
          id: str, tenant: str, address: str, port: int,
          transport: { type: 'string', enum: ['udp', 'tcp', 'tls'] },
          state: { type: 'string', enum: ['listening', 'down'] },
          tlsProfile: str,
          error: { type: 'string', description: 'why a listener that is down could not bind' },
        },
      },
    },
  },
} as const;

export const adminActionsSchema = {
  type: 'object',
  description: 'what was asked of the admin API, by action and result',
  additionalProperties: { type: 'object', additionalProperties: int },
} as const;

export const adminRefusedSchema = {
  type: 'object',
  description: 'who the admin API turned away: unauthorized (401, no or another bearer token), origin (403, with no token configured: a Host that is not loopback, or an Origin of another site), connection-limit and source-limit (connections closed at accept past gateway.admin.maxConnections and maxConnectionsPerSource), cdr-scan-busy (429, GET /cdrs while another scan runs), pki-busy (429, a PKI task that writes while another runs), tls-probe-busy (429, POST /tls/probe while another probe runs), body-too-large (413, a body over its route\'s limit), bad-request (400, a request its schema refused, a body that is not JSON or a URL that cannot be routed), client-error (a request the HTTP parser refused before the API saw it: 400 unreadable, 408 not complete in time, 431 headers over the limit)',
  properties: {
    unauthorized: int, origin: int, 'connection-limit': int, 'source-limit': int, 'cdr-scan-busy': int, 'pki-busy': int, 'tls-probe-busy': int,
    'body-too-large': int, 'bad-request': int, 'client-error': int,
  },
} as const;

/** What a hang-up sent, by whether the call had been answered: the admin API's log line and `trunkgate clear call` say it. */
export function clearedHow(answerAt: number | null | undefined): string {
  return answerAt === null ? 'CANCEL sent to the called side, 480 to the caller' : 'BYE sent on both legs';
}
