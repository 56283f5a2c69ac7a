import type { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { derToAsn1 } from './asn1-signing.js';
import { pkiError } from './errors.js';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

/** RFC 5280 §4.2.1.9 basicConstraints and §4.2.1.3 keyUsage. */
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';

/** What an issuing certificate's extensions allow it to sign (Node's X509Certificate reads neither field). */
export interface CaConstraints {
  /** basicConstraints pathLenConstraint: most non-self-issued CA certificates that may follow it; absent: no limit. */
  pathLen: number | undefined;
  /** Whether its keyUsage allows signing certificates; true when it has no keyUsage extension (RFC 5280 §4.2.1.3). */
  keyCertSign: boolean;
  /** Whether it has a keyUsage extension at all. */
  hasKeyUsage: boolean;
}

function children(node: Asn1 | undefined): Asn1[] {
  return Array.isArray(node?.value) ? (node.value as Asn1[]) : [];
}

/** The extension values (the DER inside each OCTET STRING) by OID. */
function extensions(cert: X509Certificate): Map<string, string> {
  const tbs = children(derToAsn1(cert.raw))[0];
  const block = children(tbs).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const out = new Map<string, string>();
  for (const ext of children(children(block)[0])) {
    const parts = children(ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (!id || id.type !== asn1.Type.OID || !value || value.type !== asn1.Type.OCTETSTRING) continue;
    out.set(asn1.derToOid(forge.util.createBuffer(id.value as string)), value.value as string);
  }
  return out;
}

/** The pathLenConstraint and keyUsage of a certificate; a certificate whose extensions do not decode is refused. */
export function caConstraints(cert: X509Certificate): CaConstraints {
  let exts: Map<string, string>;
  try {
    exts = extensions(cert);
  } catch (cause) {
    throw pkiError('ERR_PKI_CERT_INVALID', `the extensions of ${cert.subject.replace(/\n/g, ', ')} do not decode`, { cause });
  }
  let pathLen: number | undefined;
  const bc = exts.get(BASIC_CONSTRAINTS);
  if (bc !== undefined) {
    // SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
    const n = children(asn1.fromDer(bc)).find((c) => c.type === asn1.Type.INTEGER);
    if (n) pathLen = asn1.derToInteger(forge.util.createBuffer(n.value as string));
  }
  const ku = exts.get(KEY_USAGE);
  let keyCertSign = true;
  if (ku !== undefined) {
    // BIT STRING: the count of unused bits, then the bits; keyCertSign is bit 5, 0x04 of the first byte.
    const bits = asn1.fromDer(ku, { decodeBitStrings: false } as never).value as string;
    keyCertSign = bits.length > 1 && (bits.charCodeAt(1) & 0x04) !== 0;
  }
  return { pathLen, keyCertSign, hasKeyUsage: ku !== undefined };
}
