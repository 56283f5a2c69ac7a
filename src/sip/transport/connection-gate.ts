import { Socket } from 'node:net';
import { sourceKey } from './address.js';

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
 * What the gate keeps on each socket it admitted: the source its counts are under, and whether a TLS handshake of
 * it is still counted. Kept on the socket itself, so admission, the handshake's end and the close need no key
 * string and no table lookup (the remote address is read once, at admission).
 */
interface Admission {
  readonly source: string;
  handshake: boolean;
}
const kAdmission = Symbol('trunkgate.admission');
type AdmittedSocket = Socket & { [kAdmission]?: Admission };

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
  readonly #handshakesBySource = new Map<string, number>();
  #handshakes = 0;
  #open = 0;
  /** One close listener for every admitted socket (`this` is the socket). */
  readonly #onClose: (this: AdmittedSocket) => void;

  constructor(limits: Partial<ConnectionLimits>, onRefuse: RefuseConnection) {
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
    this.#onRefuse = onRefuse;
    const closed = (a: Admission): void => {
      this.#open--;
      decrement(this.#bySource, a.source);
      this.#endHandshake(a);
    };
    this.#onClose = function (this: AdmittedSocket) {
      const a = this[kAdmission];
      if (a === undefined) return;
      this[kAdmission] = undefined;
      closed(a);
    };
  }

  get open(): number {
    return this.#open;
  }

  /** TLS handshakes in progress now. */
  get handshakes(): number {
    return this.#handshakes;
  }

  /**
   * Called on every accepted socket, `tls` when a TLS handshake is to follow; false when it was refused (and
   * destroyed). A TLS one counts as a handshake until handshakeDone() or its close.
   */
  admit(socket: Socket, tls = false): boolean {
    const source = sourceKey(socket.remoteAddress ?? '');
    const n = this.#bySource.get(source) ?? 0;
    const code = this.#open >= this.#limits.maxConnections ? 'ERR_SIP_TRANSPORT_CONN_LIMIT'
      : n >= this.#limits.maxConnectionsPerSource ? 'ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT'
        : tls && this.#handshakes >= this.#limits.maxHandshakes ? 'ERR_SIP_TRANSPORT_HANDSHAKE_LIMIT'
          : tls && (this.#handshakesBySource.get(source) ?? 0) >= this.#limits.maxHandshakesPerSource ? 'ERR_SIP_TRANSPORT_HANDSHAKE_SOURCE_LIMIT'
            : undefined;
    if (code !== undefined) {
      this.#onRefuse(code, socket);
      socket.destroy();
      return false;
    }
    this.#open++;
    this.#bySource.set(source, n + 1);
    if (tls) {
      this.#handshakes++;
      this.#handshakesBySource.set(source, (this.#handshakesBySource.get(source) ?? 0) + 1);
    }
    (socket as AdmittedSocket)[kAdmission] = { source, handshake: tls };
    socket.on('close', this.#onClose);
    return true;
  }

  /** A TLS handshake ended (finished or failed); `socket` is the TLS socket or the raw one under it. Idempotent. */
  handshakeDone(socket: Socket): void {
    const a = (tcpSocketOf(socket) as AdmittedSocket)[kAdmission];
    if (a !== undefined) this.#endHandshake(a);
  }

  #endHandshake(a: Admission): void {
    if (!a.handshake) return;
    a.handshake = false;
    this.#handshakes--;
    decrement(this.#handshakesBySource, a.source);
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const left = (map.get(key) ?? 1) - 1;
  if (left > 0) map.set(key, left);
  else map.delete(key);
}
