import { GatewayError } from '../../common/gateway-error.js';

/** Stable codes of operational transport failures (docs/conventions.md, Error codes). */
export type TransportErrorCode =
  /** The connection or transport was closed before or while writing. */
  | 'ERR_SIP_TRANSPORT_CLOSED'
  /** An outbound TCP/TLS connection failed (refused, reset, TLS handshake failure). */
  | 'ERR_SIP_TRANSPORT_CONNECT'
  /** An outbound connection's TCP connect did not complete within the connect timeout. */
  | 'ERR_SIP_TRANSPORT_CONNECT_TIMEOUT'
  /** No listener can carry this target (protocol or address family not configured). */
  | 'ERR_SIP_TRANSPORT_NO_LISTENER'
  /** The target address is not an IP literal (name resolution belongs above the transport). */
  | 'ERR_SIP_TRANSPORT_ADDRESS'
  /** The kernel refused a write (datagram or stream). */
  | 'ERR_SIP_TRANSPORT_SEND'
  /** A listener could not bind. */
  | 'ERR_SIP_TRANSPORT_BIND'
  /** A TLS handshake with a peer failed (TCP was up): unknown CA, name mismatch, no shared cipher… */
  | 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE'
  /**
   * Node's code for a TLS handshake that did not finish in time: the cause an outbound handshake that stalls after
   * TCP is up gives its ERR_SIP_TRANSPORT_TLS_HANDSHAKE (stream-transport.ts).
   */
  | 'ERR_TLS_HANDSHAKE_TIMEOUT'
  /** A listener or client TLS configuration is unusable. */
  | 'ERR_SIP_TRANSPORT_TLS_CONFIG'
  /** The layer is not started, or is already closed. */
  | 'ERR_SIP_TRANSPORT_STATE'
  /** A peer did not read what was written to it: more than the send bound waited on its connection, which was closed. */
  | 'ERR_SIP_TRANSPORT_SEND_BUFFER_FULL'
  /** A new outbound TCP/TLS connection would pass the bound on those open or connecting: it was not opened. */
  | 'ERR_SIP_TRANSPORT_OUTBOUND_LIMIT'
  /** A new outbound TCP/TLS connection would pass the bound on those open or connecting to its remote address: it was not opened. */
  | 'ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT';

export type TransportError = GatewayError<TransportErrorCode>;

export function transportError(
  code: TransportErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): TransportError {
  return new GatewayError(code, message, options);
}

/** Why the layer dropped a received message itself (counted and logged, never thrown). */
export type TransportDropCode =
  /** A request whose top Via cannot be read: no response can be routed, so none is sent. */
  | 'ERR_SIP_TRANSPORT_NO_VIA'
  /** A message arrived before anything above the transport was attached to it. */
  | 'ERR_SIP_TRANSPORT_NO_USER'
  /** The layer above threw while taking a message: the message is dropped and counted, the layer stays up. */
  | 'ERR_SIP_TRANSPORT_USER'
  /** The receive path itself failed on a message: dropped and counted; the stack is logged at debug. */
  | 'ERR_SIP_TRANSPORT_INTERNAL'
  /** Accepting another connection would eat into the file descriptors kept for the rest of the gateway. */
  | 'ERR_SIP_TRANSPORT_FD_RESERVE'
  /** A listening socket reported an error once bound (an accept that failed, as when out of file descriptors). */
  | 'ERR_SIP_TRANSPORT_LISTENER'
  /** A request that cannot be parsed, from a source that had its 400s for now (5 a second, bursts of 10): dropped unanswered. */
  | 'ERR_SIP_TRANSPORT_BAD_REQUEST_RATE';

/** Why a received message or a byte stream was refused; counted and logged, never thrown. */
export type FrameErrorCode =
  /** A message on a stream has no Content-Length (mandatory there, RFC 3261 §18.3). */
  | 'ERR_SIP_FRAME_NO_CONTENT_LENGTH'
  /** Content-Length is not a decimal number, is repeated with different values, or exceeds the limit. */
  | 'ERR_SIP_FRAME_BAD_CONTENT_LENGTH'
  /** No end of headers within the header limit. */
  | 'ERR_SIP_FRAME_HEADER_TOO_LARGE'
  /** Headers plus body exceed the message limit. */
  | 'ERR_SIP_FRAME_TOO_LARGE';
