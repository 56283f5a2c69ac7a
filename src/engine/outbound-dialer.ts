import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { GatewayError, systemClock, type Clock } from '../common/index.js';
import { silentLogger } from '../log/index.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import type { AppConnection } from './app-connection.js';
import type { ControlServer } from './control-server.js';
import type { ControlErrorCode } from './wire/index.js';

/** Where an app listens for the engine (docs/control-protocol.md §2.7: `route {uri: "host:port[;transport=tcp|tls]"}`). */
export interface OutboundTarget {
  host: string;
  port: number;
  /** Dial with TLS, with these client options. */
  tls?: ConnectionOptions;
}

export interface OutboundDialerOptions {
  server: ControlServer;
  log?: Logger;
  clock?: Clock;
  /** Bound on connect plus the app's authenticate (default 5,000 ms). */
  timeoutMs?: number;
  /** Most dials under way at once; past it a dial is refused at once (default 64). */
  maxPending?: number;
}

export interface OutboundDialerStats {
  /** Dials that ended with an authenticated connection. */
  connected: number;
  /** Dials that failed: connect, TLS, authentication or time. */
  failed: number;
  /** Dials refused because maxPending were under way. */
  refused: number;
  /** Dials under way now. */
  pending: number;
}

/**
 * Outbound connection mode (docs/control-protocol.md §2.7): the engine dials an app that listens
 * (`srf.listen({port, secret})`); the app sends `authenticate` and gets the same reply as an inbound app, and
 * sends no `route`. The connection is served by the control server like any other; dial() resolves with its
 * connId once the app has authenticated, and the caller pushes the pending request to it. One connection per
 * dial, as drachtio-server does: the app ends it with `srf.endSession(req)`.
 */
export class OutboundDialer {
  readonly #server: ControlServer;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #lines: RateLimitedLog;
  readonly #stats: OutboundDialerStats = { connected: 0, failed: 0, refused: 0, pending: 0 };

  constructor(options: OutboundDialerOptions) {
    this.#server = options.server;
    this.#log = (options.log ?? silentLogger()).child({ component: 'control-dialer' });
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#maxPending = options.maxPending ?? 64;
    this.#lines = new RateLimitedLog(this.#log, this.#clock);
  }

  stats(): OutboundDialerStats {
    return { ...this.#stats };
  }

  /** Parses `host:port[;transport=tcp|tls]` as an HTTP handler's `route {uri}` gives it. */
  static parseUri(uri: string): OutboundTarget | undefined {
    const m = /^(?:sips?:)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})(?:;transport=(tcp|tls))?$/i.exec(uri.trim());
    if (!m) return undefined;
    const port = Number(m[2]);
    if (port < 1 || port > 65_535) return undefined;
    const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
    if (m[3]?.toLowerCase() !== 'tls') return { host, port };
    // "Literal IPv4 and IPv6 addresses are not permitted in "HostName"." (https://www.rfc-editor.org/rfc/rfc6066#section-3)
    // An address sends no SNI; Node then checks the certificate against the address itself.
    return { host, port, tls: isIP(host) === 0 ? { servername: host } : {} };
  }

  /** Dials, waits for the app to authenticate; rejects with ERR_ENGINE_DIAL (cause set) otherwise. */
  dial(target: OutboundTarget): Promise<string> {
    const where = `${target.host}:${target.port}`;
    const refuse = (reason: string, cause?: unknown) => {
      this.#lines.line('warn', 'ERR_ENGINE_DIAL', { app: where, reason }, `control: outbound connection to app failed: ${reason}`, where);
      return new GatewayError<ControlErrorCode>('ERR_ENGINE_DIAL', `outbound control connection to ${where}: ${reason}`, cause === undefined ? {} : { cause });
    };
    if (this.#stats.pending >= this.#maxPending) {
      this.#stats.refused++;
      return Promise.reject(refuse(`${this.#maxPending} dials under way already`));
    }
    this.#stats.pending++;
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      let conn: AppConnection | undefined;
      const fail = (reason: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        this.#stats.pending--;
        this.#stats.failed++;
        timer.cancel();
        conn?.close();
        socket.destroy();
        reject(refuse(reason, cause));
      };
      const timer = this.#clock.setTimeout(() => fail(`no authenticated connection within ${this.#timeoutMs} ms`), this.#timeoutMs);
      const socket: Socket = target.tls
        ? tlsConnect({ host: target.host, port: target.port, ...target.tls })
        : netConnect({ host: target.host, port: target.port });
      socket.setNoDelay(true);
      socket.once('error', (e) => fail(e.message, e));
      socket.once(target.tls ? 'secureConnect' : 'connect', () => {
        if (settled) return;
        socket.removeAllListeners('error');
        conn = this.#server.adopt(socket);
        if (!conn) {
          fail('the control listener holds its most connections');
          return;
        }
        conn.once('authenticated', () => {
          if (settled) return;
          settled = true;
          this.#stats.pending--;
          this.#stats.connected++;
          timer.cancel();
          resolve(conn!.connId);
        });
        conn.once('close', () => fail('closed before authenticating'));
      });
    });
  }
}
