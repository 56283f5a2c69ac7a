/**
 * A TLS profile's CRLs checked before it is used (buildTlsProfile in profile.ts), as OpenSSL checks them at every
 * handshake: issued by a CA of the profile's trust store, signed with that CA's key, and current. OpenSSL loads a CRL
 * that is none of these without a word and then fails every handshake it applies to (UNABLE_TO_GET_CRL,
 * CRL_SIGNATURE_FAILURE, CRL_HAS_EXPIRED); refused here, a reload keeps the CRL that works. The expiry watch
 * (src/certificate-inventory.ts) reads the same fields to warn before nextUpdate passes.
 */
import { X509Certificate, constants, createHash, verify, type KeyObject } from 'node:crypto';
import { pemBlocks } from '../pki/asn1-signing.js';
import { splitPemBundle } from '../pki/verify-chain.js';
import { DerError, TAG, children, ctx, distinguishedName, expect, integerHex, oidOf, timeOf, type Tlv } from './der.js';
import type { ProfileProblem } from './profile-types.js';

/** One CRL (RFC 5280 §5.1) as the checks and the inventory read it. */
export interface CrlFields {
  /** The issuer Name as `O=Example, CN=ca`. */
  issuer: string;
  thisUpdate: Date;
  /** Absent when the CRL names none (RFC 5280 §5.1.2.5 requires it; OpenSSL accepts its absence). */
  nextUpdate: Date | undefined;
  /** The cRLNumber extension as upper-case hex, when present. */
  crlNumber: string | undefined;
  /** SHA-256 of the DER, colon-separated upper-case hex like a certificate's fingerprint256. */
  sha256: string;
  /** What the signature covers, the signature algorithm and the signature. */
  tbs: Uint8Array;
  algorithm: { oid: string; params: Tlv | undefined; buf: Uint8Array };
  signature: Uint8Array;
}

const CRL_NUMBER = '2.5.29.20';

function algorithmOf(buf: Uint8Array, t: Tlv): CrlFields['algorithm'] {
  const [oid, params] = children(buf, expect(buf, t.at, t.end, TAG.SEQUENCE, 'signature algorithm'));
  if (!oid) throw new DerError('an empty signature algorithm');
  return { oid: oidOf(buf, oid), params: params && params.tag !== TAG.NULL ? params : undefined, buf };
}

/** Reads one DER CRL; throws DerError when it does not decode. */
export function parseCrl(der: Uint8Array): CrlFields {
  const top = expect(der, 0, der.length, TAG.SEQUENCE, 'CertificateList');
  if (top.end !== der.length) throw new DerError(`${der.length - top.end} bytes after the CRL`);
  const [tbsTlv, algTlv, sigTlv, extra] = children(der, top);
  if (!tbsTlv || tbsTlv.tag !== TAG.SEQUENCE || !algTlv || !sigTlv || sigTlv.tag !== TAG.BIT_STRING || extra) {
    throw new DerError('not a CertificateList (tbsCertList, signatureAlgorithm, signature)');
  }
  const tbs = children(der, tbsTlv);
  // version INTEGER OPTIONAL, signature, issuer, thisUpdate, nextUpdate OPTIONAL, revokedCertificates OPTIONAL, [0] crlExtensions
  const rest = tbs[0]?.tag === TAG.INTEGER ? tbs.slice(1) : tbs;
  const [, issuer, thisUpdate, maybeNext] = rest;
  if (!issuer || !thisUpdate) throw new DerError('no issuer or thisUpdate');
  const isTime = (t: Tlv | undefined): boolean => t?.tag === TAG.UTC_TIME || t?.tag === TAG.GENERALIZED_TIME;
  if (!isTime(thisUpdate)) throw new DerError('thisUpdate is not a time');
  let crlNumber: string | undefined;
  const exts = rest.find((t) => t.tag === ctx(0, true));
  for (const ext of exts ? children(der, expect(der, exts.start, exts.end, TAG.SEQUENCE, 'crlExtensions')) : []) {
    const parts = children(der, ext);
    const value = parts[parts.length - 1];
    if (parts[0] && value?.tag === TAG.OCTET_STRING && oidOf(der, parts[0]) === CRL_NUMBER) {
      crlNumber = integerHex(der, expect(der, value.start, value.end, TAG.INTEGER, 'cRLNumber'));
    }
  }
  if (der[sigTlv.start] !== 0) throw new DerError('a signature with unused bits');
  return {
    issuer: distinguishedName(der, issuer),
    thisUpdate: new Date(timeOf(der, thisUpdate)),
    nextUpdate: isTime(maybeNext) ? new Date(timeOf(der, maybeNext!)) : undefined,
    crlNumber,
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:'),
    tbs: der.subarray(tbsTlv.at, tbsTlv.end),
    algorithm: algorithmOf(der, algTlv),
    signature: der.subarray(sigTlv.start + 1, sigTlv.end),
  };
}

/** Every CRL of a PEM file, as DER. */
export function crlBlocks(pem: string): Buffer[] {
  return pemBlocks(pem, 'X509 CRL');
}

const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.4': 'sha224', '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** Signature algorithms (RFC 4055, RFC 5758, RFC 8410): the digest Node's verify takes, null for EdDSA. */
const SIGNATURES: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1', '1.2.840.113549.1.1.14': 'sha224', '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1', '1.2.840.10045.4.3.1': 'sha224', '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, '1.3.101.113': null,
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** Whether `key` made the CRL's signature; undefined when the algorithm is not one this check knows. */
function signedBy(crl: CrlFields, key: KeyObject): boolean | undefined {
  const { oid, params, buf } = crl.algorithm;
  if (oid === RSASSA_PSS) {
    // RSASSA-PSS-params (RFC 4055 §3.1): [0] hashAlgorithm (default SHA-1), [2] saltLength (default 20).
    let hash = 'sha1';
    let saltLength = 20;
    for (const p of params ? children(buf, params) : []) {
      if (p.tag === ctx(0, true)) hash = HASHES[algorithmOf(buf, expect(buf, p.start, p.end, TAG.SEQUENCE, 'hashAlgorithm')).oid] ?? '';
      if (p.tag === ctx(2, true)) saltLength = readSmall(buf, expect(buf, p.start, p.end, TAG.INTEGER, 'saltLength'));
    }
    if (!hash) return undefined;
    return verify(hash, crl.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, crl.signature);
  }
  if (!(oid in SIGNATURES)) return undefined;
  return verify(SIGNATURES[oid] ?? null, crl.tbs, key, crl.signature);
}

/** signedBy, where a key of another type than the signature's (an EC CA for an RSA signature) is a plain no. */
function verifies(crl: CrlFields, key: KeyObject): boolean | undefined {
  try {
    return signedBy(crl, key);
  } catch (e) {
    if (e instanceof DerError) throw e;
    return false;
  }
}

function readSmall(buf: Uint8Array, t: Tlv): number {
  let v = 0;
  for (let i = t.start; i < t.end && i < t.start + 4; i++) v = v * 256 + buf[i]!;
  return v;
}

/** Names compare as OpenSSL's canonical form does, near enough: case and runs of spaces aside. */
const canonical = (dn: string): string => dn.toLowerCase().replace(/\s+/g, ' ');

/** A CA's subject as der.ts writes the CRL's issuer, so both names are rendered alike; '' when it does not decode. */
function subjectOf(c: X509Certificate): string {
  try {
    const der = c.raw;
    const cert = expect(der, 0, der.length, TAG.SEQUENCE, 'certificate');
    const tbs = children(der, expect(der, cert.start, cert.end, TAG.SEQUENCE, 'tbsCertificate'));
    // [0] version, serial, signature, issuer, validity, subject, ...
    const subject = (tbs[0]?.tag === ctx(0, true) ? tbs.slice(1) : tbs)[4];
    return subject ? canonical(distinguishedName(der, subject)) : '';
  } catch (e) {
    if (e instanceof DerError) return '';
    throw e;
  }
}

/**
 * The problems of a profile's CRLs, ERR_TLS_CRL_INVALID each: one that does not decode, whose issuer is not the
 * subject of a CA certificate in `trustedCaPems`, whose signature that CA's key does not verify, or that is not
 * current at `now` (thisUpdate ahead, nextUpdate past). `labels` name the files (their paths), else `CRL 1`, ...
 */
export function crlProblems(crlPems: readonly string[], labels: readonly string[] | undefined, trustedCaPems: readonly string[], now: Date): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const cas: X509Certificate[] = [];
  for (const pem of trustedCaPems) {
    for (const one of splitPemBundle(pem)) {
      try {
        cas.push(new X509Certificate(one));
      } catch {
        // An unreadable trust store certificate is the trustpoint check's problem, not the CRL's.
      }
    }
  }
  crlPems.forEach((pem, i) => {
    const file = labels?.[i] ?? `${i + 1}`;
    const blocks = crlBlocks(pem);
    const refuse = (what: string, reason: string): void => void problems.push({ code: 'ERR_TLS_CRL_INVALID', reason: `CRL ${what}: ${reason}` });
    if (blocks.length === 0) return refuse(file, 'holds no PEM block -----BEGIN X509 CRL-----');
    blocks.forEach((der, j) => {
      const what = blocks.length > 1 ? `${file} (${j + 1} of ${blocks.length})` : file;
      let crl: CrlFields;
      try {
        crl = parseCrl(der);
      } catch (e) {
        if (!(e instanceof DerError)) throw e;
        return refuse(what, `does not decode: ${e.message}`);
      }
      const issuers = cas.filter((c) => subjectOf(c) === canonical(crl.issuer));
      if (issuers.length === 0) return refuse(what, `its issuer ${crl.issuer} is not the subject of a CA in the profile's trust store`);
      let verdicts: (boolean | undefined)[];
      try {
        verdicts = issuers.map((c) => verifies(crl, c.publicKey));
      } catch (e) {
        if (!(e instanceof DerError)) throw e;
        return refuse(what, `its signature algorithm's parameters do not decode: ${e.message}`);
      }
      if (verdicts.includes(undefined)) return refuse(what, `its signature algorithm ${crl.algorithm.oid} is not one the gateway can check`);
      if (!verdicts.includes(true)) return refuse(what, `its signature does not verify with the key of ${crl.issuer}`);
      if (crl.thisUpdate.getTime() > now.getTime()) return refuse(what, `not valid before its thisUpdate ${crl.thisUpdate.toISOString()}`);
      if (crl.nextUpdate && crl.nextUpdate.getTime() < now.getTime()) return refuse(what, `expired: its nextUpdate ${crl.nextUpdate.toISOString()} has passed`);
    });
  });
  return problems;
}
