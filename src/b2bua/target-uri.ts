import { GatewayError } from '../common/index.js';
import type { B2buaErrorCode } from './errors.js';

export type TargetTransport = 'udp' | 'tcp' | 'tls';

/** Where the b2bua sends every B leg: `host:port[;transport=udp|tcp|tls]`. */
export interface BridgeTarget {
  host: string;
  port: number;
  transport: TargetTransport;
}

const TARGET_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})(?:;transport=(udp|tcp|tls))?$/i;

/** Parses the configured target; a bad one is an operational error at start, never at call time. */
export function parseTarget(target: string): BridgeTarget {
  const m = TARGET_RE.exec(target.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new GatewayError<B2buaErrorCode>('ERR_B2BUA_TARGET_INVALID',
      `target must be host:port[;transport=udp|tcp|tls], got '${target}'`, { details: { target } });
  }
  const transport = (m[3]?.toLowerCase() ?? 'udp') as TargetTransport;
  return { host: m[1]!, port, transport };
}

/** The B-leg Request-URI: the A leg's user part (the called number) at the target. */
export function targetUri(target: BridgeTarget, user?: string): string {
  const userPart = user ? `${user}@` : '';
  // A TLS leg is sips: end to end and names its transport, because a sips: scheme alone does not pick TLS
  // in a drachtio-compatible engine (docs/control-protocol.md §2.8).
  if (target.transport === 'tls') return `sips:${userPart}${target.host}:${target.port};transport=tls`;
  const params = target.transport === 'tcp' ? ';transport=tcp' : '';
  return `sip:${userPart}${target.host}:${target.port}${params}`;
}

/** The user part of a SIP or SIPS request URI, or undefined. */
export function uriUser(uri: string): string | undefined {
  const m = /^sips?:([^@;?>]+)@/i.exec(uri);
  return m?.[1];
}
