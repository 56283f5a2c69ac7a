import type { ConnectionInfo } from '../../sip/transport/connection-table.js';
import { normalizeAddress } from '../../sip/transport/address.js';
import type { SendTarget } from '../../sip/transport/types.js';
import { connectionIdOf } from './internal-headers.js';

/** The transport's TCP/TLS connections as the core may read them, one by id (transport-layer.ts `connectionInfo`). */
export interface ConnectionList {
  connectionInfo(id: string): Readonly<ConnectionInfo> | undefined;
}

/**
 * An app's request that names a connection in X-Trunkgate-Route `conn=` (docs/control-protocol.md §4.2) goes over
 * that connection or not at all: its target is pinned to it when it is still open, of this engine run, of the
 * target's transport and to the target's address and port; otherwise the request is not sent, and the text returned
 * is the Reason of the 430 the engine answers with. The address of a phone that connected to us is a NAT binding,
 * not a place to dial: a new connection from it, or one the engine would open to it, is another flow.
 *
 * "If the flow no longer exists, the proxy SHOULD send a 430 (Flow Failed) response to the request."
 * https://www.rfc-editor.org/rfc/rfc5626#section-5.3
 *
 * Called in the same turn as the send, so the connection the transport finds by id is the one checked here.
 */
export function pinToConnection(target: SendTarget, conn: string, list: ConnectionList | undefined): string | undefined {
  const at = `${target.protocol} ${target.address.includes(':') ? `[${target.address}]` : target.address}:${target.port}`;
  const id = connectionIdOf(conn);
  if (target.protocol === 'udp' || id === undefined || list === undefined) return `no connection of this gateway for ${at}`;
  const address = normalizeAddress(target.address);
  const c = list.connectionInfo(id);
  if (c === undefined || c.state !== 'open') return `the connection for ${at} is closed`;
  if (c.protocol !== target.protocol || c.remoteAddress !== address || c.remotePort !== target.port) return `the connection named is not one for ${at}`;
  target.connectionId = id;
  return undefined;
}
