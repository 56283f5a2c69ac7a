import { Socket } from 'node:net';
import { normalizeAddress } from './address.js';

export interface ConnectionLimits {
  /** Inbound TCP/TLS connections open at once, handshakes in progress included (default 4,096). */
  maxConnections: number;
  /** Of those, from one source address (default 64). */
  maxConnectionsPerSource: number;
  /**
   * Inbound TLS handshakes in progress at once (default 128): each holds tens of KiB of OpenSSL state, and the C heap
   * keeps the high-water mark of what a flood of stalled handshakes took.
   */
  maxHandshakes: number;
  /** Of those, from one source address (default 16). */
  maxHandshakesPerSource: number;
}

export type ConnectionLimitCode =
  | 'ERR_SIP_TRANSPORT_CONN_LIMIT' | 'ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT'
  | 'ERR_SIP_TRANSPORT_HANDSHAKE_LIMIT' | 'ERR_SIP_TRANSPORT_HANDSHAKE_SOURCE_LIMIT';
type RefuseConnection = (code: ConnectionLimitCode, socket: Socket) => void;

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 4_096, maxConnectionsPerSource: 64, maxHandshakes: 128, maxHandshakesPerSource: 16,
};

/**
 * One accepted connection: the same for the raw socket and the TLS socket over it. A listener has one local
 * address and port, so its id stands for them without asking the kernel (getsockname) for each socket; the
 * remote address and port are read once per socket object and kept by Node for the connection's own use.
 */
function connectionKey(socket: Socket, listener: string): string {
  return `${listener}|${normalizeAddress(socket.remoteAddress ?? '')}|${socket.remotePort ?? ''}`;
}

/** The handshake key an admitted TCP socket carries (TLS listeners), so its end needs no second getpeername. */
const kHandshakeKey = Symbol('trunkgate.handshakeKey');
type AdmittedSocket = Socket & { [kHandshakeKey]?: string };

/**
 * The TCP socket under an accepted TLS socket: Node's TLSSocket keeps the socket a server wrapped as `_parent`,
 * which already knows its peer's address. The socket itself when there is none (plain TCP, or a Node without it).
 */
export function tcpSocketOf(socket: Socket): Socket {
  const parent = (socket as Socket & { _parent?: unknown })._parent;
  return parent instanceof Socket ? parent : socket;
}

/**
 * Admission of inbound stream connections, counted from the TCP accept (before any TLS handshake), so half-open
 * handshakes count too. Past either bound the socket is destroyed at once: nothing is read from it, no handshake
 * is started, and file descriptors stay in reserve for the admin API and the calls in progress.
 */
export class ConnectionGate {
  readonly #limits: ConnectionLimits;
  readonly #bySource = new Map<string, number>();
  readonly #onRefuse: RefuseConnection;
  /** TLS handshakes in progress: connection key → source. */
  readonly #handshakes = new Map<string, string>();
  readonly #handshakesBySource = new Map<string, number>();
  #open = 0;

  constructor(limits: Partial<ConnectionLimits>, onRefuse: RefuseConnection) {
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
    this.#onRefuse = onRefuse;
  }

  get open(): number {
    return this.#open;
  }

  /** TLS handshakes in progress now. */
  get handshakes(): number {
    return this.#handshakes.size;
  }

  /**
   * Called on every accepted socket, with the listener's id when a TLS handshake is to follow; false when it was
   * refused (and destroyed). A TLS one counts as a handshake until handshakeDone() or its close.
   */
  admit(socket: Socket, tlsListener?: string): boolean {
    const tls = tlsListener !== undefined;
    const source = normalizeAddress(socket.remoteAddress ?? '');
    const n = this.#bySource.get(source) ?? 0;
    const code = this.#open >= this.#limits.maxConnections ? 'ERR_SIP_TRANSPORT_CONN_LIMIT'
      : n >= this.#limits.maxConnectionsPerSource ? 'ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT'
        : tls && this.#handshakes.size >= this.#limits.maxHandshakes ? 'ERR_SIP_TRANSPORT_HANDSHAKE_LIMIT'
          : tls && (this.#handshakesBySource.get(source) ?? 0) >= this.#limits.maxHandshakesPerSource ? 'ERR_SIP_TRANSPORT_HANDSHAKE_SOURCE_LIMIT'
            : undefined;
    if (code !== undefined) {
      this.#onRefuse(code, socket);
      socket.destroy();
      return false;
    }
    this.#open++;
    this.#bySource.set(source, n + 1);
    const key = tlsListener !== undefined ? connectionKey(socket, tlsListener) : undefined;
    if (key !== undefined) {
      (socket as AdmittedSocket)[kHandshakeKey] = key;
      this.#handshakes.set(key, source);
      this.#handshakesBySource.set(source, (this.#handshakesBySource.get(source) ?? 0) + 1);
    }
    socket.once('close', () => {
      this.#open--;
      decrement(this.#bySource, source);
      if (key !== undefined) this.#endHandshake(key);
    });
    return true;
  }

  /** A TLS handshake on `listener` ended (finished or failed); `socket` is the TLS socket or the raw one under it. */
  handshakeDone(socket: Socket, listener: string): void {
    this.#endHandshake((tcpSocketOf(socket) as AdmittedSocket)[kHandshakeKey] ?? connectionKey(socket, listener));
  }

  #endHandshake(key: string): void {
    const source = this.#handshakes.get(key);
    if (source === undefined) return;
    this.#handshakes.delete(key);
    decrement(this.#handshakesBySource, source);
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const left = (map.get(key) ?? 1) - 1;
  if (left > 0) map.set(key, left);
  else map.delete(key);
}
