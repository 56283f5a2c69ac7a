/** Stable codes of the drachtio control-protocol side of the engine (docs/conventions.md, Error codes). */
export type ControlErrorCode =
  /** A frame's length prefix is not 1–7 decimal digits followed by `#`. */
  | 'ERR_ENGINE_FRAME_BAD_LENGTH'
  /** A frame announces more bytes than the connection's maximum. */
  | 'ERR_ENGINE_FRAME_TOO_LARGE'
  /** A payload lacks `msgId|type`. */
  | 'ERR_ENGINE_MESSAGE_MALFORMED'
  /** A message type the engine does not serve. */
  | 'ERR_ENGINE_MESSAGE_UNKNOWN'
  /** A message other than `authenticate` before authentication. */
  | 'ERR_ENGINE_NOT_AUTHENTICATED'
  /** `authenticate` with a wrong secret. */
  | 'ERR_ENGINE_AUTH_FAILED'
  /** No `authenticate` within the allowed time. */
  | 'ERR_ENGINE_AUTH_TIMEOUT'
  /** The SIP core threw while handling an app command. */
  | 'ERR_ENGINE_CORE_FAILED'
  /** The control listener could not bind. */
  | 'ERR_ENGINE_LISTEN'
  /** The bound control listener reported an error (accept failed: out of file descriptors...); counted. */
  | 'ERR_ENGINE_CONTROL_LISTENER'
  /** A control connection's socket failed (reset, broken pipe...): the connection closes; counted. */
  | 'ERR_ENGINE_CONTROL_SOCKET'
  /** An outbound control connection could not be made. */
  | 'ERR_ENGINE_DIAL';
