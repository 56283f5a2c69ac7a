import type { Server, Socket } from 'node:net';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import { StreamConnection, type StreamConnectionTimers, type StreamConnectionUser } from './stream-connection.js';
import type { StreamFramerOptions } from './stream-framer.js';
import { transportError, type TransportError } from './errors.js';
import { addressFamily, normalizeAddress } from './address.js';
import type { ListenerInfo, SendTarget, TlsPeerInfo } from './types.js';
import type { PeerAddress } from './stream-connection-info.js';
import { outboundRefused, type OutboundLimit } from './outbound-limit.js';

export interface StreamTransportUser extends StreamConnectionUser {
  /** A connection is open (accepted, or connected and handshaken). */
  onOpen(conn: StreamConnection): void;
  /** An inbound TLS handshake failed; no connection was opened. */
  onHandshakeError(transport: StreamTransport, error: Error, remoteAddress: string | undefined, servername?: string, remotePort?: number): void;
}

export interface StreamTransportOptions extends StreamConnectionTimers {
  id: string;
  host: string;
  port: number;
  tenant?: string;
  tlsProfile?: string;
  user: StreamTransportUser;
  clock: Clock;
  log: Logger;
  /** Bound on connect plus handshake, in milliseconds. */
  connectTimeoutMs: number;
  framer?: StreamFramerOptions;
  nextId: () => string;
  /** Admission of each accepted socket, before any TLS handshake; false: it was refused and destroyed. */
  admit?: (socket: Socket) => boolean;
  /** An inbound TLS handshake ended, finished or failed (the admission's handshake count). */
  handshakeDone?: (socket: Socket) => void;
  /** The bound on outbound connections open or connecting, shared with the layer's other stream listeners. */
  outbound?: OutboundLimit;
  /** An error of the bound listening socket (counted and logged by the layer); a warn line when absent. */
  listenerError?: (e: NodeJS.ErrnoException) => void;
}

/** A socket being opened toward a peer, and the event that says it is ready. */
export interface OutboundSocket {
  socket: Socket;
  readyEvent: 'connect' | 'secureConnect';
  servername?: string;
  tlsProfile?: string;
  tenant?: string;
}

/** A TCP or TLS listener and the outbound connections that belong to it. */
export abstract class StreamTransport {
  readonly id: string;
  abstract readonly protocol: 'tcp' | 'tls';
  readonly family: 4 | 6;
  protected readonly o: StreamTransportOptions;
  readonly #connections = new Set<StreamConnection>();
  readonly #pending = new Set<Socket>();
  #server: Server | undefined;
  #info: ListenerInfo | undefined;
  /** The local end of every accepted socket when the listener is bound to one address (not a wildcard). */
  #acceptedLocal: { address: string; port: number } | undefined;
  #closed = false;
  /** One set of callbacks for every connection of this transport. */
  readonly #connectionUser: StreamConnectionUser;

  constructor(o: StreamTransportOptions) {
    this.o = o;
    this.id = o.id;
    this.family = addressFamily(o.host) === 6 ? 6 : 4;
    this.#connectionUser = {
      onFrame: (c, m) => o.user.onFrame(c, m),
      onPing: (c) => o.user.onPing(c),
      onSendBufferFull: (c, queued) => o.user.onSendBufferFull(c, queued),
      onFrameError: (c, e) => o.user.onFrameError(c, e),
      onClose: (c, reason) => {
        this.#connections.delete(c);
        o.user.onClose(c, reason);
      },
    };
  }

  protected abstract createServer(): Server;
  protected abstract openSocket(address: string, port: number, target: SendTarget): OutboundSocket;
  /** TLS details of a ready socket; undefined for TCP. */
  protected abstract peerInfo(socket: Socket, servername: string | undefined, tlsProfile: string | undefined, tenant?: string): TlsPeerInfo | undefined;

  get info(): ListenerInfo {
    if (!this.#info) throw new Error(`listener ${this.id} is not listening`);
    return this.#info;
  }

  async listen(): Promise<ListenerInfo> {
    const server = this.createServer();
    this.#server = server;
    if (this.o.admit) gateConnections(server, this.o.admit);
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void =>
        reject(transportError('ERR_SIP_TRANSPORT_BIND', `${this.protocol} ${this.o.host}:${this.o.port}: ${e.message}`, { cause: e }));
      server.once('error', onError);
      server.listen({ host: normalizeAddress(this.o.host), port: this.o.port, ipv6Only: this.family === 6, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const onListenerError = this.o.listenerError ?? ((e: Error) => this.o.log.warn({ err: e, listener: this.id, code: 'ERR_SIP_TRANSPORT_LISTENER' }, 'listener error'));
    server.on('error', onListenerError);
    const a = server.address();
    if (!a || typeof a === 'string') throw new Error('listener has no address');
    this.#info = { id: this.id, protocol: this.protocol, address: normalizeAddress(a.address), port: a.port };
    if (this.#info.address !== '0.0.0.0' && this.#info.address !== '::') this.#acceptedLocal = { address: this.#info.address, port: a.port };
    if (this.o.tenant !== undefined) this.#info.tenant = this.o.tenant;
    if (this.o.tlsProfile !== undefined) this.#info.tlsProfile = this.o.tlsProfile;
    return this.#info;
  }

  /**
   * Wraps an accepted (and, for TLS, handshaken and checked) socket. `remote`: the peer's address and port when the
   * caller read them already (from the TCP socket under a TLS one), so the socket is not asked again. TCP_NODELAY
   * and keepalive are set when the connection first carries bytes (StreamConnection's `socketOptions`).
   */
  protected accept(socket: Socket, servername: string | undefined, tls: TlsPeerInfo | undefined, remote?: PeerAddress): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#adopt(socket, 'inbound', undefined, servername, tls?.profile ?? this.o.tlsProfile, tls, tls?.tenant ?? this.o.tenant, remote);
  }

  /**
   * Opens a connection to an IP address; rejects with ERR_SIP_TRANSPORT_CONNECT(_TIMEOUT), or
   * ERR_SIP_TRANSPORT_OUTBOUND_LIMIT when the gateway holds its most outbound connections, or
   * ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT when it holds its most to that address; never throws.
   */
  connect(target: SendTarget, reuseKey: string): Promise<StreamConnection> {
    if (this.#closed) return Promise.reject(transportError('ERR_SIP_TRANSPORT_CLOSED', `listener ${this.id} is closed`));
    const address = normalizeAddress(target.address);
    const limit = this.o.outbound;
    if (limit && !limit.take({ address, port: target.port, protocol: this.protocol })) {
      return Promise.reject(outboundRefused(limit, address, target.port, this.protocol));
    }
    let out: OutboundSocket;
    try {
      out = this.openSocket(address, target.port, target);
    } catch (e) {
      limit?.giveBack(address);
      return Promise.reject(
        transportError('ERR_SIP_TRANSPORT_TLS_CONFIG', `cannot open ${this.protocol} to ${address}:${target.port}`, { cause: e }),
      );
    }
    const { socket } = out;
    limit?.holdUntilClosed(socket, address);
    this.#pending.add(socket);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (e: TransportError | undefined): void => {
        if (done) return;
        done = true;
        timer.cancel();
        this.#pending.delete(socket);
        socket.off('error', onError);
        socket.off('close', onClose);
        if (e) {
          socket.destroy();
          reject(e);
          return;
        }
        const tenant = out.tenant ?? this.o.tenant;
        const tls = this.peerInfo(socket, out.servername, out.tlsProfile, tenant);
        resolve(this.#adopt(socket, 'outbound', reuseKey, out.servername, out.tlsProfile, tls, tenant));
      };
      const details = {
        address, port: target.port, protocol: this.protocol,
        ...(out.tlsProfile !== undefined ? { tlsProfile: out.tlsProfile } : {}),
        ...(out.servername !== undefined ? { servername: out.servername } : {}),
        ...((out.tenant ?? this.o.tenant) !== undefined ? { tenant: out.tenant ?? this.o.tenant } : {}),
      };
      // Once TCP is up, a failure of a TLS socket is the handshake's (certificate, name, version, cipher).
      let tcpUp = false;
      if (out.readyEvent === 'secureConnect') socket.once('connect', () => { tcpUp = true; });
      const failCode = (): 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE' | 'ERR_SIP_TRANSPORT_CONNECT' => (tcpUp ? 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE' : 'ERR_SIP_TRANSPORT_CONNECT');
      const onError = (e: Error): void =>
        finish(transportError(failCode(), `${this.protocol} connect to ${address}:${target.port} failed: ${e.message}`, { cause: e, details }));
      const onClose = (): void =>
        finish(transportError(failCode(), `${this.protocol} connection to ${address}:${target.port} closed during setup`, { details }));
      // A TLS peer that took the TCP connection and never finished the handshake is a handshake failure (counted per
      // tenant and logged as one), with Node's code for a handshake that timed out, as an inbound one gets.
      const onTimeout = (): void => finish(tcpUp
        ? transportError('ERR_SIP_TRANSPORT_TLS_HANDSHAKE', `${this.protocol} handshake with ${address}:${target.port} timed out`, {
          cause: Object.assign(new Error('TLS handshake timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' }), details,
        })
        : transportError('ERR_SIP_TRANSPORT_CONNECT_TIMEOUT', `${this.protocol} connect to ${address}:${target.port} timed out`, { details }));
      const timer = this.o.clock.setTimeout(onTimeout, this.o.connectTimeoutMs);
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once(out.readyEvent, () => finish(undefined));
    });
  }

  #adopt(
    socket: Socket,
    direction: 'inbound' | 'outbound',
    reuseKey: string | undefined,
    servername: string | undefined,
    tlsProfile: string | undefined,
    tls: TlsPeerInfo | undefined,
    tenant: string | undefined = this.o.tenant,
    remote?: PeerAddress,
  ): StreamConnection {
    const o = this.o;
    const inbound = direction === 'inbound';
    const conn = new StreamConnection({
      id: o.nextId(),
      protocol: this.protocol,
      direction,
      socket,
      clock: o.clock,
      user: this.#connectionUser,
      idleTimeoutMs: o.idleTimeoutMs,
      unusedTimeoutMs: o.unusedTimeoutMs,
      keepAliveMs: o.keepAliveMs,
      ...(o.messageTimeoutMs !== undefined ? { messageTimeoutMs: o.messageTimeoutMs } : {}),
      ...(o.maxSendBufferBytes !== undefined ? { maxSendBufferBytes: o.maxSendBufferBytes } : {}),
      framer: o.framer,
      reuseKey,
      listenerId: this.id,
      tenant,
      tlsProfile,
      servername,
      tls,
      local: inbound ? this.#acceptedLocal : undefined,
      remote: inbound ? remote : undefined,
      socketOptions: inbound ? 'on-first-use' : 'now',
    });
    this.#connections.add(conn);
    o.user.onOpen(conn);
    return conn;
  }

  /** Stops listening and drops every connection of this listener. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#pending) s.destroy();
    this.#pending.clear();
    for (const c of [...this.#connections]) c.destroy('transport closed');
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Puts `admit` in front of the server's own 'connection' listeners (TCP's accept, TLS's wrapping for its handshake):
 * they run only for a socket it admitted, so a refused one is never wrapped, handshaken, adopted or counted.
 */
function gateConnections(server: Server, admit: (socket: Socket) => boolean): void {
  const inner = server.listeners('connection') as ((this: Server, socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    if (!admit(socket)) return;
    for (const l of inner) l.call(server, socket);
  });
}
