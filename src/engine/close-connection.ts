import type { Logger } from 'pino';
import type { ConnectionInfo } from '../sip/transport/index.js';
import type { Engine } from './engine.js';

/**
 * Closes one TCP or TLS connection of the engine at the administrator's request (`DELETE /connections/:id`,
 * `trunkgate clear connection`): one log line with its addresses and tenant, counted by the transport as any close.
 * The connection as it was, or undefined when no such connection is open.
 */
export function closeConnectionByAdmin(engine: Engine, id: string, log: Logger): ConnectionInfo | undefined {
  const info = engine.transport.connections().find((c) => c.id === id);
  if (!info || !engine.transport.closeConnection(id, 'closed by the administrator')) return undefined;
  const remote = `${info.remoteAddress.includes(':') ? `[${info.remoteAddress}]` : info.remoteAddress}:${info.remotePort}`;
  log.info({ code: 'EVT_CONNECTION_CLEARED', connection: id, protocol: info.protocol, direction: info.direction, remote, tenant: info.tenant },
    `engine: ${info.protocol} connection ${id} with ${remote} closed by the administrator`);
  return info;
}
