import { GatewayError } from '../common/gateway-error.js';

/** Stable codes of the pki layer (docs/conventions.md, Error codes): callers branch on these, never on messages. */
export type PkiErrorCode =
  | 'ERR_PKI_KEY_INVALID'
  | 'ERR_PKI_CERT_INVALID'
  | 'ERR_PKI_CSR_INVALID'
  | 'ERR_PKI_CRL_INVALID'
  | 'ERR_PKI_KEY_MISMATCH'
  | 'ERR_PKI_CHAIN_INCOMPLETE'
  | 'ERR_PKI_SIGNATURE_INVALID'
  | 'ERR_PKI_CERT_EXPIRED'
  | 'ERR_PKI_CERT_NOT_YET_VALID'
  | 'ERR_PKI_NOT_CA'
  | 'ERR_PKI_UNSUPPORTED_KEY'
  /** A trustpoint's files cannot take an imported certificate as they are named (a chain that does not fit its chain files). */
  | 'ERR_PKI_TRUSTPOINT_FILES'
  /** A trusted CA to remove shares its file with other certificates (a bundle): nothing is removed, the file is named. */
  | 'ERR_PKI_TRUST_BUNDLE'
  /** An import whose result a TLS profile using the trustpoint could not load (a chain with nowhere to go): nothing written. */
  | 'ERR_PKI_IMPORT_UNUSABLE'
  | 'ERR_PKI_IO';

export function pkiError(
  code: PkiErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): GatewayError<PkiErrorCode> {
  return new GatewayError(code, message, options);
}
