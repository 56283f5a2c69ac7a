import type { ParseErrorCode, SipMessage, SipRequest } from '../message/types.js';
import type { FrameErrorCode } from './errors.js';

/** Transport contract (RFC 3261 §18) shared by the transport layer and the layers above it. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls';

/** What the TLS layer verified about the far end of a TLS connection. */
export interface TlsPeerInfo {
  /** 'TLSv1.2' | 'TLSv1.3' */
  version: string;
  /** Negotiated suite: OpenSSL name for 1.2, IANA name for 1.3. */
  cipher: string;
  /** Key-exchange group or curve, when known. */
  group?: string;
  /** Whether the peer's chain verified against the profile's trust store. */
  authorized: boolean;
  /** The peer's identities, typed: 'sip:host', 'dns:host', 'ip:addr', 'cn:name'. */
  identities: string[];
  /** The TLS profile and tenant this connection belongs to. */
  profile?: string;
  tenant?: string;
  /** SNI the client sent (inbound) or that we sent (outbound). */
  servername?: string;
}

/** Where a message came from; sending a response back along it reuses the same connection. */
export interface Flow {
  protocol: TransportProtocol;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Id of the TCP/TLS connection (absent for UDP). */
  connectionId?: string;
  /** Id of the listener the message arrived on (or the one an outbound connection belongs to). */
  listenerId?: string;
  tls?: TlsPeerInfo;
  /** The tenant whose trusted sources admitted this request's source (set by the engine's trust check). */
  tenant?: string;
}

/** Why the transport answered a request 400 itself: the parser's code, or the stream framer's. */
export type BadRequestCode = ParseErrorCode | FrameErrorCode;

/** A request the transport could not use but could address, answered 400 by the transport itself ('badRequest'). */
export interface BadRequestReport {
  code: BadRequestCode;
  reason: string;
  flow: Flow;
  /**
   * The request as far as it was parsed: its Via, From, To, Call-ID and CSeq are there, but any header may be
   * repeated or garbage, and the Request-URI unusable.
   */
  request: SipRequest;
}

/** Where to send a message. */
export interface SendTarget {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /** Prefer this existing connection (responses go back on the request's connection, RFC 3261 §18.2.2). */
  connectionId?: string;
  /** UDP: send from this listener's socket (the one the request came in on) when its address family fits. */
  listenerId?: string;
  /** TLS only: profile to use for a new connection, and the SNI / name to check. */
  tlsProfile?: string;
  servername?: string;
  /** TLS only: the tenant a new connection is made for (connection table, counters, logs). */
  tenant?: string;
}

export interface ListenerInfo {
  id: string;
  protocol: TransportProtocol;
  address: string;
  port: number;
  tenant?: string;
  tlsProfile?: string;
}

/** The upward contract: what the transport hands to the layer above. */
export interface TransportUser {
  /** A message that parsed; `raw` is the exact bytes received. */
  onMessage(message: SipMessage, raw: Buffer, flow: Flow): void;
}

/** What the transaction layer and engine need from the transport. */
export interface TransportSender {
  /** Sends bytes; resolves with the flow actually used (a new connection may have been opened). */
  send(data: Buffer, target: SendTarget): Promise<Flow>;
  /** The listeners, to fill Via sent-by, Contact and drachtio's hostport list. */
  listeners(): ListenerInfo[];
}
