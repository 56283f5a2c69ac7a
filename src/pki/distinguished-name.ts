import forge from 'node-forge';
import { pkiError, type PkiErrorCode } from './errors.js';

const { asn1 } = forge;

/** A subject or issuer name as the gateway writes one: CN, O, OU and C. */
export interface DistinguishedName {
  commonName?: string;
  organization?: string;
  organizationalUnit?: string;
  country?: string;
}

/**
 * The attributes in the order they are written (C, O, OU, CN), each with its upper bound in characters
 * (RFC 5280 Appendix A.1: ub-common-name, ub-organization-name, ub-organizational-unit-name 64; C is an ISO 3166
 * two-letter code, a PrintableString of exactly 2).
 */
const ATTRIBUTES = [
  { key: 'country', short: 'C', max: 2 },
  { key: 'organization', short: 'O', max: 64 },
  { key: 'organizationalUnit', short: 'OU', max: 64 },
  { key: 'commonName', short: 'CN', max: 64 },
] as const;

/**
 * Characters no name may hold: C0 and C1 controls (a terminal escape or a line break in a log or `openssl x509 -text`),
 * the line and paragraph separators and the bidirectional overrides and isolates (text shown in another order).
 */
const FORBIDDEN = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** X.680 PrintableString: a value of these characters only is written as one, any other as a UTF8String. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * Refuses (`code`) a name the gateway must not write: a control character, a lone surrogate, a value over its
 * RFC 5280 upper bound, a C that is not two letters. The message names the attribute and, for a character, its code
 * point, never the raw value (it may hold what a terminal would act on).
 */
export function checkDistinguishedName(dn: DistinguishedName, code: PkiErrorCode): void {
  for (const a of ATTRIBUTES) {
    const value = dn[a.key];
    if (value === undefined || value === '') continue;
    const bad = FORBIDDEN.exec(value)?.[0];
    if (bad !== undefined) {
      throw pkiError(code, `${a.short}: the control character U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed in a name`);
    }
    if (Buffer.from(value, 'utf8').toString('utf8') !== value) throw pkiError(code, `${a.short}: not valid Unicode text (a lone surrogate)`);
    if (a.key === 'country') {
      if (!/^[A-Za-z]{2}$/.test(value)) throw pkiError(code, `C: '${value}' is not a two-letter country code (ISO 3166, e.g. DE)`);
      continue;
    }
    const length = [...value].length;
    if (length > a.max) throw pkiError(code, `${a.short} is ${length} characters long; RFC 5280 allows at most ${a.max}`);
  }
}

/**
 * The attributes of a name for forge, checked first (checkDistinguishedName). A value within the PrintableString set
 * is written as a PrintableString, any other as a UTF8String (RFC 5280 §4.1.2.4; forge encodes it to UTF-8 itself).
 */
export function dnAttributes(dn: DistinguishedName, code: PkiErrorCode): forge.pki.CertificateField[] {
  checkDistinguishedName(dn, code);
  const attrs: forge.pki.CertificateField[] = [];
  for (const a of ATTRIBUTES) {
    const value = dn[a.key];
    if (!value) continue;
    const valueTagClass = (PRINTABLE.test(value) ? asn1.Type.PRINTABLESTRING : asn1.Type.UTF8) as unknown as forge.asn1.Class;
    attrs.push({ shortName: a.short, value, valueTagClass });
  }
  return attrs;
}
