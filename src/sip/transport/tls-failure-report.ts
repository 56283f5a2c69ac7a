import type { RateLimitedLog } from '../../log/rate-limited-log.js';
import { classifyTlsFailure, formatCubeText, sipxText, type TlsDirection, type TlsFailure } from '../../tls/failure.js';
import type { TlsStats } from '../../tls/tls-stats.js';
import type { ConnectionInfo } from './connection-table.js';
import { transportError } from './errors.js';

/** One classified TLS failure, as logged (CUBE's TLS_HANDSHAKE_FAILED) and counted. */
export interface TlsFailureEvent {
  direction: TlsDirection;
  failure: TlsFailure;
  tenant?: string;
  profile?: string;
  listenerId?: string;
  remoteAddress?: string;
  remotePort?: number;
  servername?: string;
  /** `%SIP-2-TLS_HANDSHAKE_FAILED: ...` */
  cubeText: string;
  /** sipXbridge's wording where one applies. */
  sipxText?: string;
}

/** Where a TLS failure happened: the event's fields, and the listener's own address for the log text. */
export type TlsFailureContext = Omit<TlsFailureEvent, 'direction' | 'failure' | 'cubeText' | 'sipxText'> & {
  localAddress?: string;
  localPort?: number;
};

/** `addr:port`, with IPv6 addresses in brackets. */
function hostPort(address: string | undefined, port: number | undefined): string | undefined {
  if (address === undefined) return undefined;
  const a = address.includes(':') ? `[${address}]` : address;
  return port !== undefined ? `${a}:${port}` : a;
}

/**
 * Classifies, counts (per tenant and direction) and logs one TLS failure in CUBE's words; the event to emit. The
 * line names the remote (address and port), the local listener and its address, and the tenant ('-' when none is
 * known yet). Lines are rate-limited per code and per source by `lines` (a client's address inbound, the target's address
 * and port outbound); the counters are not.
 */
export function reportTlsFailure(stats: TlsStats, lines: RateLimitedLog, direction: TlsDirection, err: unknown, ctx: TlsFailureContext,
  classified?: TlsFailure): TlsFailureEvent {
  const failure = classified ?? classifyTlsFailure(err);
  stats.recordFailure(ctx.tenant, direction, failure.reason);
  const { localAddress, localPort, listenerId, ...rest } = ctx;
  const cubeText = formatCubeText(failure, {
    direction, ...rest, ...(localAddress !== undefined ? { localAddress } : {}), ...(localPort !== undefined ? { localPort } : {}),
  });
  const sipx = sipxText(failure, direction);
  const ev: TlsFailureEvent = {
    direction, failure, cubeText, ...rest, ...(listenerId !== undefined ? { listenerId } : {}), ...(sipx !== undefined ? { sipxText: sipx } : {}),
  };
  const errInfo = err instanceof Error ? err : { code: failure.code, message: failure.detail };
  // Inbound, a source is an address (a flood comes from many ports); outbound, it is the target we dialled.
  const source = direction === 'server' ? ctx.remoteAddress : hostPort(ctx.remoteAddress, ctx.remotePort);
  lines.warn(failure.code, source, {
    event: 'TLS_HANDSHAKE_FAILED', reason: failure.reason, direction, tenant: ctx.tenant ?? '-', profile: ctx.profile,
    listener: listenerId, local: hostPort(localAddress, localPort), remote: hostPort(ctx.remoteAddress, ctx.remotePort),
    servername: ctx.servername, expected: failure.expected, presented: failure.presented, sipx, err: errInfo,
  }, cubeText);
  return ev;
}

/** The error for requests sent on a connection whose server refused us after the handshake (TLS 1.3). */
export function refusedByServer(i: ConnectionInfo, err: Error, ev: TlsFailureEvent) {
  return transportError('ERR_SIP_TRANSPORT_TLS_HANDSHAKE', `tls connection to ${i.remoteAddress}:${i.remotePort} refused by the server: ${err.message}`, {
    cause: err,
    details: {
      address: i.remoteAddress, port: i.remotePort, connectionId: i.id, tlsFailure: ev.failure, cubeText: ev.cubeText,
      ...(ev.sipxText !== undefined ? { sipxText: ev.sipxText } : {}),
      ...(i.tenant !== undefined ? { tenant: i.tenant } : {}),
      ...(i.tlsProfile !== undefined ? { tlsProfile: i.tlsProfile } : {}),
    },
  });
}
