import { isIP } from 'node:net';
import { systemClock } from '../common/clock.js';
import { RateLimitedLog, type Logger, type NowSource } from '../log/index.js';
import type { AdminErrorCode } from './errors.js';

/**
 * Why the admin API turned someone away: a request without the right bearer token (401), or, with no token
 * configured, one to a Host that is not loopback or from another site's page (403, origin), a connection closed at
 * accept past the total cap or its source's share, a request that found its one-at-a-time task running (429): a
 * GET /cdrs scan, a PKI task that writes, a TLS probe; a body over its route's limit (413), a request fastify
 * refused before any handler saw it (400 its schema refused, a body that is not JSON, a URL it cannot route), or one
 * Node's HTTP parser refused before fastify saw it (client-error: 400 unreadable, 408 too slow, 431 headers too large).
 */
export type AdminRefusalCause = 'unauthorized' | 'origin' | 'connection-limit' | 'source-limit' | 'cdr-scan-busy' | 'pki-busy' | 'tls-probe-busy'
  | 'body-too-large' | 'bad-request' | 'client-error';

export type AdminRefusalCounts = Record<AdminRefusalCause, number>;

const CODES: Record<AdminRefusalCause, AdminErrorCode> = {
  unauthorized: 'ERR_ADMIN_UNAUTHORIZED',
  origin: 'ERR_ADMIN_ORIGIN_REFUSED',
  'connection-limit': 'ERR_ADMIN_CONN_LIMIT',
  'source-limit': 'ERR_ADMIN_CONN_SOURCE_LIMIT',
  'cdr-scan-busy': 'ERR_ADMIN_CDR_SCAN_BUSY',
  'pki-busy': 'ERR_ADMIN_PKI_BUSY',
  'tls-probe-busy': 'ERR_ADMIN_TLS_PROBE_BUSY',
  'body-too-large': 'ERR_ADMIN_BODY_TOO_LARGE',
  'bad-request': 'ERR_ADMIN_REQUEST',
  'client-error': 'ERR_ADMIN_REQUEST',
};

/** An address as the refusals key it: IPv4-mapped IPv6 ('::ffff:192.0.2.1') as the IPv4 address, lower case. */
export function sourceAddress(address: string | undefined): string {
  const a = (address ?? '').toLowerCase();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/**
 * The admin API's refusals (one instance per admin server): each one counted (/stats `adminRefused`, /metrics
 * `trunkgate_admin_refused_total{cause}`), and logged at warn once a minute per code and source, at most ten
 * lines a minute per code; what was left out is summed up in one line at the minute's end.
 */
export class AdminRefusals {
  readonly #counts: AdminRefusalCounts = {
    unauthorized: 0, origin: 0, 'connection-limit': 0, 'source-limit': 0, 'cdr-scan-busy': 0, 'pki-busy': 0, 'tls-probe-busy': 0,
    'body-too-large': 0, 'bad-request': 0, 'client-error': 0,
  };
  readonly #lines: RateLimitedLog | undefined;

  constructor(log?: Logger, clock: NowSource = systemClock) {
    this.#lines = log ? new RateLimitedLog(log, clock, { intervalMs: 60_000, summaries: true }) : undefined;
  }

  refused(cause: AdminRefusalCause, source: string, fields: Record<string, unknown>, msg: string): void {
    this.#counts[cause]++;
    this.#lines?.warn(CODES[cause], source, { source, ...fields }, msg);
  }

  snapshot(): AdminRefusalCounts {
    return { ...this.#counts };
  }

  /** Writes the pending summary lines and stops their timers. Idempotent. */
  close(): void {
    this.#lines?.close();
  }
}
