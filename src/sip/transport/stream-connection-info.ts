import type { Socket } from 'node:net';
import { normalizeAddress } from './address.js';
import type { ConnectionDirection, ConnectionInfo } from './connection-table.js';
import type { Flow, TlsPeerInfo } from './types.js';

/** What a stream connection is told about itself: it shows in the admin API and in the flow of its messages. */
export interface StreamConnectionDescription {
  id: string;
  protocol: 'tcp' | 'tls';
  direction: ConnectionDirection;
  listenerId?: string | undefined;
  tenant?: string | undefined;
  tlsProfile?: string | undefined;
  servername?: string | undefined;
  tls?: TlsPeerInfo | undefined;
  /** The local address and port when the caller knows them (a listener bound to one address): no getsockname. */
  local?: PeerAddress | undefined;
  /** The remote address and port when the caller read them already: no second getpeername. */
  remote?: PeerAddress | undefined;
}

export interface PeerAddress {
  address: string;
  port: number;
}

/** The connection's record as opened at `now`: addresses read once from the socket, counters at zero. */
export function connectionInfo(o: StreamConnectionDescription, socket: Socket, now: number): ConnectionInfo {
  const info: ConnectionInfo = {
    id: o.id,
    protocol: o.protocol,
    direction: o.direction,
    state: 'open',
    localAddress: o.local ? o.local.address : normalizeAddress(socket.localAddress ?? ''),
    localPort: o.local ? o.local.port : (socket.localPort ?? 0),
    remoteAddress: o.remote ? o.remote.address : normalizeAddress(socket.remoteAddress ?? ''),
    remotePort: o.remote ? o.remote.port : (socket.remotePort ?? 0),
    createdAt: now,
    lastActivityAt: now,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
  };
  if (o.listenerId !== undefined) info.listenerId = o.listenerId;
  if (o.tenant !== undefined) info.tenant = o.tenant;
  if (o.tlsProfile !== undefined) info.tlsProfile = o.tlsProfile;
  if (o.servername !== undefined) info.servername = o.servername;
  if (o.tls !== undefined) info.tls = o.tls;
  return info;
}

/** The flow every message of a connection reports, made from its record. */
export function connectionFlow(i: ConnectionInfo): Flow {
  const flow: Flow = {
    protocol: i.protocol,
    localAddress: i.localAddress,
    localPort: i.localPort,
    remoteAddress: i.remoteAddress,
    remotePort: i.remotePort,
    connectionId: i.id,
  };
  if (i.listenerId !== undefined) flow.listenerId = i.listenerId;
  if (i.tls !== undefined) flow.tls = i.tls;
  return flow;
}
