import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { newLocalId, systemClock, TypedEmitter, type Clock, type TimerHandle } from '../common/index.js';
import type { AppRegistry } from './app-registry.js';
import type { EngineCore } from './types.js';
import {
  AUTHENTICATE_REFUSED_FIELDS, PONG_FIELDS, FrameDecoder, authenticateOkFields, buildResponse, nokFields,
  parseControlMessage, toAppProxyCommand, toAppSipCommand, type ControlErrorCode, type ControlMessage,
} from './wire/index.js';

/** How long a refused client may keep its side open before it is destroyed. */
const REFUSED_LINGER_MS = 2_000;
/** Default bound on bytes queued towards one app (frames not yet written plus the socket's own buffer). */
export const DEFAULT_MAX_SEND_BUFFER_BYTES = 4 * 1024 * 1024;

export type { AppConnectionEvents, AppConnectionOptions, AppLimitCode, ControlSocket } from './app-connection-types.js';
import type { AppConnectionEvents, AppConnectionOptions, AppLimitCode, ControlSocket } from './app-connection-types.js';

/**
 * One drachtio control connection from an app (docs/control-protocol.md §2.1–2.2): framing, `authenticate`
 * first, then `route`/`remove_route`/`ping` answered here and `sip`/`proxy` handed to the engine core.
 * Hostile input (bad framing, oversized frames, garbage) closes this connection with a log line carrying a
 * stable code; it never throws out of a socket callback.
 */
export class AppConnection extends TypedEmitter<AppConnectionEvents> {
  readonly connId: string;
  readonly remote: string;
  /** The app's IP address: its connects and disconnects are logged once a window per address, whatever the port. */
  readonly #address: string;
  readonly #socket: ControlSocket;
  #pending = '';
  #flushScheduled = false;
  readonly #secretDigest: Buffer;
  readonly #registry: AppRegistry;
  readonly #core: EngineCore;
  readonly #log: Logger;
  readonly #version: string;
  readonly #decoder: FrameDecoder;
  readonly #newMsgId: () => string;
  readonly #clock: Clock;
  #authTimer: TimerHandle | undefined;
  #authenticated = false;
  #refused = false;
  readonly #maxApps: number;
  readonly #maxSendBufferBytes: number;
  #tags: string[] = [];
  #closed = false;

  constructor(options: AppConnectionOptions) {
    super();
    this.connId = options.connId;
    this.#socket = options.socket;
    this.#secretDigest = digest(options.secret);
    this.#registry = options.registry;
    this.#core = options.core;
    this.#version = options.version;
    this.#newMsgId = options.newMsgId ?? newLocalId;
    this.#address = options.socket.remoteAddress ?? '?';
    this.remote = `${this.#address}:${options.socket.remotePort ?? '?'}`;
    this.#log = options.log.child({ connId: this.connId, app: this.remote });
    this.#decoder = new FrameDecoder(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes });

    this.#clock = options.clock ?? systemClock;
    this.#maxApps = options.maxApps ?? 1;
    this.#maxSendBufferBytes = options.maxSendBufferBytes ?? DEFAULT_MAX_SEND_BUFFER_BYTES;
    const authTimeoutMs = options.authTimeoutMs ?? 10_000;
    if (authTimeoutMs > 0) {
      this.#authTimer = this.#clock.setTimeout(() => {
        this.#fail('ERR_ENGINE_AUTH_TIMEOUT', `no authenticate within ${authTimeoutMs} ms`);
      }, authTimeoutMs);
    }
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (e: NodeJS.ErrnoException) =>
      this.#registry.controlError('ERR_ENGINE_CONTROL_SOCKET', e.code ?? e.message, this.remote, 'control: socket error'));
    this.#socket.on('close', () => this.#onClosed());
  }

  get authenticated(): boolean {
    return this.#authenticated;
  }

  get tags(): readonly string[] {
    return this.#tags;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Frames one payload. Frames produced while the engine handles one batch of network reads are written with a
   * single socket write in the check phase of the same loop turn: one syscall instead of one per frame, which
   * measured as the engine thread's largest cost under load.
   */
  send(payload: string): void {
    if (this.#closed || this.#socket.destroyed) return;
    if (this.#authenticated && this.backlogBytes() > 4 * this.#maxSendBufferBytes) {
      const reason = `more than ${4 * this.#maxSendBufferBytes} bytes queued: the app does not read`;
      this.#registry.countSendBufferOverflow(this.remote, reason);
      this.#fail('ERR_ENGINE_SEND_BUFFER_FULL', reason, false, true);
      return;
    }
    this.#pending += `${Buffer.byteLength(payload, 'utf8')}#${payload}`;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** Bytes (about: UTF-16 units for what is not yet written) queued towards the app. */
  backlogBytes(): number {
    return this.#pending.length + ((this.#socket as Partial<Socket>).writableLength ?? 0);
  }

  /** Whether more than the send bound is queued: new calls for this app are refused meanwhile. */
  backlogged(): boolean {
    return this.backlogBytes() > this.#maxSendBufferBytes;
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const out = this.#pending;
    this.#pending = '';
    if (out.length === 0 || this.#closed || this.#socket.destroyed) return;
    this.#socket.write(out, 'utf8');
  };

  /** Ends the connection; the registry and the core learn of it on the socket's close. Idempotent. */
  close(): void {
    this.#flush();
    if (this.#socket.destroyed) {
      this.#onClosed();
      return;
    }
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed || this.#refused) return;
    this.#onFrames(chunk);
    // Replies to what the app just sent leave now, in one write.
    this.#flush();
  }

  #onFrames(chunk: Buffer): void {
    const { frames, error } = this.#decoder.push(chunk);
    for (const payload of frames) {
      if (this.#closed || this.#refused) return;
      this.#onPayload(payload);
    }
    if (error) this.#fail(error.code, error.reason);
  }

  #onPayload(payload: string): void {
    const parsed = parseControlMessage(payload);
    if (!parsed.ok) {
      this.#fail(parsed.code, parsed.reason);
      return;
    }
    const msg = parsed.value;
    try {
      this.#dispatch(msg);
    } catch (e) {
      // A throw here is a bug in the core or in this file; the connection survives it and the app gets a NOK.
      this.#log.error({ err: e, code: 'ERR_ENGINE_CORE_FAILED', type: msg.type }, 'control: handling an app message failed');
      this.#reply(msg.msgId, nokFields('internal error'));
    }
    this.safeEmit('message', msg);
  }

  #dispatch(msg: ControlMessage): void {
    if (msg.type === 'authenticate') {
      this.#onAuthenticate(msg);
      return;
    }
    if (!this.#authenticated) {
      this.#reply(msg.msgId, nokFields('authenticate first'));
      this.#fail('ERR_ENGINE_NOT_AUTHENTICATED', `'${msg.type.slice(0, 64)}' before authenticate`, true);
      return;
    }
    switch (msg.type) {
      case 'ping':
        this.#reply(msg.msgId, PONG_FIELDS);
        return;
      case 'route':
        if (this.#registry.addRoute(this.connId, msg.fields[0] ?? '')) this.#reply(msg.msgId, ['OK']);
        else this.#reply(msg.msgId, nokFields('too many routes for one application'));
        return;
      case 'remove_route':
        this.#registry.removeRoute(this.connId, msg.fields[0] ?? '');
        this.#reply(msg.msgId, ['OK']);
        return;
      case 'sip': {
        const cmd = toAppSipCommand(this.connId, msg);
        if (!cmd.ok) {
          this.#registry.controlError(cmd.code, cmd.reason, this.remote, 'control: bad sip command');
          this.#reply(msg.msgId, nokFields(cmd.reason));
          return;
        }
        this.#core.onAppSip(cmd.value);
        return;
      }
      case 'proxy': {
        const cmd = toAppProxyCommand(this.connId, msg);
        if (!cmd.ok) {
          this.#registry.controlError(cmd.code, cmd.reason, this.remote, 'control: bad proxy command');
          this.#reply(msg.msgId, nokFields(cmd.reason));
          return;
        }
        this.#core.onAppProxy(cmd.value);
        return;
      }
      default:
        this.#registry.controlError('ERR_ENGINE_MESSAGE_UNKNOWN', `unknown message type ${msg.type.slice(0, 64)}`, this.remote, 'control: unknown message type');
        this.#reply(msg.msgId, nokFields(`unknown message type: ${msg.type.slice(0, 64)}`));
    }
  }

  /** `authenticate|secret|tags`: the secret is compared in constant time, over digests of equal length. */
  #onAuthenticate(msg: ControlMessage): void {
    const secret = msg.fields[0] ?? '';
    if (!timingSafeEqual(digest(secret), this.#secretDigest)) {
      this.#reply(msg.msgId, AUTHENTICATE_REFUSED_FIELDS);
      // Like drachtio-server: answer, then drop the client.
      this.#fail('ERR_ENGINE_AUTH_FAILED', 'incorrect secret', true);
      return;
    }
    if (!this.#authenticated && !this.#registry.isConnected(this.connId) && this.#registry.size >= this.#maxApps) {
      // One app owns the gateway's calls unless the configuration names more (maxApps).
      const reason = `${this.#maxApps} app(s) already connected and maxApps is ${this.#maxApps}`;
      this.#registry.countRefusedApp(this.remote, reason);
      this.#reply(msg.msgId, ['NO', `too many applications: ${this.#maxApps} already connected (engine maxApps)`]);
      this.#fail('ERR_ENGINE_APP_REFUSED', reason, true, true);
      return;
    }
    this.#tags = (msg.fields[1] ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
    this.#authTimer?.cancel();
    this.#authTimer = undefined;
    const first = !this.#authenticated;
    this.#authenticated = true;
    this.#registry.add(this);
    const { hostports, localHostports } = this.#core.hostports();
    this.#reply(msg.msgId, authenticateOkFields(hostports, this.#version, localHostports));
    if (first) {
      this.#registry.appConnected(this.#address, { connId: this.connId, app: this.remote, tags: this.#tags });
      this.safeEmit('authenticated');
    }
  }

  #reply(appMsgId: string, fields: readonly string[]): void {
    this.send(buildResponse(this.#newMsgId(), appMsgId, fields));
  }

  /**
   * Closes the connection with a log line carrying `code`. Graceful: end() lets a reply already written go
   * out first, anything the peer sends meanwhile is ignored, and a peer that keeps its side open is destroyed
   * shortly after. Otherwise (hostile framing) the socket is destroyed at once.
   */
  #fail(code: ControlErrorCode | AppLimitCode, reason: string, graceful = false, logged = false): void {
    if (this.#closed || this.#refused) return;
    // A refusal already logged (rate-limited) by the registry gets a debug line only.
    if (logged) this.#log.debug({ code, reason }, 'control: closing connection');
    else this.#registry.controlError(code, reason, this.remote, 'control: closing connection');
    if (!graceful) {
      this.close();
      return;
    }
    this.#refused = true;
    this.#authTimer?.cancel();
    this.#authTimer = this.#clock.setTimeout(() => this.close(), REFUSED_LINGER_MS);
    this.#flush();
    this.#socket.end();
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#authTimer?.cancel();
    this.#authTimer = undefined;
    if (this.#registry.remove(this.connId)) {
      try {
        this.#core.onAppDisconnected(this.connId);
      } catch (e) {
        this.#log.error({ err: e, code: 'ERR_ENGINE_CORE_FAILED' }, 'control: core failed on app disconnect');
      }
      this.#registry.appDisconnected(this.#address, { connId: this.connId, app: this.remote });
    }
    this.#log.debug('control: connection closed');
    this.safeEmit('close');
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
