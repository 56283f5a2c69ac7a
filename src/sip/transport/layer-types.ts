import type { TlsOptions } from 'node:tls';
import type { Clock } from '../../common/clock.js';
import type { GatewayError } from '../../common/gateway-error.js';
import type { Logger } from '../../log/logger.js';
import type { ParseLimits } from '../message/types.js';
import type { ConnectionLimits } from './connection-gate.js';
import type { ConnectionInfo } from './connection-table.js';
import type { InboundTlsCheck, TlsClientOptionsResolver } from './tls-transport.js';
import type { TlsFailureEvent } from './tls-failure-report.js';
import type { BadRequestReport, Flow, ListenerInfo, TransportProtocol } from './types.js';

// What the transport layer (transport-layer.ts) is given and what it reports: its options, events and counters.

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

/** What trying the failed listeners again came to: those open now, and those that still cannot bind (new OS error). */
export interface ListenerRetry {
  bound: ListenerInfo[];
  stillFailed: FailedListener[];
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
  /** 400s a second one source may be sent for unparsable requests, burst twice that (default 5). */
  badRequestsPerSecond?: number;
  /** Close a used TCP/TLS connection (markUsed, a request of ours sent on it, or outbound) after this long idle (default 3,600,000 ms). */
  idleTimeoutMs?: number;
  /** Close a TCP/TLS connection never used this long after it opened, whatever it carried (default 60,000 ms). */
  unusedTimeoutMs?: number;
  /** TCP keepalive probe delay for half-open detection (default 30,000 ms). */
  keepAliveMs?: number;
  /** Bound on TCP connect plus TLS handshake (default 10,000 ms). */
  connectTimeoutMs?: number;
  /** Kernel UDP receive/send buffer size asked for (default 16 MiB). */
  udpBufferBytes?: number;
  /** A message on a stream must be complete this long after its first byte (default 10,000 ms). */
  messageTimeoutMs?: number;
  /** Bytes that may wait unread by a TCP/TLS peer before its connection is closed (default 1 MiB). */
  maxSendBufferBytes?: number;
  /** Inbound TCP/TLS connections open at once, in total and per source (defaults in connection-gate.ts). */
  connections?: Partial<ConnectionLimits>;
  /** Outbound TCP/TLS connections open or connecting at once, over every listener (default 1,024). */
  maxOutboundConnections?: number;
  /** Of those, open or connecting at once to one remote address (default 64; never more than maxOutboundConnections). */
  maxOutboundConnectionsPerAddress?: number;
  /** The open-files limit the inbound and outbound connection limits must fit in together (default: read from /proc). */
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
  /** A 400 was sent for a request that could not be parsed: the parse or frame error, and the request as far as it was read. */
  badRequest: [BadRequestReport];
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
  /** Outbound TCP/TLS sockets open or connecting (what maxOutboundConnections counts). */
  outboundSockets: number;
  /** The bound on outboundSockets: maxOutboundConnections as fitted to the open-files limit. */
  outboundSocketsMax: number;
  /** The bound on outbound sockets to one remote address: maxOutboundConnectionsPerAddress, at most outboundSocketsMax. */
  outboundSocketsPerAddressMax: number;
  /** Inbound TLS handshakes in progress. */
  tlsHandshakes: number;
  connectFailures: number;
  sendFailures: number;
  tlsHandshakeFailures: number;
  userErrors: number;
}
