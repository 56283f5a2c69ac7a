import { printable } from '../common/printable.js';
import type { PeerIdentity } from './identity.js';

/** Stable reasons a TLS handshake or peer check failed (issue 3 item 7). */
export type TlsFailureReason =
  | 'unknown-ca'
  | 'expired'
  | 'not-yet-valid'
  | 'name-mismatch'
  | 'no-client-certificate'
  | 'protocol-version'
  | 'no-shared-cipher'
  | 'unknown-sni'
  | 'revoked'
  /** More CAs above the peer's certificate than the profile's maxChainDepth. */
  | 'chain-too-deep'
  | 'other';

export type TlsDirection = 'client' | 'server';

export interface TlsFailure {
  reason: TlsFailureReason;
  /** The original code (Node / OpenSSL / ours), for logs. */
  code: string;
  /** True when the far end told us (a TLS alert), false when we found it ourselves. */
  peerReported: boolean;
  detail: string;
  expected?: string[];
  presented?: PeerIdentity[];
}

/** Codes OpenSSL's verifier leaves in `err.code` / `socket.authorizationError`. */
const VERIFY_CODES: Record<string, TlsFailureReason> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown-ca',
  CERT_SIGNATURE_FAILURE: 'unknown-ca',
  CERT_UNTRUSTED: 'unknown-ca',
  INVALID_CA: 'unknown-ca',
  CERT_HAS_EXPIRED: 'expired',
  CRL_HAS_EXPIRED: 'revoked',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  CERT_REVOKED: 'revoked',
  UNABLE_TO_GET_CRL: 'revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'name-mismatch',
  ERR_TLS_NAME_MISMATCH: 'name-mismatch',
  ERR_TLS_NO_CLIENT_CERT: 'no-client-certificate',
  ERR_TLS_UNKNOWN_SNI: 'unknown-sni',
  ERR_TLS_PEER_UNTRUSTED: 'unknown-ca',
  ERR_TLS_PROFILE_VERSION: 'protocol-version',
  ERR_TLS_PROFILE_CIPHER: 'no-shared-cipher',
  ERR_TLS_CHAIN_DEPTH: 'chain-too-deep',
  CERT_CHAIN_TOO_LONG: 'chain-too-deep',
};

/** OpenSSL reason codes (Node: `ERR_SSL_<REASON>`), ours or the peer's alert. */
const SSL_CODES: [RegExp, TlsFailureReason, boolean][] = [
  [/^ERR_SSL_(TLSV1_ALERT_UNKNOWN_CA|SSLV3_ALERT_BAD_CERTIFICATE|TLSV1_ALERT_DECRYPT_ERROR)$/, 'unknown-ca', true],
  [/^ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED$/, 'expired', true],
  [/^ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED$/, 'revoked', true],
  [/^ERR_SSL_(TLSV13_ALERT_CERTIFICATE_REQUIRED)$/, 'no-client-certificate', true],
  [/^ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE$/, 'no-client-certificate', false],
  [/^ERR_SSL_(TLSV1_ALERT_PROTOCOL_VERSION)$/, 'protocol-version', true],
  [/^ERR_SSL_(UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|WRONG_VERSION_NUMBER|VERSION_TOO_LOW|VERSION_TOO_HIGH|TLSV1_ALERT_INAPPROPRIATE_FALLBACK)$/, 'protocol-version', false],
  [/^ERR_SSL_NO_SHARED_CIPHER$/, 'no-shared-cipher', false],
  [/^ERR_SSL_(NO_CIPHERS_AVAILABLE|NO_SUITABLE_SIGNATURE_ALGORITHM|NO_SHARED_SIGNATURE_ALGORITHMS)$/, 'no-shared-cipher', false],
  [/^ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE$/, 'no-shared-cipher', true],
  [/^ERR_SSL_(TLSV1_UNRECOGNIZED_NAME|TLSV1_ALERT_UNRECOGNIZED_NAME)$/, 'unknown-sni', true],
];

/**
 * Classifies a handshake failure or a failed peer check. `err` is what Node raised (`tlsClientError`,
 * a client socket's `error`) or a code from `socket.authorizationError`. A `handshake_failure` alert is
 * read as no shared cipher, its usual cause; the detail keeps the original code.
 */
export function classifyTlsFailure(err: unknown): TlsFailure {
  const e = (typeof err === 'string' ? { code: err } : (err ?? {})) as {
    code?: unknown;
    message?: unknown;
    reason?: unknown;
    details?: { expected?: string[]; presented?: string[] };
    expected?: string[];
    presented?: string[];
  };
  const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
  const message = typeof e.message === 'string' ? e.message : typeof e.reason === 'string' ? e.reason : code;
  const expected = e.details?.expected ?? e.expected;
  const presented = e.details?.presented ?? e.presented;
  const base = { code, detail: message, ...(expected ? { expected } : {}), ...(presented ? { presented } : {}) };
  const verify = VERIFY_CODES[code];
  if (verify) return { reason: verify, peerReported: false, ...base };
  for (const [re, reason, peerReported] of SSL_CODES) if (re.test(code)) return { reason, peerReported, ...base };
  // Messages without a mapped code (e.g. OpenSSL text in a generic error).
  if (/no shared cipher/i.test(message)) return { reason: 'no-shared-cipher', peerReported: false, ...base };
  if (/protocol version|unsupported protocol/i.test(message)) return { reason: 'protocol-version', peerReported: /alert/i.test(message), ...base };
  if (/unknown ca/i.test(message)) return { reason: 'unknown-ca', peerReported: true, ...base };
  return { reason: 'other', peerReported: false, ...base };
}

const CUBE_REASON_TEXT: Record<TlsFailureReason, string> = {
  'unknown-ca': 'certificate verify failed (unknown CA)',
  expired: 'certificate verify failed (certificate has expired)',
  'not-yet-valid': 'certificate verify failed (certificate is not yet valid)',
  'name-mismatch': 'identity check failed',
  'no-client-certificate': 'peer did not return a certificate',
  'protocol-version': 'tlsv1 alert protocol version',
  'no-shared-cipher': 'no shared cipher',
  'unknown-sni': 'unrecognized name (SNI)',
  revoked: 'certificate verify failed (certificate revoked)',
  'chain-too-deep': 'certificate verify failed (certificate chain too long)',
  other: 'handshake failure',
};

export interface FailureContext {
  direction: TlsDirection;
  tenant?: string;
  profile?: string;
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
  remotePort?: number;
  servername?: string;
}

/** Names for a log line's text: each bounded and without control characters (src/common/printable.ts), `|` between. */
function names(list: readonly string[]): string {
  return list.map((n) => printable(n)).join('|') || '-';
}

/**
 * One log line in CUBE's syslog form: `%SIP-2-TLS_HANDSHAKE_FAILED: ...`. The SNI and the certificate names are the
 * peer's text: a CR or LF in them would start a line of its own in a text log, so they go through `printable`.
 */
export function formatCubeText(f: TlsFailure, ctx: FailureContext): string {
  const parts = [
    `TLS handshake failure - ${CUBE_REASON_TEXT[f.reason]}`,
    `direction=${ctx.direction}`,
    ...(ctx.remoteAddress !== undefined ? [`remote_addr=${ctx.remoteAddress}`] : []),
    ...(ctx.remotePort !== undefined ? [`remote_port=${ctx.remotePort}`] : []),
    ...(ctx.localAddress !== undefined ? [`local_addr=${ctx.localAddress}`] : []),
    ...(ctx.localPort !== undefined ? [`local_port=${ctx.localPort}`] : []),
    ...(ctx.tenant !== undefined ? [`tenant=${printable(ctx.tenant)}`] : []),
    ...(ctx.profile !== undefined ? [`profile=${printable(ctx.profile)}`] : []),
    ...(ctx.servername !== undefined ? [`sni=${printable(ctx.servername)}`] : []),
    ...(f.expected ? [`expected=${names(f.expected)}`] : []),
    ...(f.presented ? [`presented=${names(f.presented)}`] : []),
    `code=${f.code}`,
  ];
  return `%SIP-2-TLS_HANDSHAKE_FAILED: ${parts.join(', ')}`;
}

/** sipXbridge's wording where one applies (outbound name check; inbound TLS-peer lookup). */
export function sipxText(f: TlsFailure, direction: TlsDirection): string | undefined {
  if (f.reason !== 'name-mismatch') return undefined;
  return direction === 'client'
    ? 'Certificate identity does not match requested domain'
    : `No matching TLS Peer found for ${(f.presented ?? []).map((n) => printable(n)).join(', ') || '(no identities)'}`;
}
