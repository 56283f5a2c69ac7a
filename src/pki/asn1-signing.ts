import { createHash, createPublicKey, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { pkiError } from './errors.js';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

/**
 * node-forge builds and signs only RSA structures. This file lets forge build the to-be-signed ASN.1
 * (certificate, request, CRL) and lets Node's crypto supply the public key info and the signature, so
 * certificates can carry and be signed by RSA or ECDSA keys alike.
 */

const OID_SHA256_RSA = '1.2.840.113549.1.1.11';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_ECDSA_SHA384 = '1.2.840.10045.4.3.3';

export function derToAsn1(der: Buffer): Asn1 {
  return asn1.fromDer(forge.util.createBuffer(der.toString('binary')), { decodeBitStrings: false } as never);
}

export function asn1ToDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The DER bytes of every PEM block with this label, in order. */
export function pemBlocks(pem: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  const out: Buffer[] = [];
  for (const m of pem.matchAll(re)) out.push(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
  return out;
}

/** AlgorithmIdentifier and digest for a signing key (RFC 5280 §4.1.1.2, RFC 5758 §3.2: no parameters for ECDSA). */
export function signatureAlgorithm(key: KeyObject): { node: Asn1; hash: 'sha256' | 'sha384' } {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    return {
      node: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_SHA256_RSA).getBytes()),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
      ]),
      hash: 'sha256',
    };
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const big = curve === 'secp384r1' || curve === 'P-384';
    return {
      node: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(
          asn1.Class.UNIVERSAL,
          asn1.Type.OID,
          false,
          asn1.oidToDer(big ? OID_ECDSA_SHA384 : OID_ECDSA_SHA256).getBytes(),
        ),
      ]),
      hash: big ? 'sha384' : 'sha256',
    };
  }
  throw pkiError('ERR_PKI_UNSUPPORTED_KEY', `keys of type ${String(type)} cannot sign here`);
}

export function spkiAsn1(publicKey: KeyObject): Asn1 {
  const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  return derToAsn1(pub.export({ type: 'spki', format: 'der' }));
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = spkiAsn1(publicKey);
  const bits = (spki.value as Asn1[])[1]!.value as string;
  return createHash('sha1').update(Buffer.from(bits, 'binary').subarray(1)).digest();
}

/** SEQUENCE { tbs, algorithm, BIT STRING signature }: the shape of certificates, requests and CRLs. */
export function signStructure(tbs: Asn1, algorithm: Asn1, hash: string, key: KeyObject): Buffer {
  const tbsDer = asn1ToDer(tbs);
  const signature = sign(hash, tbsDer, key);
  return asn1ToDer(
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      tbs,
      algorithm,
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\u0000' + signature.toString('binary')),
    ]),
  );
}

/** The subject Name of a DER certificate, as raw ASN.1 (so an issuer name is copied byte for byte). */
export function subjectNameOf(certDer: Buffer): Asn1 {
  const tbs = (derToAsn1(certDer).value as Asn1[])[0]!;
  const fields = tbs.value as Asn1[];
  const hasVersion = fields[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC;
  return fields[hasVersion ? 5 : 4]!;
}

/** A placeholder public key so forge can lay out a structure whose real key info is then swapped in. */
export function placeholderRsaKey(): forge.pki.rsa.PublicKey {
  return forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3', 10), new forge.jsbn.BigInteger('3', 10));
}
