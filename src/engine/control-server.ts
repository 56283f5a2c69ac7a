import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { GatewayError, TypedEmitter, type Clock } from '../common/index.js';
import { silentLogger } from '../log/index.js';
import { AppConnection, type ControlSocket } from './app-connection.js';
import { AppRegistry } from './app-registry.js';
import type { EngineCore } from './types.js';
import type { ControlErrorCode } from './wire/index.js';

/**
 * The version reported on authenticate. drachtio-srf pings a server only when this parses as `vX.Y.Z` and is at
 * least v0.8.2 (docs/control-protocol.md §2.10 item 11), so it leads with the drachtio-server protocol level the
 * engine serves and carries trunkgate's own version after it.
 */
export const ENGINE_VERSION = 'v0.9.0-trunkgate-0.1.0';
export const DEFAULT_CONTROL_PORT = 9022;

export interface ControlServerOptions {
  core: EngineCore;
  /** The shared secret apps authenticate with; must not be empty. */
  secret: string;
  /** The registry the core was given as its AppHub; a new one when absent. */
  registry?: AppRegistry;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9022; 0 picks a free port. */
  port?: number;
  log?: Logger;
  version?: string;
  /** Largest control frame accepted from an app (default 1 MiB). */
  maxFrameBytes?: number;
  /** How long a connection may stay unauthenticated (default 10,000 ms). */
  authTimeoutMs?: number;
  /** Apps connected at once (default 1: one app owns the gateway's calls); more are refused at authenticate. */
  maxApps?: number;
  /** Bytes queued towards one app before new INVITEs for it get 503 (default 4 MiB). */
  maxSendBufferBytes?: number;
  /**
   * Control connections held at once, authenticated or not (default 16 more than maxApps): each unauthenticated
   * one may hold a frame buffer of up to maxFrameBytes for authTimeoutMs. Past it a new one takes the place of the
   * oldest not yet authenticated; it is closed at accept only when authenticated apps hold every slot.
   */
  maxConnections?: number;
  clock?: Clock;
}

export type ControlServerEvents = {
  connection: [AppConnection];
};

/**
 * The drachtio control-protocol listener (inbound mode: apps dial the engine, docs/control-protocol.md §2.1).
 * Build, then listen: the constructor binds nothing. close() is idempotent and ends every app connection.
 */
export class ControlServer extends TypedEmitter<ControlServerEvents> {
  readonly registry: AppRegistry;
  readonly #options: ControlServerOptions;
  readonly #log: Logger;
  readonly #connections = new Set<AppConnection>();
  #server: Server | undefined;
  #address: { host: string; port: number } | undefined;
  #seq = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ControlServerOptions) {
    super();
    if (typeof options.secret !== 'string' || options.secret === '') {
      throw new TypeError('ControlServer: secret must be a non-empty string');
    }
    this.#options = options;
    this.#log = (options.log ?? silentLogger()).child({ component: 'control' });
    this.registry = options.registry ?? new AppRegistry({ log: this.#log });
  }

  /** The bound address, once listening. */
  address(): { host: string; port: number } | undefined {
    return this.#address;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Binds the listener. Rejects with ERR_ENGINE_LISTEN (cause: the socket error) when it cannot. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.#closed) throw new GatewayError<ControlErrorCode>('ERR_ENGINE_LISTEN', 'control server is closed');
    if (this.#address) return this.#address;
    const host = this.#options.host ?? '127.0.0.1';
    const port = this.#options.port ?? DEFAULT_CONTROL_PORT;
    const server = createServer({ noDelay: true, keepAlive: true }, (socket) => this.adopt(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => {
        reject(new GatewayError<ControlErrorCode>('ERR_ENGINE_LISTEN', `control listener on ${host}:${port} failed`, { cause: e }));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (e) => this.registry.countListenerError(e, `${host}:${port}`));
    const a = server.address() as AddressInfo;
    this.#address = { host: a.address, port: a.port };
    this.#log.info({ host: a.address, port: a.port }, 'control: listening for drachtio apps');
    return this.#address;
  }

  /**
   * Serves one control connection: one accepted here, or one the engine dialed out to an app that listens
   * (outbound mode, §2.7). Either way the app authenticates first.
   */
  adopt(socket: ControlSocket): AppConnection | undefined {
    const max = this.#options.maxConnections ?? (this.#options.maxApps ?? 1) + 16;
    if (this.#connections.size >= max && !this.#evictOldestUnauthenticated(max)) {
      this.registry.countRefusedConnection(`${socket.remoteAddress ?? '-'}:${socket.remotePort ?? '-'}`, max);
      socket.destroy();
      return undefined;
    }
    const conn = new AppConnection({
      socket,
      connId: `app-${++this.#seq}`,
      secret: this.#options.secret,
      registry: this.registry,
      core: this.#options.core,
      log: this.#log,
      version: this.#options.version ?? ENGINE_VERSION,
      ...(this.#options.maxFrameBytes === undefined ? {} : { maxFrameBytes: this.#options.maxFrameBytes }),
      ...(this.#options.authTimeoutMs === undefined ? {} : { authTimeoutMs: this.#options.authTimeoutMs }),
      ...(this.#options.maxApps === undefined ? {} : { maxApps: this.#options.maxApps }),
      ...(this.#options.maxSendBufferBytes === undefined ? {} : { maxSendBufferBytes: this.#options.maxSendBufferBytes }),
      ...(this.#options.clock === undefined ? {} : { clock: this.#options.clock }),
    });
    if (this.#closed) {
      conn.close();
      return conn;
    }
    (socket as Partial<Socket>).setNoDelay?.(true);
    this.#connections.add(conn);
    conn.on('close', () => this.#connections.delete(conn));
    this.safeEmit('connection', conn);
    return conn;
  }

  /**
   * Makes room for a new connection: closes the oldest connection not yet authenticated (one refused and lingering
   * counts as such); false when authenticated apps hold every slot. A connection that has not authenticated cannot
   * keep a slot from a newer one, so connections opened and left idle never lock the app out; and as the oldest goes
   * first, the app's own connection, which authenticates on its first frame, is closed only when every other slot
   * not held by an app was taken after it and before that frame was read. An authenticated app is never closed here.
   */
  #evictOldestUnauthenticated(max: number): boolean {
    for (const conn of this.#connections) {
      if (conn.authenticated) continue;
      // Out of the count at once: its socket reports the close later, and a second accept in the same turn must not
      // pick it again.
      this.#connections.delete(conn);
      this.registry.countEvictedConnection(conn.remote, max);
      conn.close();
      return true;
    }
    return false;
  }

  /** Stops listening and closes every app connection. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      for (const conn of [...this.#connections]) conn.close();
      const server = this.#server;
      if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      this.registry.closeLog();
      this.#log.debug('control: closed');
    })();
    return this.#closing;
  }
}
