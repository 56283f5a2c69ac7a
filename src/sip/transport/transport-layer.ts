import { ConnectionGate, DEFAULT_CONNECTION_LIMITS, type ConnectionLimitCode, type ConnectionLimits } from './connection-gate.js';
import { fitConnectionLimits, readOpenFilesLimit } from './fd-limit.js';
import type { RemoteInfo } from 'node:dgram';
import type { TlsOptions } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../common/clock.js';
import { GatewayError } from '../../common/gateway-error.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { parseMessage } from '../message/parse.js';
import type { ParseLimits, ParseResult, SipRequest } from '../message/types.js';
import { addressFamily, normalizeAddress } from './address.js';
import { buildBadRequest, badRequestPhrase } from './bad-request.js';
import { ConnectionTable, outboundKey, type ConnectionInfo } from './connection-table.js';
import { transportError } from './errors.js';
import type { StreamConnection } from './stream-connection.js';
import type { FrameError } from './stream-framer.js';
import type { StreamTransport, StreamTransportOptions, StreamTransportUser } from './stream-transport.js';
import { TcpTransport } from './tcp-transport.js';
import { TlsTransport, defaultTlsClientOptions, type InboundTlsCheck, type TlsClientOptionsResolver } from './tls-transport.js';
import { classifyTlsFailure, type TlsDirection, type TlsFailure } from '../../tls/failure.js';
import { refusedByServer, reportTlsFailure, type TlsFailureContext, type TlsFailureEvent } from './tls-failure-report.js';
import { TlsStats } from '../../tls/tls-stats.js';
import type { SecureContextOptions } from 'node:tls';
import { UdpTransport, type UdpTransportUser } from './udp-transport.js';
import { stampTopVia } from './via-stamp.js';
import { RefusedInputLog } from './input-log.js';
import { RateLimitedLog } from '../../log/rate-limited-log.js';
import { isCrlfOnly, mayReuseInbound } from './flow-rules.js';

export type { TlsFailureEvent } from './tls-failure-report.js';
import type { Flow, ListenerInfo, SendTarget, TransportProtocol, TransportSender, TransportUser } from './types.js';

/** One listener to open. Port 0 picks a free port; `listeners()` reports the real one after `start()`. */
export interface ListenerSpec {
  id: string;
  protocol: TransportProtocol;
  host: string;
  port: number;
  /** TLS listeners: Node `tls` server options (key/cert, or `secureContext`, optional `SNICallback`, `requestCert`…). */
  tls?: TlsOptions;
  tenant?: string;
  tlsProfile?: string;
  /** TLS listeners: verdict on each inbound connection after the handshake (src/tls plugs in here). */
  checkInbound?: InboundTlsCheck;
  /** A tenant's own listener: when it cannot bind, the rest of the layer starts without it (logged LISTEN_SOCKET). */
  optional?: boolean;
}

/** A listener that could not be opened, and why (the OS error). */
export interface FailedListener {
  id: string;
  protocol: TransportProtocol;
  host: string;
  port: number;
  tenant?: string;
  error: string;
}

/** Told when a message is in hand and when it is parsed (the engine's per-stage timings). */
export interface MessageStages {
  received(): void;
  parsed(): void;
}

export interface TransportLayerOptions {
  listeners: ListenerSpec[];
  /** Marks each message in hand and parsed, for per-stage timings. */
  stages?: MessageStages;
  log?: Logger;
  clock?: Clock;
  /** Client options per TLS profile and SNI name (src/tls plugs in here); default: Node's verifying defaults. */
  tlsClientOptions?: TlsClientOptionsResolver;
  /** The tenant of an inbound TLS handshake on a listener without one of its own, from the SNI sent. */
  tenantForServername?: (servername: string) => string | undefined;
  /** Parser bounds; `maxHeaderBytes` also bounds a stream's header block (default 32,768). */
  limits?: Partial<ParseLimits> & { maxHeaderBytes?: number };
  /** Close a TCP/TLS connection that carried traffic after this long idle (default 3,600,000 ms). */
  idleTimeoutMs?: number;
  /** Close a TCP/TLS connection that never carried a message after this long (default 60,000 ms). */
  unusedTimeoutMs?: number;
  /** TCP keepalive probe delay for half-open detection (default 30,000 ms). */
  keepAliveMs?: number;
  /** Bound on TCP connect plus TLS handshake (default 10,000 ms). */
  connectTimeoutMs?: number;
  /** Kernel UDP receive/send buffer size asked for (default 16 MiB). */
  udpBufferBytes?: number;
  /** A message on a stream must be complete this long after its first byte (default 10,000 ms). */
  messageTimeoutMs?: number;
  /** Inbound TCP/TLS connections open at once, in total and per source (defaults in connection-gate.ts). */
  connections?: Partial<ConnectionLimits>;
  /** The process's open-files limit the connection limits must fit in (default: read from /proc at construction). */
  openFilesLimit?: number;
}

/** A message or stream the transport refused, as reported on the 'drop' event. */
export interface TransportDrop {
  code: string;
  reason: string;
  flow: Flow;
}

export type TransportLayerEvents = {
  connectionOpen: [ConnectionInfo];
  connectionClose: [ConnectionInfo, string];
  /** An RFC 5626 ping arrived on this flow and was answered. */
  ping: [Flow];
  drop: [TransportDrop];
  /** A 400 was sent for a request that could not be parsed (code of the parse or frame error). */
  badRequest: [TransportDrop];
  /** A TLS handshake failed or an inbound peer was refused after it, classified (counted in `tlsStats()`). */
  tlsFailure: [TlsFailureEvent];
  /**
   * An outbound TLS connection that had already carried requests was refused by the server before any answer
   * (a TLS 1.3 server rejects our client certificate after our side of the handshake is done): the requests sent
   * on it failed. The error is ERR_SIP_TRANSPORT_TLS_HANDSHAKE with the classified failure in its details.
   */
  flowFailed: [connectionId: string, error: GatewayError];
};


/**
 * Counters since start. `dropped` counts input refused without an answer, `badRequestsSent` input answered
 * with 400; `drops` counts both (and refused TLS connections) by stable code.
 */
export interface TransportStats {
  datagramsIn: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** CRLF-only datagrams and RFC 5626 pings. */
  keepalivesIn: number;
  pongsOut: number;
  badRequestsSent: number;
  dropped: number;
  drops: Record<string, number>;
  connectionsOpened: number;
  connectionsClosed: number;
  connectionsOpen: number;
  /** Inbound TCP/TLS sockets held, handshakes in progress included (what the connection limits count). */
  inboundSockets: number;
  /** Inbound TLS handshakes in progress. */
  tlsHandshakes: number;
  connectFailures: number;
  sendFailures: number;
  tlsHandshakeFailures: number;
  userErrors: number;
}

type Counters = Omit<TransportStats, 'drops' | 'connectionsOpen' | 'inboundSockets' | 'tlsHandshakes'>;

/**
 * The SIP transport layer (RFC 3261 §18): UDP, TCP and TLS listeners, outbound connections with reuse, and
 * the receive rules of §18.2.1 and RFC 3581. Hostile input is counted, logged and dropped or answered with
 * 400; it never throws.
 */
export class TransportLayer extends TypedEmitter<TransportLayerEvents> implements TransportSender {
  readonly #o: TransportLayerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #refusedLog: RefusedInputLog;
  /** TLS failure lines: per code and per source address, with a summary of what was left out. */
  readonly #tlsFailureLog: RateLimitedLog;
  readonly #limits: ParseLimits;
  /** What the parser is given: undefined when the defaults apply, so the hot path allocates nothing for it. */
  readonly #parseLimits: ParseLimits | undefined;
  readonly #stages: MessageStages | undefined;
  readonly #table = new ConnectionTable<StreamConnection>();
  readonly #udp: UdpTransport[] = [];
  readonly #udpById = new Map<string, UdpTransport>();
  readonly #streams: StreamTransport[] = [];
  readonly #connecting = new Map<string, Promise<StreamConnection>>();
  readonly #c: Counters = {
    datagramsIn: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, keepalivesIn: 0, pongsOut: 0,
    badRequestsSent: 0, dropped: 0, connectionsOpened: 0, connectionsClosed: 0, connectFailures: 0,
    sendFailures: 0, tlsHandshakeFailures: 0, userErrors: 0,
  };
  readonly #drops = new Map<string, number>();
  readonly #gate: ConnectionGate;
  readonly #failed: FailedListener[] = [];
  readonly #tlsStats = new TlsStats();
  #user: TransportUser | undefined;
  #listeners: ListenerInfo[] = [];
  #state: 'new' | 'starting' | 'started' | 'closed' = 'new';
  #closing: Promise<void> | undefined;

  constructor(options: TransportLayerOptions) {
    super();
    this.#o = options;
    this.#log = options.log ?? silentLogger();
    this.#clock = options.clock ?? systemClock;
    this.#refusedLog = new RefusedInputLog(this.#log, this.#clock);
    this.#tlsFailureLog = new RateLimitedLog(this.#log, this.#clock, { summaries: true });
    const configured = { ...DEFAULT_CONNECTION_LIMITS, ...options.connections };
    const fit = fitConnectionLimits(configured, options.openFilesLimit ?? readOpenFilesLimit());
    if (fit.lowered) {
      this.#log.warn({ code: 'ERR_SIP_TRANSPORT_FD_RESERVE', configured: configured.maxConnections, maxConnections: fit.limits.maxConnections },
        `the open-files limit leaves room for ${fit.limits.maxConnections} inbound connections, not the ${configured.maxConnections} configured; `
        + 'the rest of the descriptors are kept for the admin API and the calls in progress (raise it with ulimit -n or LimitNOFILE)');
    }
    this.#gate = new ConnectionGate(fit.limits, (code, socket) => {
      this.#count(code);
      const remote = `${socket.remoteAddress ?? '-'}:${socket.remotePort ?? '-'}`;
      const what = REFUSAL_TEXT[code];
      this.#refusedLog.refused(code, what, remote, 'tcp', `connection refused at accept: ${what}`);
    });
    const l = options.limits;
    this.#stages = options.stages;
    this.#parseLimits = l && (l.maxMessageBytes !== undefined || l.maxHeaders !== undefined || l.maxLineBytes !== undefined)
      ? { maxMessageBytes: l.maxMessageBytes ?? 65_535, maxHeaders: l.maxHeaders ?? 256, maxLineBytes: l.maxLineBytes ?? 8_192 }
      : undefined;
    this.#limits = {
      maxMessageBytes: options.limits?.maxMessageBytes ?? 65_535,
      maxHeaders: options.limits?.maxHeaders ?? 256,
      maxLineBytes: options.limits?.maxLineBytes ?? 8_192,
    };
    const ids = new Set<string>();
    for (const l of options.listeners) {
      if (ids.has(l.id)) throw new GatewayError('ERR_SIP_TRANSPORT_BIND', `duplicate listener id '${l.id}'`);
      ids.add(l.id);
      if (l.protocol === 'tls' && !l.tls) throw new GatewayError('ERR_SIP_TRANSPORT_TLS_CONFIG', `tls listener '${l.id}' has no tls options`);
    }
  }

  /** The layer above; messages that arrive before a user is set are dropped and counted. */
  setUser(user: TransportUser): void {
    this.#user = user;
  }

  /** Opens every listener. On any failure, closes those already open and rejects with ERR_SIP_TRANSPORT_BIND. */
  async start(): Promise<ListenerInfo[]> {
    if (this.#state !== 'new') throw new GatewayError('ERR_SIP_TRANSPORT_STATE', `transport layer is ${this.#state}`);
    this.#state = 'starting';
    const o = this.#o;
    const streamUser = this.#streamUser();
    const udpUser: UdpTransportUser = { onDatagram: (d, r, u) => this.#onDatagram(d, r, u) };
    try {
      for (const spec of o.listeners) {
        if (spec.protocol === 'udp') {
          const u = new UdpTransport({
            id: spec.id, host: spec.host, port: spec.port, user: udpUser, log: this.#log,
            ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
            ...(spec.tlsProfile !== undefined ? { tlsProfile: spec.tlsProfile } : {}),
            ...(o.udpBufferBytes !== undefined ? { bufferBytes: o.udpBufferBytes } : {}),
          });
          const info = await this.#bind(spec, u);
          if (!info) continue;
          this.#udp.push(u);
          this.#udpById.set(spec.id, u);
          this.#listeners.push(info);
        } else {
          const so: StreamTransportOptions = {
            id: spec.id, host: spec.host, port: spec.port, user: streamUser, clock: this.#clock, log: this.#log,
            connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
            idleTimeoutMs: o.idleTimeoutMs ?? 3_600_000,
            unusedTimeoutMs: o.unusedTimeoutMs ?? 60_000,
            keepAliveMs: o.keepAliveMs ?? 30_000,
            ...(o.messageTimeoutMs !== undefined ? { messageTimeoutMs: o.messageTimeoutMs } : {}),
            admit: (socket) => this.#gate.admit(socket, spec.protocol === 'tls'),
            handshakeDone: (socket) => this.#gate.handshakeDone(socket),
            framer: { maxMessageBytes: this.#limits.maxMessageBytes, maxHeaderBytes: o.limits?.maxHeaderBytes ?? 32_768 },
            nextId: () => this.#table.nextId(spec.protocol === 'tls' ? 'tls' : 'tcp'),
            ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
            ...(spec.tlsProfile !== undefined ? { tlsProfile: spec.tlsProfile } : {}),
          };
          const t =
            spec.protocol === 'tcp'
              ? new TcpTransport(so)
              : new TlsTransport({
                ...so,
                tls: spec.tls!,
                clientOptions: o.tlsClientOptions ?? defaultTlsClientOptions,
                ...(spec.checkInbound ? { checkInbound: spec.checkInbound } : {}),
              });
          const info = await this.#bind(spec, t);
          if (!info) continue;
          this.#streams.push(t);
          this.#listeners.push(info);
        }
      }
    } catch (e) {
      await this.#closeAll();
      this.#state = 'closed';
      throw e;
    }
    if ((this.#state as string) === 'closed') {
      // close() was called while the listeners were opening.
      await this.#closeAll();
      throw new GatewayError('ERR_SIP_TRANSPORT_STATE', 'transport layer closed while starting');
    }
    this.#state = 'started';
    for (const l of this.#listeners) this.#log.info({ listener: l.id, protocol: l.protocol, address: l.address, port: l.port }, 'sip listener open');
    return this.listeners();
  }

  listeners(): ListenerInfo[] {
    return this.#listeners.map((l) => ({ ...l }));
  }

  /** Tenant listeners that could not be opened at start: the gateway runs without them (CUBE's LISTEN_SOCKET). */
  failedListeners(): FailedListener[] {
    return this.#failed.map((f) => ({ ...f }));
  }

  /**
   * Binds one listener. A tenant's own listener that cannot bind is logged as CUBE's LISTEN_SOCKET, code ERR_SIP_TRANSPORT_BIND (tenant, address,
   * port, transport and the OS error) and left out, so the other trunks keep serving; any other listener's failure
   * stops the start.
   */
  async #bind(spec: ListenerSpec, t: { listen(): Promise<ListenerInfo>; close(): Promise<void> }): Promise<ListenerInfo | undefined> {
    try {
      return await t.listen();
    } catch (e) {
      if (!spec.optional) throw e;
      await t.close().catch(() => undefined);
      const os = (e as { cause?: { message?: string } }).cause?.message ?? (e instanceof Error ? e.message : String(e));
      const f: FailedListener = { id: spec.id, protocol: spec.protocol, host: spec.host, port: spec.port, error: os, ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}) };
      this.#failed.push(f);
      this.#log.error({ code: 'ERR_SIP_TRANSPORT_BIND', listener: spec.id, tenant: spec.tenant ?? '-', address: spec.host, port: spec.port, transport: spec.protocol, err: os },
        `%SIP-3-LISTEN_SOCKET: tenant ${spec.tenant ?? '-'} cannot listen on ${spec.protocol} ${spec.host}:${spec.port} (${os}); the other listeners run without it`);
      return undefined;
    }
  }

  /** The TCP/TLS connection table, for the admin API. */
  connections(): ConnectionInfo[] {
    return this.#table.list();
  }

  /** Closes one TCP/TLS connection (admin API, tests); false when no such connection is open. */
  closeConnection(id: string, reason = 'closed by request'): boolean {
    const c = this.#table.get(id);
    if (!c || !c.isOpen) return false;
    c.destroy(reason);
    return true;
  }

  /** TLS handshake failures per tenant, direction and reason (CUBE's client/server handshake failure counts). */
  tlsStats(): TlsStats {
    return this.#tlsStats;
  }

  /**
   * Replaces the default context of a TLS listener (hot reload), and whether it asks for a client certificate:
   * new handshakes use them, live connections keep theirs. Throws ERR_SIP_TRANSPORT_TLS_CONFIG when the listener
   * is unknown or the options are unusable.
   */
  setListenerSecureContext(listenerId: string, options: SecureContextOptions, listener: { requestCert?: boolean } = {}): void {
    const t = this.#streams.find((x) => x.id === listenerId);
    if (!t || !(t instanceof TlsTransport)) throw transportError('ERR_SIP_TRANSPORT_TLS_CONFIG', `no tls listener '${listenerId}'`);
    try {
      t.setSecureContext(options, listener.requestCert);
    } catch (e) {
      throw transportError('ERR_SIP_TRANSPORT_TLS_CONFIG', `tls listener '${listenerId}': ${(e as Error).message}`, { cause: e });
    }
  }

  stats(): TransportStats {
    return { ...this.#c, drops: Object.fromEntries(this.#drops), connectionsOpen: this.#table.size, inboundSockets: this.#gate.open, tlsHandshakes: this.#gate.handshakes };
  }

  /**
   * Sends one message. UDP: from the listener the flow came in on, else the first of the target's family.
   * TCP/TLS: the target's connection if still open, else a connection reused by key or flow, else a new one.
   * Rejects with a GatewayError (ERR_SIP_TRANSPORT_*), never throws.
   */
  send(data: Buffer, target: SendTarget): Promise<Flow> {
    if (this.#state !== 'started') {
      return Promise.reject(transportError('ERR_SIP_TRANSPORT_STATE', `transport layer is ${this.#state}`));
    }
    const family = addressFamily(target.address);
    if (family === 0) {
      return Promise.reject(transportError('ERR_SIP_TRANSPORT_ADDRESS', `'${target.address}' is not an IP address`, { details: { address: target.address } }));
    }
    if (target.protocol === 'udp') {
      let u = target.listenerId !== undefined ? this.#udpById.get(target.listenerId) : undefined;
      if (!u || u.family !== family) u = this.#udp.find((x) => x.family === family);
      if (!u) return Promise.reject(this.#noListener(target));
      this.#c.messagesOut++;
      this.#c.bytesOut += data.length;
      return u.send(data, normalizeAddress(target.address), target.port).catch((e: unknown) => {
        this.#c.sendFailures++;
        throw e;
      });
    }
    return this.#sendStream(data, target, family);
  }

  async #sendStream(data: Buffer, target: SendTarget, family: 4 | 6): Promise<Flow> {
    let conn: StreamConnection;
    try {
      conn = await this.#connectionFor(target, family);
    } catch (e) {
      this.#c.connectFailures++;
      if (e instanceof GatewayError && e.code === 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE' && e.details && e.details['tlsFailure'] === undefined) {
        // Classified, counted and logged once for every request that was waiting on this connection.
        const d = e.details;
        const ev = this.#tlsFailure('client', e.cause ?? e, {
          ...(typeof d['tenant'] === 'string' ? { tenant: d['tenant'] } : {}),
          ...(typeof d['tlsProfile'] === 'string' ? { profile: d['tlsProfile'] } : {}),
          ...(typeof d['servername'] === 'string' ? { servername: d['servername'] } : {}),
          remoteAddress: String(d['address']), remotePort: Number(d['port']),
        });
        d['tlsFailure'] = ev.failure;
        d['cubeText'] = ev.cubeText;
        if (ev.sipxText !== undefined) d['sipxText'] = ev.sipxText;
      }
      throw e;
    }
    try {
      await conn.write(data);
    } catch (e) {
      this.#c.sendFailures++;
      throw e;
    }
    this.#c.messagesOut++;
    this.#c.bytesOut += data.length;
    return conn.flow;
  }

  /**
   * "If the connection used to send the request is still open, the response MUST be sent over it; otherwise
   * the server SHOULD open a connection to the IP address in the received parameter" — the caller puts that
   * address in the target; a vanished connectionId falls through to reuse and connect.
   * https://www.rfc-editor.org/rfc/rfc3261#section-18.2.2
   */
  #connectionFor(target: SendTarget, family: 4 | 6): Promise<StreamConnection> | StreamConnection {
    const protocol = target.protocol as 'tcp' | 'tls';
    if (target.connectionId !== undefined) {
      const c = this.#table.get(target.connectionId);
      if (c && c.isOpen && c.info.protocol === protocol) return c;
    }
    const address = normalizeAddress(target.address);
    const key = outboundKey(protocol, address, target.port, target.tlsProfile, target.servername);
    const reused = this.#table.byKey(key);
    if (reused) return reused;
    for (const c of this.#table.inbound(protocol, address, target.port)) if (mayReuseInbound(c, target)) return c;
    const pending = this.#connecting.get(key);
    if (pending) return pending;
    const t = this.#pickStream(protocol, family, target);
    if (!t) return Promise.reject(this.#noListener(target));
    const p = t.connect(target, key).finally(() => this.#connecting.delete(key));
    this.#connecting.set(key, p);
    return p;
  }

  #pickStream(protocol: 'tcp' | 'tls', family: 4 | 6, target: SendTarget): StreamTransport | undefined {
    let best: StreamTransport | undefined;
    for (const t of this.#streams) {
      if (t.protocol !== protocol || t.family !== family) continue;
      if (t.id === target.listenerId) return t;
      if (!best || (target.tlsProfile !== undefined && t.info.tlsProfile === target.tlsProfile && best.info.tlsProfile !== target.tlsProfile)) best = t;
    }
    return best;
  }

  #noListener(target: SendTarget): GatewayError {
    return transportError('ERR_SIP_TRANSPORT_NO_LISTENER', `no ${target.protocol} listener for ${target.address}`, {
      details: { protocol: target.protocol, address: target.address },
    });
  }

  /** Closes every listener and connection. Idempotent; later sends reject with ERR_SIP_TRANSPORT_STATE. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#state = 'closed';
      this.#closing = this.#closeAll();
    }
    return this.#closing;
  }

  async #closeAll(): Promise<void> {
    await Promise.all([...this.#udp.map((u) => u.close()), ...this.#streams.map((s) => s.close())]);
  }

  // ---- receive path ------------------------------------------------------------------------------------

  #onDatagram(data: Buffer, rinfo: RemoteInfo, udp: UdpTransport): void {
    this.#c.datagramsIn++;
    this.#c.bytesIn += data.length;
    if (isCrlfOnly(data)) {
      // RFC 5626 §4.4.1 keepalives over UDP use STUN; a bare CRLF datagram is the common legacy keepalive.
      this.#c.keepalivesIn++;
      return;
    }
    const flow = udp.flowFor(rinfo);
    try {
      this.#stages?.received();
      const parsed = parseMessage(data, this.#parseLimits);
      this.#stages?.parsed();
      this.#receive(parsed, data, flow, undefined);
    } catch (e) {
      this.#internalError(e, flow);
    }
  }

  #receive(r: ParseResult, raw: Buffer, flow: Flow, conn: StreamConnection | undefined): void {
    if (r.ok) {
      const m = r.message;
      if (m.kind === 'request' && !stampTopVia(m.headers, flow.remoteAddress, flow.remotePort)) {
        this.#drop('ERR_SIP_TRANSPORT_NO_VIA', 'request without a usable top Via', flow);
        return;
      }
      const user = this.#user;
      if (!user) {
        this.#drop('ERR_SIP_TRANSPORT_NO_USER', 'no transport user', flow);
        return;
      }
      this.#c.messagesIn++;
      try {
        user.onMessage(m, raw, flow);
      } catch (e) {
        this.#c.userErrors++;
        this.#log.error({ err: e, code: 'ERR_SIP_TRANSPORT_USER' }, 'transport user threw');
      }
      return;
    }
    // "If a request is received that cannot be processed ... 400 (Bad Request)" — only when it can be addressed,
    // and never for an ACK, which gets no response.
    // https://www.rfc-editor.org/rfc/rfc3261#section-21.4.1
    if (r.partial && r.partial.method !== 'ACK') this.#answer400(r.partial, r.code, r.reason, flow, conn, false);
    else this.#drop(r.code, r.reason, flow);
  }

  #answer400(req: SipRequest, code: string, reason: string, flow: Flow, conn: StreamConnection | undefined, thenClose: boolean): void {
    stampTopVia(req.headers, flow.remoteAddress, flow.remotePort);
    const data = buildBadRequest(req, code, randomBytes(6).toString('hex'));
    this.#c.badRequestsSent++;
    this.#count(code);
    this.#refusedLog.refused(code, reason, `${flow.remoteAddress}:${flow.remotePort}`, flow.protocol, `sent 400 ${badRequestPhrase(code)}: ${reason}`);
    this.safeEmit('badRequest', { code, reason, flow });
    let sent: Promise<unknown>;
    if (conn) {
      sent = conn.write(data);
    } else {
      const u = flow.listenerId !== undefined ? this.#udpById.get(flow.listenerId) : undefined;
      sent = u ? u.send(data, flow.remoteAddress, flow.remotePort) : Promise.resolve();
    }
    this.#c.messagesOut++;
    this.#c.bytesOut += data.length;
    sent.then(
      () => {
        if (thenClose) conn?.close(code);
      },
      () => {
        this.#c.sendFailures++;
        conn?.destroy(code);
      },
    );
  }

  #drop(code: string, reason: string, flow: Flow): void {
    this.#c.dropped++;
    this.#count(code);
    this.#refusedLog.refused(code, reason, `${flow.remoteAddress}:${flow.remotePort}`, flow.protocol, `sip message dropped: ${reason}`);
    if (this.listenerCount('drop') > 0) this.safeEmit('drop', { code, reason, flow });
  }

  #count(code: string): void {
    this.#drops.set(code, (this.#drops.get(code) ?? 0) + 1);
  }

  #internalError(e: unknown, flow: Flow): void {
    this.#log.error({ err: e, code: 'ERR_SIP_TRANSPORT_INTERNAL' }, 'receive path failed');
    this.#drop('ERR_SIP_TRANSPORT_INTERNAL', 'receive path failed', flow);
  }

  #streamUser(): StreamTransportUser {
    return {
      onOpen: (conn) => {
        this.#table.add(conn);
        this.#c.connectionsOpened++;
        // An open TLS connection is a handshake that succeeded and passed the profile's checks.
        if (conn.info.protocol === 'tls') this.#tlsStats.recordSuccess(conn.info.tenant, conn.info.direction === 'inbound' ? 'server' : 'client');
        // Per connection: nothing is built for a log level that is off or an event nobody listens to.
        if (this.#log.isLevelEnabled('debug')) {
          this.#log.debug({ connection: conn.info.id, remote: `${conn.info.remoteAddress}:${conn.info.remotePort}`, direction: conn.info.direction }, 'connection open');
        }
        if (this.listenerCount('connectionOpen') > 0) this.safeEmit('connectionOpen', { ...conn.info });
      },
      onClose: (conn, reason) => {
        this.#table.remove(conn);
        this.#c.connectionsClosed++;
        if (this.#log.isLevelEnabled('debug')) this.#log.debug({ connection: conn.info.id, reason }, 'connection closed');
        if (conn.error && conn.info.direction === 'outbound' && conn.info.protocol === 'tls' && conn.info.bytesIn === 0) this.#lateTlsFailure(conn, conn.error);
        if (this.listenerCount('connectionClose') > 0) this.safeEmit('connectionClose', { ...conn.info }, reason);
      },
      onFrame: (conn, message) => {
        this.#c.bytesIn += message.length;
        try {
          this.#stages?.received();
          const parsed = parseMessage(message, this.#parseLimits);
          this.#stages?.parsed();
          this.#receive(parsed, message, conn.flow, conn);
        } catch (e) {
          this.#internalError(e, conn.flow);
        }
      },
      onPing: (conn) => {
        this.#c.keepalivesIn++;
        this.#c.pongsOut++;
        conn.pong();
        this.safeEmit('ping', conn.flow);
      },
      onFrameError: (conn, e) => this.#onFrameError(conn, e),
      onHandshakeError: (t, e, remote, servername, remotePort) => {
        // A refusal by the inbound check carries its own code; a failed handshake is counted under one code.
        const code = e instanceof GatewayError ? e.code : 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE';
        this.#c.tlsHandshakeFailures++;
        this.#count(code);
        const d = e instanceof GatewayError ? e.details : undefined;
        const listener = this.#listeners.find((l) => l.id === t.id);
        const tenant = (typeof d?.['tenant'] === 'string' ? d['tenant'] : undefined) ?? listener?.tenant
          ?? (servername !== undefined ? this.#o.tenantForServername?.(servername.toLowerCase()) : undefined);
        const profile = (typeof d?.['profile'] === 'string' ? d['profile'] : undefined) ?? listener?.tlsProfile;
        const failure = d?.['tlsFailure'] as TlsFailure | undefined;
        this.#tlsFailure('server', failure ?? e, {
          listenerId: t.id,
          ...(tenant !== undefined ? { tenant } : {}),
          ...(profile !== undefined ? { profile } : {}),
          ...(remote !== undefined ? { remoteAddress: normalizeAddress(remote) } : {}),
          ...(remotePort !== undefined ? { remotePort } : {}),
          ...(servername !== undefined ? { servername } : {}),
          ...(listener ? { localAddress: listener.address, localPort: listener.port } : {}),
        }, failure);
      },
    };
  }

  /**
   * In TLS 1.3 the client's handshake is done before the server has checked the client's certificate, so a
   * refusal (an alert such as unknown_ca or certificate_required) arrives on a connection we already use. Before
   * any byte came back it is the handshake's failure: classified, counted and logged like one, and reported for
   * the requests sent on the connection. Other errors (a reset) stay plain closes.
   */
  #lateTlsFailure(conn: StreamConnection, err: Error): void {
    const failure = classifyTlsFailure(err);
    if (failure.reason === 'other') return;
    const i = conn.info;
    const ev = this.#tlsFailure('client', err, {
      ...(i.tenant !== undefined ? { tenant: i.tenant } : {}),
      ...(i.tlsProfile !== undefined ? { profile: i.tlsProfile } : {}),
      ...(i.servername !== undefined ? { servername: i.servername } : {}),
      remoteAddress: i.remoteAddress, remotePort: i.remotePort,
    }, failure);
    this.safeEmit('flowFailed', i.id, refusedByServer(i, err, ev));
  }

  /** Classifies, counts (per tenant and direction) and logs one TLS failure, once, in CUBE's words. */
  #tlsFailure(direction: TlsDirection, err: unknown, ctx: TlsFailureContext, classified?: TlsFailure): TlsFailureEvent {
    const ev = reportTlsFailure(this.#tlsStats, this.#tlsFailureLog, direction, err, ctx, classified);
    this.safeEmit('tlsFailure', ev);
    return ev;
  }

  /** A stream that cannot be framed: answer 400 when the request can be addressed, then close. */
  #onFrameError(conn: StreamConnection, e: FrameError): void {
    let req: SipRequest | undefined;
    if (e.requestLine && e.headerBlock) {
      try {
        const r = parseMessage(e.headerBlock, this.#parseLimits);
        req = r.ok ? (r.message.kind === 'request' ? r.message : undefined) : r.partial;
      } catch {
        req = undefined;
      }
    }
    if (req && req.method !== 'ACK') {
      this.#answer400(req, e.code, e.reason, conn.flow, conn, true);
    } else {
      this.#drop(e.code, e.reason, conn.flow);
      // Messages framed before the bad bytes are being handled; their answers still get out before the close.
      conn.closeAfterGrace(e.code, STREAM_ERROR_GRACE_MS);
    }
  }
}

/** How long a stream that sent unframeable bytes stays open for answers to the messages before them. */
const STREAM_ERROR_GRACE_MS = 2_000;

/** The log line's words for each connection refused at accept. */
const REFUSAL_TEXT: Record<ConnectionLimitCode, string> = {
  ERR_SIP_TRANSPORT_CONN_LIMIT: 'too many connections open',
  ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT: 'too many connections from this source',
  ERR_SIP_TRANSPORT_HANDSHAKE_LIMIT: 'too many TLS handshakes in progress',
  ERR_SIP_TRANSPORT_HANDSHAKE_SOURCE_LIMIT: 'too many TLS handshakes in progress from this source',
};
