import { getCiphers } from 'node:tls';
import { err, ok, type Result } from '../common/result.js';

/** One cipher suite under its three names (anchors §4.2). */
export interface CipherSuiteName {
  /** IANA code point, "0xC0,0x30". */
  code: string;
  iana: string;
  /** OpenSSL name; for TLS 1.3 suites OpenSSL uses the IANA name. */
  openssl: string;
  /** Cisco CUBE `tls-cipher` name. */
  cube: string;
  tls13: boolean;
}

/** [code, IANA, OpenSSL]; the CUBE name is derived by the rules of anchors §4.2. */
const SUITES: [string, string, string][] = [
  ['0x13,0x01', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
  ['0x13,0x02', 'TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'],
  ['0x13,0x03', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
  ['0x13,0x04', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_SHA256'],
  ['0x13,0x05', 'TLS_AES_128_CCM_8_SHA256', 'TLS_AES_128_CCM_8_SHA256'],
  ['0xC0,0x2B', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['0xC0,0x2C', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['0xC0,0x2F', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['0xC0,0x30', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['0xCC,0xA9', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['0xCC,0xA8', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['0xCC,0xAA', 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'DHE-RSA-CHACHA20-POLY1305'],
  ['0x00,0x9E', 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'DHE-RSA-AES128-GCM-SHA256'],
  ['0x00,0x9F', 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'DHE-RSA-AES256-GCM-SHA384'],
  ['0xC0,0x23', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['0xC0,0x24', 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDHE-ECDSA-AES256-SHA384'],
  ['0xC0,0x27', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['0xC0,0x28', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384'],
  ['0x00,0x67', 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 'DHE-RSA-AES128-SHA256'],
  ['0x00,0x6B', 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 'DHE-RSA-AES256-SHA256'],
  ['0xC0,0x09', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['0xC0,0x0A', 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['0xC0,0x13', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['0xC0,0x14', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['0x00,0x33', 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'DHE-RSA-AES128-SHA'],
  ['0x00,0x39', 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 'DHE-RSA-AES256-SHA'],
  ['0x00,0x9C', 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['0x00,0x9D', 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['0x00,0x3C', 'TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['0x00,0x3D', 'TLS_RSA_WITH_AES_256_CBC_SHA256', 'AES256-SHA256'],
  ['0x00,0x2F', 'TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['0x00,0x35', 'TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  // Known to OpenSSL's naming but not offered by Node's build: accepted by name, refused as unsupported.
  ['0x00,0x0A', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'DES-CBC3-SHA'],
  ['0xC0,0x60', 'TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256', 'ECDHE-ARIA128-GCM-SHA256'],
  ['0xC0,0x77', 'TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384', 'ECDHE-RSA-CAMELLIA256-SHA384'],
  // DSS (DSA-certificate) suites, as the Sangoma IMG lists them: named, and refused with the reason.
  ['0x00,0x32', 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA', 'DHE-DSS-AES128-SHA'],
  ['0x00,0x38', 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA', 'DHE-DSS-AES256-SHA'],
  ['0x00,0x40', 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA256', 'DHE-DSS-AES128-SHA256'],
  ['0x00,0x6A', 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA256', 'DHE-DSS-AES256-SHA256'],
  ['0x00,0xA2', 'TLS_DHE_DSS_WITH_AES_128_GCM_SHA256', 'DHE-DSS-AES128-GCM-SHA256'],
  ['0x00,0xA3', 'TLS_DHE_DSS_WITH_AES_256_GCM_SHA384', 'DHE-DSS-AES256-GCM-SHA384'],
];

/**
 * CUBE's names: drop `TLS_` (1.3 suites also write `AES128`/`AES256`); AEAD and SHA-2 suites also drop `WITH_`, write `AES128`/`AES256`, and the
 * SHA-2 CBC ones drop `CBC`; legacy SHA-1 CBC suites keep `WITH_..._CBC_SHA`.
 */
export function cubeName(iana: string, tls13: boolean): string {
  const bare = iana.replace(/^TLS_/, '');
  if (tls13) return bare.replace(/AES_(128|256)/, 'AES$1');
  if (/_CBC_SHA$/.test(bare)) return bare;
  return bare.replace('WITH_', '').replace(/AES_(128|256)/, 'AES$1').replace('_CBC_', '_');
}

export const CIPHER_SUITES: readonly CipherSuiteName[] = SUITES.map(([code, iana, openssl]) => {
  const tls13 = code.startsWith('0x13,');
  return Object.freeze({ code, iana, openssl, cube: cubeName(iana, tls13), tls13 });
});

const BY_NAME = new Map<string, CipherSuiteName>();
for (const s of CIPHER_SUITES) for (const n of [s.iana, s.openssl, s.cube]) BY_NAME.set(n.toUpperCase(), s);

/** Looks a suite up by any of its names, case-insensitively. */
export function lookupCipher(name: string): CipherSuiteName | undefined {
  return BY_NAME.get(name.trim().toUpperCase());
}

/** Names this Node's OpenSSL can negotiate (`tls.getCiphers()` is lower case). */
export function supportedCipherNames(): Set<string> {
  return new Set(getCiphers().map((c) => c.toUpperCase()));
}

export interface ResolvedCipherList {
  /** OpenSSL cipher list for TLS ≤ 1.2, in the given order ('' when none). */
  tls12: string;
  /** TLS 1.3 ciphersuites, in the given order ('' when none). */
  tls13: string;
  /** The one mixed string Node's `ciphers` option takes (its `TLS_*` entries are the 1.3 suites). */
  node: string;
  suites: CipherSuiteName[];
}

export type CipherListError = { ok: false; code: 'ERR_TLS_CIPHER_UNKNOWN' | 'ERR_TLS_CIPHER_UNSUPPORTED'; reason: string; unknown: string[]; unsupported: string[] };

/**
 * Resolves an ordered list of IANA, OpenSSL or CUBE names into the two OpenSSL lists. An unknown name,
 * or one this OpenSSL cannot negotiate, is an error naming it.
 */
export function resolveCipherList(names: readonly string[], supported: Set<string> = supportedCipherNames()): Result<ResolvedCipherList> | CipherListError {
  const unknown: string[] = [];
  const unsupported: string[] = [];
  const suites: CipherSuiteName[] = [];
  for (const name of names) {
    const s = lookupCipher(name);
    if (!s) unknown.push(name);
    else if (!supported.has(s.openssl.toUpperCase())) unsupported.push(name);
    else if (!suites.includes(s)) suites.push(s);
  }
  if (unknown.length > 0 || unsupported.length > 0) {
    const parts: string[] = [];
    if (unknown.length) parts.push(`unknown cipher name(s): ${unknown.join(', ')}`);
    if (unsupported.length) parts.push(`not negotiable by this OpenSSL: ${unsupported.join(', ')}`);
    if (unsupported.some((n) => /DSS/i.test(lookupCipher(n)!.openssl))) {
      parts.push('DSS suites authenticate with a DSA certificate, which this OpenSSL build does not offer at its security level; use the DHE_RSA or ECDHE names');
    }
    return { ok: false, code: unknown.length ? 'ERR_TLS_CIPHER_UNKNOWN' : 'ERR_TLS_CIPHER_UNSUPPORTED', reason: parts.join('; '), unknown, unsupported };
  }
  if (suites.length === 0) return { ...err('ERR_TLS_CIPHER_UNKNOWN', 'empty cipher list'), unknown: [], unsupported: [] };
  const tls12 = suites.filter((s) => !s.tls13).map((s) => s.openssl).join(':');
  const tls13 = suites.filter((s) => s.tls13).map((s) => s.openssl).join(':');
  return ok({ tls12, tls13, node: [tls13, tls12].filter(Boolean).join(':'), suites });
}

/** How a negotiated suite is shown (CUBE style): OpenSSL name for 1.2, IANA name for 1.3. */
export function displayCipherName(openssl: string): string {
  return lookupCipher(openssl)?.openssl ?? openssl;
}

let supported: Set<string> | undefined;

/** The tls layer's verdict on one cipher name, for the config layer's cross-checks; undefined when it is usable. */
export function validateCipherName(name: string): string | undefined {
  const s = lookupCipher(name);
  if (!s) return 'unknown cipher name (IANA, OpenSSL and CUBE names are accepted)';
  supported ??= supportedCipherNames();
  if (!supported.has(s.openssl.toUpperCase())) return `not negotiable by this OpenSSL (${process.versions.openssl})`;
  return undefined;
}
