import { isGatewayError } from '../common/index.js';
import type { PkiErrorCode } from '../pki/index.js';

/**
 * Why a certificate task was refused, in terms a caller answers with: `trunkgate pki` prints the message (and the
 * code, when there is one) and exits 1; the admin API answers 4xx with the code.
 *
 * - `unknown-name`: a trustpoint or trust store the running configuration does not name (404)
 * - `bad-input`: a subject, SAN, key type or PEM text that does not parse (400)
 * - `missing`: what the task works on is not there: no CA yet, no CA of a trust store matching (404)
 * - `conflict`: the configuration does not allow the task: a trust store that is a file, not a folder (409)
 * - `refused`: the certificate itself is refused: another key, a broken chain, out of its dates (422)
 */
export type CertificateTaskRefusal = 'unknown-name' | 'bad-input' | 'missing' | 'conflict' | 'refused';

export class CertificateTaskError extends Error {
  readonly kind: CertificateTaskRefusal;
  /** The stable code of the check that refused (ERR_PKI_*); none for a name or an argument that is wrong. */
  readonly code: PkiErrorCode | undefined;

  constructor(kind: CertificateTaskRefusal, message: string, code?: PkiErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertificateTaskError';
    this.kind = kind;
    this.code = code;
  }
}

export function refuse(kind: CertificateTaskRefusal, message: string, code?: PkiErrorCode): never {
  throw new CertificateTaskError(kind, message, code);
}

/** PKI checks that say the input is not even a certificate or a key: the request is wrong, not the certificate. */
const UNREADABLE = new Set<string>(['ERR_PKI_CERT_INVALID', 'ERR_PKI_KEY_INVALID', 'ERR_PKI_CSR_INVALID']);

/**
 * Runs a PKI check and turns its refusal (an ERR_PKI_* error other than ERR_PKI_IO, which is the server's own
 * trouble) into a task refusal with the same code and message, `prefix` first when given.
 */
export function checked<T>(run: () => T, prefix = ''): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof CertificateTaskError || !isGatewayError(e) || !/^ERR_PKI_/.test(e.code) || e.code === 'ERR_PKI_IO') throw e;
    throw new CertificateTaskError(UNREADABLE.has(e.code) ? 'bad-input' : 'refused', `${prefix}${e.message}`, e.code as PkiErrorCode, { cause: e });
  }
}
