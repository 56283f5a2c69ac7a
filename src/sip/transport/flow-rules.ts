import type { StreamConnection } from './stream-connection.js';
import type { SendTarget } from './types.js';

const CR = 0x0d;
const LF = 0x0a;

/**
 * An inbound connection carries requests toward the address it came from (RFC 5626 flow reuse, RFC 5923)
 * only if it satisfies the target: same TLS profile, the same tenant when both name one, and for a named target a
 * verified identity of that name.
 */
export function mayReuseInbound(c: StreamConnection, target: SendTarget): boolean {
  if (c.info.protocol === 'tcp') return true;
  if (target.tlsProfile !== undefined && target.tlsProfile !== c.info.tlsProfile) return false;
  // A TLS connection serves the one tenant it belongs to (as outbound ones do: connection-table.ts outboundKey).
  if (target.tenant !== undefined && c.info.tenant !== undefined && c.info.tenant !== target.tenant) return false;
  if (target.servername === undefined) return true;
  const tls = c.info.tls;
  if (!tls || !tls.authorized) return false;
  const name = target.servername.toLowerCase();
  return tls.identities.includes(`dns:${name}`) || tls.identities.includes(`sip:${name}`);
}

/** A datagram of CR and LF only: an RFC 5626 keepalive, not a message. */
export function isCrlfOnly(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b !== CR && b !== LF) return false;
  }
  return true;
}
