import type { Socket } from 'node:net';
import { normalizeAddress } from './address.js';

export interface ConnectionLimits {
  /** Inbound TCP/TLS connections open at once, handshakes in progress included (default 4,096). */
  maxConnections: number;
  /** Of those, from one source address (default 64). */
  maxConnectionsPerSource: number;
}

export type ConnectionLimitCode = 'ERR_SIP_TRANSPORT_CONN_LIMIT' | 'ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT';
type RefuseConnection = (code: ConnectionLimitCode, socket: Socket) => void;

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxConnections: 4_096, maxConnectionsPerSource: 64 };

/**
 * Admission of inbound stream connections, counted from the TCP accept (before any TLS handshake), so half-open
 * handshakes count too. Past either bound the socket is destroyed at once: nothing is read from it, no handshake
 * is started, and file descriptors stay in reserve for the admin API and the calls in progress.
 */
export class ConnectionGate {
  readonly #limits: ConnectionLimits;
  readonly #bySource = new Map<string, number>();
  readonly #onRefuse: RefuseConnection;
  #open = 0;

  constructor(limits: Partial<ConnectionLimits>, onRefuse: RefuseConnection) {
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
    this.#onRefuse = onRefuse;
  }

  get open(): number {
    return this.#open;
  }

  /** Called on every accepted socket; false when it was refused (and destroyed). */
  admit(socket: Socket): boolean {
    const source = normalizeAddress(socket.remoteAddress ?? '');
    const n = this.#bySource.get(source) ?? 0;
    if (this.#open >= this.#limits.maxConnections || n >= this.#limits.maxConnectionsPerSource) {
      this.#onRefuse(this.#open >= this.#limits.maxConnections ? 'ERR_SIP_TRANSPORT_CONN_LIMIT' : 'ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT', socket);
      socket.destroy();
      return false;
    }
    this.#open++;
    this.#bySource.set(source, n + 1);
    socket.once('close', () => {
      this.#open--;
      const left = (this.#bySource.get(source) ?? 1) - 1;
      if (left > 0) this.#bySource.set(source, left);
      else this.#bySource.delete(source);
    });
    return true;
  }
}
