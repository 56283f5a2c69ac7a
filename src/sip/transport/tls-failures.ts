import type { Clock } from '../../common/clock.js';
import { GatewayError } from '../../common/gateway-error.js';
import type { Logger } from '../../log/logger.js';
import { RateLimitedLog } from '../../log/rate-limited-log.js';
import { classifyTlsFailure, type TlsDirection, type TlsFailure } from '../../tls/failure.js';
import { TlsStats } from '../../tls/tls-stats.js';
import { normalizeAddress } from './address.js';
import type { StreamConnection } from './stream-connection.js';
import { refusedByServer, reportTlsFailure, type TlsFailureContext, type TlsFailureEvent } from './tls-failure-report.js';
import type { ListenerInfo } from './types.js';

export interface TlsFailuresOptions {
  log: Logger;
  clock: Clock;
  /** The tenant of an inbound TLS handshake on a listener without one of its own, from the SNI sent. */
  tenantForServername?: ((servername: string) => string | undefined) | undefined;
  /** Counts a refusal by its code with the layer's other refusals. */
  count(code: string): void;
  /** The layer's 'tlsFailure' event. */
  emit(ev: TlsFailureEvent): void;
}

/**
 * The transport's TLS outcomes: handshakes that succeeded and failed per tenant and direction (CUBE's client and
 * server handshake counts), each failure classified, counted and logged once in CUBE's words, rate-limited per
 * code and source. Owns those counts and that log.
 */
export class TlsFailures {
  readonly #o: TlsFailuresOptions;
  readonly #stats = new TlsStats();
  /** Failure lines: per code and per source address, with a summary of what was left out. */
  readonly #lines: RateLimitedLog;
  #inboundFailures = 0;

  constructor(o: TlsFailuresOptions) {
    this.#o = o;
    this.#lines = new RateLimitedLog(o.log, o.clock, { summaries: true });
  }

  get stats(): TlsStats {
    return this.#stats;
  }

  /** Inbound handshakes that failed or were refused by the inbound check. */
  get inboundFailures(): number {
    return this.#inboundFailures;
  }

  /** An open TLS connection is a handshake that succeeded and passed the profile's checks. */
  opened(conn: StreamConnection): void {
    this.#stats.recordSuccess(conn.info.tenant, conn.info.direction === 'inbound' ? 'server' : 'client');
  }

  /** An inbound handshake failed, or the inbound check refused the peer after it. */
  inboundError(listenerId: string, listener: ListenerInfo | undefined, e: Error, remote: string | undefined, servername: string | undefined,
    remotePort: number | undefined): void {
    // A refusal by the inbound check carries its own code; a failed handshake is counted under one code.
    const code = e instanceof GatewayError ? e.code : 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE';
    this.#inboundFailures++;
    this.#o.count(code);
    const d = e instanceof GatewayError ? e.details : undefined;
    const tenant = (typeof d?.['tenant'] === 'string' ? d['tenant'] : undefined) ?? listener?.tenant
      ?? (servername !== undefined ? this.#o.tenantForServername?.(servername.toLowerCase()) : undefined);
    const profile = (typeof d?.['profile'] === 'string' ? d['profile'] : undefined) ?? listener?.tlsProfile;
    const failure = d?.['tlsFailure'] as TlsFailure | undefined;
    this.#report('server', failure ?? e, {
      listenerId,
      ...(tenant !== undefined ? { tenant } : {}),
      ...(profile !== undefined ? { profile } : {}),
      ...(remote !== undefined ? { remoteAddress: normalizeAddress(remote) } : {}),
      ...(remotePort !== undefined ? { remotePort } : {}),
      ...(servername !== undefined ? { servername } : {}),
      ...(listener ? { localAddress: listener.address, localPort: listener.port } : {}),
    }, failure);
  }

  /**
   * An outbound connection failed. A TLS handshake failure is classified, counted and logged once for every
   * request that was waiting on the connection, and its details get the classification.
   */
  connectFailed(e: unknown): void {
    if (!(e instanceof GatewayError) || e.code !== 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE' || !e.details || e.details['tlsFailure'] !== undefined) return;
    const d = e.details;
    const ev = this.#report('client', e.cause ?? e, {
      ...(typeof d['tenant'] === 'string' ? { tenant: d['tenant'] } : {}),
      ...(typeof d['tlsProfile'] === 'string' ? { profile: d['tlsProfile'] } : {}),
      ...(typeof d['servername'] === 'string' ? { servername: d['servername'] } : {}),
      remoteAddress: String(d['address']), remotePort: Number(d['port']),
    });
    d['tlsFailure'] = ev.failure;
    d['cubeText'] = ev.cubeText;
    if (ev.sipxText !== undefined) d['sipxText'] = ev.sipxText;
  }

  /**
   * In TLS 1.3 the client's handshake is done before the server has checked the client's certificate, so a
   * refusal (an alert such as unknown_ca or certificate_required) arrives on a connection we already use. Before
   * any byte came back it is the handshake's failure: classified, counted and logged like one; the error for the
   * requests sent on the connection is returned. Other errors (a reset) stay plain closes (undefined).
   */
  closedByRefusal(conn: StreamConnection): GatewayError | undefined {
    const i = conn.info;
    const err = conn.error;
    if (!err || i.direction !== 'outbound' || i.protocol !== 'tls' || i.bytesIn !== 0) return undefined;
    const failure = classifyTlsFailure(err);
    if (failure.reason === 'other') return undefined;
    const ev = this.#report('client', err, {
      ...(i.tenant !== undefined ? { tenant: i.tenant } : {}),
      ...(i.tlsProfile !== undefined ? { profile: i.tlsProfile } : {}),
      ...(i.servername !== undefined ? { servername: i.servername } : {}),
      remoteAddress: i.remoteAddress, remotePort: i.remotePort,
    }, failure);
    return refusedByServer(i, err, ev);
  }

  /** Classifies, counts (per tenant and direction) and logs one TLS failure, once, in CUBE's words. */
  #report(direction: TlsDirection, err: unknown, ctx: TlsFailureContext, classified?: TlsFailure): TlsFailureEvent {
    const ev = reportTlsFailure(this.#stats, this.#lines, direction, err, ctx, classified);
    this.#o.emit(ev);
    return ev;
  }
}
