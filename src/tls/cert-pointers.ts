/**
 * What a far end's certificate says about its own revocation, read from its DER without fetching anything: the OCSP
 * responders of its Authority Information Access (RFC 5280 §4.2.2.1) and its CRL distribution points (§4.2.1.13).
 * Also its issuer's Name as encoded, which an OCSP CertID hashes (RFC 6960 §4.1.1).
 */
import { DerError, TAG, children, ctx, expect, oidOf, printable, type Tlv } from './der.js';

const AIA = '1.3.6.1.5.5.7.1.1';
const OCSP_METHOD = '1.3.6.1.5.5.7.48.1';
const CRL_DP = '2.5.29.31';
/** GeneralName's uniformResourceIdentifier, [6] IMPLICIT IA5String. */
const URI = ctx(6, false);

export interface RevocationPointers {
  ocspUrls: string[];
  crlUrls: string[];
  /** The probe never fetches them: it reports where they are. */
  fetched: false;
  /** Why the certificate's extensions could not be read. */
  problem?: string;
}

export interface LeafFields extends RevocationPointers {
  /** The issuer Name's DER (tag and all), for an OCSP CertID; undefined when the certificate did not decode. */
  issuerName?: Uint8Array;
}

const uri = (buf: Uint8Array, t: Tlv): string => printable(Buffer.from(buf.subarray(t.start, t.end)).toString('latin1'));

function ocspUrls(buf: Uint8Array, seq: Tlv): string[] {
  const out: string[] = [];
  for (const desc of children(buf, expect(buf, seq.start, seq.end, TAG.SEQUENCE, 'authorityInfoAccess'))) {
    const [method, location] = children(buf, desc);
    if (!method || !location) throw new DerError('an AccessDescription is not a method and a location');
    if (oidOf(buf, method) === OCSP_METHOD && location.tag === URI) out.push(uri(buf, location));
  }
  return out;
}

function crlUrls(buf: Uint8Array, seq: Tlv): string[] {
  const out: string[] = [];
  for (const dp of children(buf, expect(buf, seq.start, seq.end, TAG.SEQUENCE, 'cRLDistributionPoints'))) {
    const name = children(buf, dp).find((t) => t.tag === ctx(0, true));
    // distributionPoint [0] { fullName [0] GeneralNames }; nameRelativeToCRLIssuer [1] carries no URL.
    const full = name ? children(buf, name).find((t) => t.tag === ctx(0, true)) : undefined;
    for (const g of full ? children(buf, full) : []) if (g.tag === URI) out.push(uri(buf, g));
  }
  return out;
}

/** The leaf's issuer Name and revocation pointers; a certificate that does not decode gives `problem`, never a throw. */
export function leafFields(der: Uint8Array): LeafFields {
  const fields: LeafFields = { ocspUrls: [], crlUrls: [], fetched: false };
  try {
    const cert = expect(der, 0, der.length, TAG.SEQUENCE, 'certificate');
    const tbs = children(der, expect(der, cert.start, cert.end, TAG.SEQUENCE, 'tbsCertificate'));
    // [0] version, serial, signature, issuer, validity, subject, spki, [1] [2] unique ids, [3] extensions.
    const rest = tbs[0]?.tag === ctx(0, true) ? tbs.slice(1) : tbs;
    const issuer = rest[2];
    if (!issuer || issuer.tag !== TAG.SEQUENCE) throw new DerError('no issuer name');
    fields.issuerName = der.subarray(issuer.at, issuer.end);
    const extsTag = rest.find((t) => t.tag === ctx(3, true));
    if (!extsTag) return fields;
    for (const ext of children(der, expect(der, extsTag.start, extsTag.end, TAG.SEQUENCE, 'extensions'))) {
      const parts = children(der, ext);
      const value = parts[parts.length - 1];
      if (!parts[0] || !value || value.tag !== TAG.OCTET_STRING) throw new DerError('an extension without an id and a value');
      const id = oidOf(der, parts[0]);
      if (id === AIA) fields.ocspUrls.push(...ocspUrls(der, value));
      if (id === CRL_DP) fields.crlUrls.push(...crlUrls(der, value));
    }
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
    fields.problem = e.message;
  }
  return fields;
}
