import type { ConnectionGate } from './connection-gate.js';
import { acceptGate, connectionLimits, listenerErrorReport, parseLimits } from './input-limits.js';
import type { SecureContextOptions } from 'node:tls';
import { systemClock, type Clock } from '../../common/clock.js';
import { GatewayError } from '../../common/gateway-error.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { ParseLimits } from '../message/types.js';
import { ConnectionTable, type ConnectionInfo } from './connection-table.js';
import { transportError } from './errors.js';
import { RefusedInputLog } from './input-log.js';
import { outboundLimit, type OutboundLimit } from './outbound-limit.js';
import type { FailedListener, ListenerRetry, ListenerSpec, TransportLayerEvents, TransportLayerOptions, TransportStats } from './layer-types.js';
import { ReceivePath } from './receive-path.js';
import { BadRequestRate } from './bad-request-rate.js';
import type { StreamConnection } from './stream-connection.js';
import { StreamConnector } from './stream-connector.js';
import { SendPath, sendCounters, type SendCounters } from './send-path.js';
import type { StreamTransport, StreamTransportUser } from './stream-transport.js';
import { bindListener, checkListenerSpecs, retryFailed, streamListener, udpListener, type ListenerParts } from './listener-setup.js';
import { TlsFailures } from './tls-failures.js';
import { TlsTransport } from './tls-transport.js';
import type { TlsStats } from '../../tls/tls-stats.js';
import type { UdpTransport } from './udp-transport.js';
import type { Flow, ListenerInfo, SendTarget, TransportSender, TransportUser } from './types.js';

export type { TlsFailureEvent } from './tls-failure-report.js';
export type { FailedListener, ListenerRetry, ListenerSpec, MessageStages, TransportDrop, TransportLayerEvents, TransportLayerOptions, TransportStats } from './layer-types.js';

/**
 * The SIP transport layer (RFC 3261 §18): UDP, TCP and TLS listeners, outbound connections with reuse, and
 * the receive rules of §18.2.1 and RFC 3581. Hostile input is counted, logged and dropped or answered with
 * 400; it never throws.
 */
export class TransportLayer extends TypedEmitter<TransportLayerEvents> implements TransportSender {
  readonly #o: TransportLayerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #limits: ParseLimits;
  readonly #table = new ConnectionTable<StreamConnection>();
  readonly #udp: UdpTransport[] = [];
  readonly #udpById = new Map<string, UdpTransport>();
  readonly #streams: StreamTransport[] = [];
  readonly #connector = new StreamConnector(this.#table, this.#streams);
  readonly #rx: ReceivePath;
  readonly #tls: TlsFailures;
  readonly #c: SendCounters = sendCounters();
  readonly #tx: SendPath;
  readonly #gate: ConnectionGate;
  readonly #refusedLog: RefusedInputLog;
  readonly #outbound: OutboundLimit;
  readonly #failed: FailedListener[] = [];
  #listeners: ListenerInfo[] = [];
  #parts: ListenerParts | undefined;
  #retrying: Promise<ListenerRetry> | undefined;
  #state: 'new' | 'starting' | 'started' | 'closed' = 'new';
  #closing: Promise<void> | undefined;

  constructor(options: TransportLayerOptions) {
    super();
    this.#o = options;
    this.#log = options.log ?? silentLogger();
    this.#clock = options.clock ?? systemClock;
    const refusedLog = new RefusedInputLog(this.#log, this.#clock);
    this.#refusedLog = refusedLog;
    const fitted = connectionLimits(options, this.#log);
    this.#outbound = outboundLimit(fitted.maxOutbound, refusedLog, (code) => this.#rx.count(code), options.maxOutboundConnectionsPerAddress);
    const limits = parseLimits(options.limits);
    this.#rx = new ReceivePath({
      log: this.#log,
      refusedLog,
      parseLimits: limits.parser,
      stages: options.stages,
      badRequests: options.badRequestsPerSecond === undefined ? new BadRequestRate(this.#clock)
        : new BadRequestRate(this.#clock, options.badRequestsPerSecond, 2 * options.badRequestsPerSecond),
      udpListener: (id) => this.#udpById.get(id),
      emitBadRequest: (d) => this.safeEmit('badRequest', d),
      emitDrop: (d) => this.safeEmit('drop', d),
      wantsDrops: () => this.listenerCount('drop') > 0,
      emitPing: (flow) => this.safeEmit('ping', flow),
    });
    this.#tls = new TlsFailures({
      log: this.#log, clock: this.#clock, tenantForServername: options.tenantForServername,
      count: (code) => this.#rx.count(code),
      emit: (ev) => this.safeEmit('tlsFailure', ev),
    });
    this.#tx = new SendPath({ udp: this.#udp, udpById: this.#udpById, connector: this.#connector, tls: this.#tls, counters: this.#c });
    this.#gate = acceptGate(fitted.inbound, refusedLog, (code) => this.#rx.count(code));
    this.#limits = limits.resolved;
    checkListenerSpecs(options.listeners);
  }

  /** The layer above; messages that arrive before a user is set are dropped and counted. */
  setUser(user: TransportUser): void {
    this.#rx.setUser(user);
  }

  /** Opens every listener. On any failure, closes those already open and rejects with ERR_SIP_TRANSPORT_BIND. */
  async start(): Promise<ListenerInfo[]> {
    if (this.#state !== 'new') throw new GatewayError('ERR_SIP_TRANSPORT_STATE', `transport layer is ${this.#state}`);
    this.#state = 'starting';
    this.#parts = {
      options: this.#o, log: this.#log, clock: this.#clock, gate: this.#gate, table: this.#table, outbound: this.#outbound,
      maxMessageBytes: this.#limits.maxMessageBytes, listenerError: listenerErrorReport(this.#refusedLog, (code) => this.#rx.count(code)), udpUser: { onDatagram: (d, r, u) => this.#rx.onDatagram(d, r, u) }, streamUser: this.#streamUser(),
    };
    try {
      for (const spec of this.#o.listeners) await this.#open(spec);
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
   * Tries again the tenant listeners that could not bind at start, with their specs as then: one that binds serves as
   * if bound at start (id, tenant, TLS options, counters, gate); one that cannot stays failed with its new OS error.
   */
  retryFailedListeners(): Promise<ListenerRetry> {
    if (this.#state !== 'started') return Promise.resolve({ bound: [], stillFailed: this.failedListeners() });
    this.#retrying ??= retryFailed(this.#o.listeners, this.#failed, this.#log, (spec) => this.#open(spec)).finally(() => (this.#retrying = undefined));
    return this.#retrying;
  }

  /** Builds and binds one listener and adds it to the open ones; a tenant's own that cannot bind goes to `failed`. */
  async #open(spec: ListenerSpec): Promise<ListenerInfo | undefined> {
    const udp = spec.protocol === 'udp' ? udpListener(spec, this.#parts!) : undefined;
    const stream = udp ? undefined : streamListener(spec, this.#parts!);
    const info = await bindListener(spec, udp ?? stream!, this.#log, this.#failed);
    if (info && this.#closing) await (udp ?? stream!).close(); // bound after close() went over the open ones
    if (!info || this.#closing) return undefined;
    if (udp) {
      this.#udp.push(udp);
      this.#udpById.set(spec.id, udp);
    } else this.#streams.push(stream!);
    this.#listeners.push(info);
    return info;
  }

  /** The TCP/TLS connection table, for the admin API. */
  connections(): ConnectionInfo[] {
    return this.#table.list();
  }

  /** One TCP/TLS connection's record by id, as it is now (not a copy: read it in the turn it is asked for). */
  connectionInfo(id: string): Readonly<ConnectionInfo> | undefined {
    return this.#table.get(id)?.info;
  }

  /**
   * The layer above took a request from this flow's TCP/TLS connection (it passed the engine's source check): the
   * connection is kept until the idle timeout, no longer closed at the unused one. No-op for UDP.
   */
  markUsed(flow: Flow): void {
    if (flow.connectionId !== undefined) this.#table.get(flow.connectionId)?.markUsed();
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
    return this.#tls.stats;
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
    const r = this.#rx.counters();
    const c = this.#c;
    return {
      datagramsIn: r.datagramsIn, messagesIn: r.messagesIn, messagesOut: c.messagesOut + r.repliesOut, bytesIn: r.bytesIn,
      bytesOut: c.bytesOut + r.replyBytesOut, keepalivesIn: r.keepalivesIn, pongsOut: r.pongsOut, badRequestsSent: r.badRequestsSent,
      dropped: r.dropped, drops: this.#rx.drops(), connectionsOpened: c.connectionsOpened, connectionsClosed: c.connectionsClosed,
      connectionsOpen: this.#table.size, inboundSockets: this.#gate.open, outboundSockets: this.#outbound.open,
      outboundSocketsMax: this.#outbound.max, outboundSocketsPerAddressMax: this.#outbound.maxPerAddress, tlsHandshakes: this.#gate.handshakes,
      connectFailures: c.connectFailures, sendFailures: c.sendFailures + r.replyFailures,
      tlsHandshakeFailures: this.#tls.inboundFailures, userErrors: r.userErrors,
    };
  }

  /**
   * Sends one message (SendPath: the UDP socket or TCP/TLS connection it leaves by). Rejects with a GatewayError
   * (ERR_SIP_TRANSPORT_*), never throws.
   */
  send(data: Buffer, target: SendTarget): Promise<Flow> {
    if (this.#state !== 'started') {
      return Promise.reject(transportError('ERR_SIP_TRANSPORT_STATE', `transport layer is ${this.#state}`));
    }
    return this.#tx.send(data, target);
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

  /** What the stream listeners report: connections in the table, frames to the receive path, TLS outcomes. */
  #streamUser(): StreamTransportUser {
    return {
      onOpen: (conn) => {
        this.#table.add(conn);
        this.#c.connectionsOpened++;
        if (conn.info.protocol === 'tls') this.#tls.opened(conn);
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
        const refused = this.#tls.closedByRefusal(conn);
        if (refused) this.safeEmit('flowFailed', conn.info.id, refused);
        if (this.listenerCount('connectionClose') > 0) this.safeEmit('connectionClose', { ...conn.info }, reason);
      },
      onFrame: (conn, message) => this.#rx.onFrame(conn, message),
      onPing: (conn) => this.#rx.onPing(conn),
      onSendBufferFull: (conn, queued) => {
        const code = 'ERR_SIP_TRANSPORT_SEND_BUFFER_FULL';
        this.#rx.count(code);
        this.#refusedLog.refused(code, `${queued} bytes wait unread`, `${conn.info.remoteAddress}:${conn.info.remotePort}`, conn.info.protocol,
          'connection closed: the peer does not read what is sent to it');
      },
      onFrameError: (conn, e) => this.#rx.onFrameError(conn, e),
      onHandshakeError: (t, e, remote, servername, remotePort) => {
        this.#tls.inboundError(t.id, this.#listeners.find((l) => l.id === t.id), e, remote, servername, remotePort);
      },
    };
  }
}
