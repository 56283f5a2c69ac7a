import { GatewayError } from '../common/gateway-error.js';

/** Stable codes of the tls layer. Profile validation may also surface pki codes (ERR_PKI_*). */
export type TlsErrorCode =
  | 'ERR_TLS_CIPHER_UNKNOWN'
  | 'ERR_TLS_CIPHER_UNSUPPORTED'
  | 'ERR_TLS_VERSION_RANGE'
  | 'ERR_TLS_PROFILE_INVALID'
  | 'ERR_TLS_CRL_INVALID'
  | 'ERR_TLS_CONTEXT'
  | 'ERR_TLS_NAME_MISMATCH'
  | 'ERR_TLS_UNKNOWN_SNI'
  | 'ERR_TLS_NO_CLIENT_CERT'
  | 'ERR_TLS_PEER_UNTRUSTED'
  /** A connection negotiated a version or suite its profile (picked by SNI after the hello) does not allow. */
  | 'ERR_TLS_PROFILE_VERSION'
  | 'ERR_TLS_PROFILE_CIPHER'
  /**
   * A warning: a profile an SNI may pick on a shared listener allows versions or suites its default does not, or sets
   * an ecdhCurve or honorCipherOrder the default's context overrides.
   */
  | 'ERR_TLS_SNI_WIDENS'
  /** The peer's chain has more CAs above its certificate than the profile's maxChainDepth. */
  | 'ERR_TLS_CHAIN_DEPTH'
  /** An inbound connection resumed an earlier TLS session, so this handshake's profile checks never saw its peer. */
  | 'ERR_TLS_SESSION_RESUMED';

export function tlsError(
  code: TlsErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): GatewayError<TlsErrorCode> {
  return new GatewayError(code, message, options);
}
