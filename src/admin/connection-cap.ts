import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { sourceAddress, type AdminRefusals } from './admin-refusals.js';

export interface AdminConnectionLimits {
  /** Connections open at once, all sources together. */
  maxConnections: number;
  /** Of those, from one source address. */
  maxConnectionsPerSource: number;
}

/** The defaults of gateway.admin: room for a few consoles, scrapers and CLI calls, not for a flood. */
export const DEFAULT_ADMIN_CONNECTION_LIMITS: AdminConnectionLimits = { maxConnections: 64, maxConnectionsPerSource: 16 };

export interface ConnectionCap {
  /**
   * Destroys the connections that never sent a whole request head (silent, or stalled mid-head): the server's close
   * would otherwise wait for their timeouts. Those with a request answered or in progress are left to the close.
   */
  closeUnused(): void;
}

/**
 * Counts the server's connections from the TCP accept, before a byte is read or a token checked: past either cap
 * the socket is destroyed at once, and the refusal counted and logged. An idle connection leaves by the server's
 * timeouts (build-admin.ts), so a cap filled by a slow client frees itself.
 */
export function capConnections(server: Server, limits: AdminConnectionLimits, refusals: AdminRefusals): ConnectionCap {
  const bySource = new Map<string, number>();
  const admitted = new Set<Socket>();
  const requested = new WeakSet<Socket>();
  let open = 0;
  server.on('request', (req: IncomingMessage) => requested.add(req.socket));
  server.on('connection', (socket: Socket) => {
    const source = sourceAddress(socket.remoteAddress);
    const n = bySource.get(source) ?? 0;
    if (open >= limits.maxConnections) {
      refusals.refused('connection-limit', source, { open, limit: limits.maxConnections },
        `admin: connection from ${source} closed at accept: ${open} open, the most gateway.admin.maxConnections allows`);
      socket.destroy();
      return;
    }
    if (n >= limits.maxConnectionsPerSource) {
      refusals.refused('source-limit', source, { open: n, limit: limits.maxConnectionsPerSource },
        `admin: connection from ${source} closed at accept: it has ${n} open, the most gateway.admin.maxConnectionsPerSource allows`);
      socket.destroy();
      return;
    }
    open++;
    bySource.set(source, n + 1);
    admitted.add(socket);
    socket.once('close', () => {
      open--;
      admitted.delete(socket);
      const left = (bySource.get(source) ?? 1) - 1;
      if (left > 0) bySource.set(source, left);
      else bySource.delete(source);
    });
  });
  return {
    closeUnused() {
      for (const socket of admitted) if (!requested.has(socket)) socket.destroy();
    },
  };
}
