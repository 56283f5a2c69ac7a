import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { ConnectionEntry, ConnectionInfo } from './connection-table.js';
import { StreamFramer, type FrameError, type StreamFramerOptions } from './stream-framer.js';
import { transportError, type TransportError } from './errors.js';
import { connectionFlow, connectionInfo, type StreamConnectionDescription } from './stream-connection-info.js';
import type { Flow } from './types.js';

/** Upward callbacks of one connection, implemented by the transport layer. */
export interface StreamConnectionUser {
  onFrame(conn: StreamConnection, message: Buffer): void;
  onPing(conn: StreamConnection): void;
  onFrameError(conn: StreamConnection, error: FrameError): void;
  onClose(conn: StreamConnection, reason: string): void;
  /** The peer let more than the send bound wait unread: the connection is being destroyed. */
  onSendBufferFull(conn: StreamConnection, queuedBytes: number): void;
}

export interface StreamConnectionTimers {
  /** Close a used connection (markUsed) after this long without traffic. */
  idleTimeoutMs: number;
  /** Close a connection never used after this long from its opening, whatever it carried. */
  unusedTimeoutMs: number;
  /** TCP keepalive probe delay, to find half-open connections. */
  keepAliveMs: number;
  /**
   * A message must be complete this long after its first byte arrived (slowloris: a peer trickling bytes keeps a
   * connection and its buffer for ever otherwise). Default 10,000 ms.
   */
  messageTimeoutMs?: number;
  /**
   * Bytes that may wait unread by the peer (default 1 MiB): a peer that sends but never reads would grow the send
   * buffer without end. Past it the connection is destroyed and the write rejects (ERR_SIP_TRANSPORT_SEND_BUFFER_FULL).
   */
  maxSendBufferBytes?: number;
}

/** The default bound on bytes waiting unread on one connection. */
export const DEFAULT_MAX_SEND_BUFFER_BYTES = 1_048_576;

/** Optional fields may be given as undefined (the transport passes what it has). */
export interface StreamConnectionOptions extends StreamConnectionTimers, StreamConnectionDescription {
  socket: Socket;
  clock: Clock;
  user: StreamConnectionUser;
  framer?: StreamFramerOptions | undefined;
  reuseKey?: string | undefined;
  /**
   * 'now' (the default): TCP_NODELAY and keepalive are set at once. 'on-first-use' (accepted sockets): they are set
   * with the first bytes in or out. A connection that never carries anything is closed by the unused timer long
   * before keepalive could tell, and Nagle only matters once there is something to write; so a flood of empty
   * connections (or TLS handshakes) costs no socket-option calls.
   */
  socketOptions?: 'now' | 'on-first-use';
}

const CRLF = Buffer.from('\r\n', 'latin1');

/** The connection a socket belongs to, so one set of listener functions serves every socket. */
const kConnection = Symbol('trunkgate.streamConnection');
type OwnedSocket = Socket & { [kConnection]?: StreamConnection };

/**
 * One TCP or TLS connection: framing, counters, idle and half-open detection, and safe writes. Per-connection
 * setup is kept small (an accepting server sets up thousands): the socket listeners are shared functions, and
 * the framer and the flow are made when first needed.
 */
export class StreamConnection implements ConnectionEntry {
  readonly info: ConnectionInfo;
  readonly reuseKey: string | undefined;
  readonly #socket: Socket;
  readonly #clock: Clock;
  readonly #user: StreamConnectionUser;
  readonly #framerOptions: StreamFramerOptions | undefined;
  /** Made on the first bytes: a connection that never sends holds no framing state. */
  #framer: StreamFramer | undefined;
  #flow: Flow | undefined;
  /** Set once input could not be framed: later bytes are ignored until the connection closes. */
  #discarding = false;
  readonly #idleTimeoutMs: number;
  readonly #unusedTimeoutMs: number;
  readonly #messageTimeoutMs: number;
  readonly #maxSendBufferBytes: number;
  /** When the bytes of the message in progress began to arrive (undefined between messages). */
  #partialSince: number | undefined;
  #idleTimer: TimerHandle | undefined;
  /** Outbound: from the start; inbound: once the layer above took a request from it. Until then: the unused timeout. */
  #used: boolean;
  #closeReason = 'closed';
  #error: Error | undefined;
  /** Keepalive delay still to be set with TCP_NODELAY on first use; undefined once set. */
  #keepAlivePending: number | undefined;

  constructor(o: StreamConnectionOptions) {
    this.#socket = o.socket;
    this.#clock = o.clock;
    this.#user = o.user;
    this.#idleTimeoutMs = o.idleTimeoutMs;
    this.#unusedTimeoutMs = o.unusedTimeoutMs;
    this.#messageTimeoutMs = o.messageTimeoutMs ?? 10_000;
    this.#maxSendBufferBytes = o.maxSendBufferBytes ?? DEFAULT_MAX_SEND_BUFFER_BYTES;
    this.#framerOptions = o.framer;
    this.reuseKey = o.reuseKey;
    const s = o.socket as OwnedSocket;
    this.info = connectionInfo(o, s, o.clock.now());
    this.#used = o.direction === 'outbound';

    this.#keepAlivePending = o.keepAliveMs;
    if (o.socketOptions !== 'on-first-use') this.#setSocketOptions();
    s[kConnection] = this;
    s.on('data', StreamConnection.#onSocketData);
    s.on('error', StreamConnection.#onSocketError);
    s.on('close', StreamConnection.#onSocketClose);
    this.#armIdle(Math.min(o.idleTimeoutMs, o.unusedTimeoutMs));
  }

  #setSocketOptions(): void {
    const delay = this.#keepAlivePending;
    if (delay === undefined) return;
    this.#keepAlivePending = undefined;
    this.#socket.setNoDelay(true);
    this.#socket.setKeepAlive(true, delay);
  }

  /** The flow every message of this connection reports; shared, so callers must not modify it. */
  get flow(): Flow {
    return (this.#flow ??= connectionFlow(this.info));
  }

  static #onSocketData(this: OwnedSocket, chunk: Buffer): void {
    const c = this[kConnection];
    if (!c) return;
    c.info.bytesIn += chunk.length;
    c.info.lastActivityAt = c.#clock.now();
    if (c.#discarding) return;
    if (c.#framer === undefined) c.#setSocketOptions();
    const framer = (c.#framer ??= c.#newFramer());
    framer.push(chunk);
    if (framer.buffered === 0) {
      c.#partialSince = undefined;
    } else if (c.#partialSince === undefined && c.info.state === 'open') {
      // A message in progress: the idle check now also runs when its time is up.
      c.#partialSince = c.info.lastActivityAt;
      c.#idleTimer?.cancel();
      c.#armNext();
    }
  }

  static #onSocketError(this: OwnedSocket, e: NodeJS.ErrnoException): void {
    const c = this[kConnection];
    if (!c) return;
    c.#error ??= e;
    c.#closeReason = `error ${e.code ?? e.message}`;
  }

  static #onSocketClose(this: OwnedSocket): void {
    const c = this[kConnection];
    if (!c) return;
    // With allowHalfOpen off, Node ends our side when the peer ends; a half-closed SIP connection is useless.
    if (c.#closeReason === 'closed' && this.readableEnded === true) c.#closeReason = 'peer closed';
    c.#onClosed();
  }

  #newFramer(): StreamFramer {
    return new StreamFramer(
      {
        onFrame: (m) => {
          this.info.messagesIn++;
          this.#user.onFrame(this, m);
        },
        onPing: () => this.#user.onPing(this),
        onFrameError: (e) => this.#user.onFrameError(this, e),
      },
      this.#framerOptions,
    );
  }

  /** From now on the connection is closed after the idle timeout without traffic, not the unused one. */
  markUsed(): void {
    this.#used = true;
  }

  /** The first error the socket raised, if any (read when it closes). */
  get error(): Error | undefined {
    return this.#error;
  }

  get isOpen(): boolean {
    return this.info.state === 'open';
  }

  /** Writes one message; rejects with ERR_SIP_TRANSPORT_CLOSED or ERR_SIP_TRANSPORT_SEND, never throws. */
  write(data: Buffer, isMessage = true): Promise<void> {
    if (this.info.state !== 'open' || this.#socket.destroyed || !this.#socket.writable) {
      return Promise.reject(transportError('ERR_SIP_TRANSPORT_CLOSED', `connection ${this.info.id} is ${this.info.state}`, {
        details: { connectionId: this.info.id },
      }));
    }
    const queued = this.#socket.writableLength ?? 0;
    if (queued + data.length > this.#maxSendBufferBytes) {
      this.#user.onSendBufferFull(this, queued);
      this.destroy('send buffer full');
      return Promise.reject(transportError('ERR_SIP_TRANSPORT_SEND_BUFFER_FULL',
        `connection ${this.info.id}: ${queued} bytes wait unread by the peer, the bound is ${this.#maxSendBufferBytes}`, {
          details: { connectionId: this.info.id, queuedBytes: queued },
        }));
    }
    this.#setSocketOptions();
    this.info.bytesOut += data.length;
    if (isMessage) this.info.messagesOut++;
    this.info.lastActivityAt = this.#clock.now();
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (e) => {
        if (e) reject(sendError(this.info.id, e));
        else resolve();
      });
    });
  }

  /** Answers an RFC 5626 ping with a pong (one CRLF). */
  pong(): void {
    this.write(CRLF, false).catch(() => undefined);
  }

  /** Ends the connection after pending writes, and destroys it shortly after if the peer does not follow. */
  close(reason: string): void {
    if (this.info.state !== 'open') return;
    this.info.state = 'closing';
    this.#closeReason = reason;
    this.#socket.end();
    const t = this.#clock.setTimeout(() => this.#socket.destroy(), 2_000);
    this.#socket.once('close', () => t.cancel());
  }

  /**
   * After input that cannot be framed: nothing more is read, but answers to the messages that came before it
   * (a 503 from the engine, a final response from an app) still go out for `graceMs`, then the connection closes.
   */
  closeAfterGrace(reason: string, graceMs: number): void {
    if (this.info.state !== 'open' || this.#discarding) return;
    this.#discarding = true;
    this.#closeReason = reason;
    this.#socket.pause();
    const t = this.#clock.setTimeout(() => this.close(reason), graceMs);
    this.#socket.once('close', () => t.cancel());
  }

  /** Drops the connection at once. */
  destroy(reason: string): void {
    if (this.info.state === 'closed') return;
    if (this.info.state === 'open') this.#closeReason = reason;
    this.info.state = 'closing';
    this.#socket.destroy();
  }

  #onClosed(): void {
    if (this.info.state === 'closed') return;
    this.info.state = 'closed';
    this.#idleTimer?.cancel();
    this.#idleTimer = undefined;
    this.#user.onClose(this, this.#closeReason);
  }

  #armIdle(ms: number): void {
    this.#idleTimer = this.#clock.setTimeout(() => this.#checkIdle(), Math.max(1, ms));
  }

  /**
   * Re-armed lazily from the last activity, so traffic costs no timer work. A connection never used is closed
   * `unusedTimeoutMs` after it opened, whatever bytes or messages it carried; a message still incomplete
   * `messageTimeoutMs` after its first byte closes the connection (slowloris).
   */
  #checkIdle(): void {
    this.#idleTimer = undefined;
    if (this.info.state !== 'open') return;
    const now = this.#clock.now();
    if (this.#partialSince !== undefined && now - this.#partialSince >= this.#messageTimeoutMs) {
      this.destroy('message timeout');
      return;
    }
    const { used, limit, idle } = this.#idleState(now);
    if (idle >= limit) {
      if (used) this.close('idle timeout');
      else this.destroy('unused timeout');
      return;
    }
    this.#armNext();
  }

  #idleState(now: number): { used: boolean; limit: number; idle: number } {
    const used = this.#used;
    const since = used ? this.info.lastActivityAt : this.info.createdAt;
    return { used, limit: used ? this.#idleTimeoutMs : this.#unusedTimeoutMs, idle: now - since };
  }

  /** Arms the check at the nearest deadline: idle or unused time, or the message in progress. */
  #armNext(): void {
    const now = this.#clock.now();
    const { limit, idle } = this.#idleState(now);
    let next = limit - idle;
    if (this.#partialSince !== undefined) next = Math.min(next, this.#partialSince + this.#messageTimeoutMs - now);
    this.#armIdle(next);
  }
}

function sendError(id: string, cause: Error): TransportError {
  return transportError('ERR_SIP_TRANSPORT_SEND', `write on connection ${id} failed`, { cause, details: { connectionId: id } });
}
