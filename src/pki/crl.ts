import forge from 'node-forge';
import { pkiError } from './errors.js';
import { loadPrivateKey } from './key-pair.js';
import { asn1ToDer, keyIdentifier, pemBlocks, signStructure, signatureAlgorithm, subjectNameOf, toPem } from './asn1-signing.js';
import { parseCertificate } from './inspect-certificate.js';

const { asn1 } = forge;

export interface RevokedEntry {
  /** Hex serial number, as `inspectCertificate().serialNumber`. */
  serialNumber: string;
  revokedAt: Date;
}

export interface CreateCrlOptions {
  issuerCertPem: string;
  issuerKeyPem: string;
  revoked: RevokedEntry[];
  thisUpdate?: Date;
  nextUpdate?: Date;
  crlNumber?: number;
}

function time(d: Date): forge.asn1.Asn1 {
  // RFC 5280 §5.1.2.4: UTCTime through 2049.
  return d.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

function integer(hex: string): forge.asn1.Asn1 {
  let h = hex.length % 2 ? `0${hex}` : hex;
  if (parseInt(h.slice(0, 2), 16) >= 0x80) h = `00${h}`;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(h));
}

/** A v2 certificate revocation list (RFC 5280 §5) signed by our CA, as PEM. */
export function createCrl(opts: CreateCrlOptions): string {
  const key = loadPrivateKey(opts.issuerKeyPem);
  const der = pemBlocks(opts.issuerCertPem, 'CERTIFICATE')[0];
  if (!der) throw pkiError('ERR_PKI_CERT_INVALID', 'issuer certificate is not PEM');
  const issuer = parseCertificate(der);
  if (!issuer.checkPrivateKey(key)) throw pkiError('ERR_PKI_KEY_MISMATCH', 'CRL signing key does not match the CA certificate');
  const thisUpdate = opts.thisUpdate ?? new Date();
  const nextUpdate = opts.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * 86_400_000);
  const { node, hash } = signatureAlgorithm(key);
  const fields: forge.asn1.Asn1[] = [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(1).getBytes()),
    node,
    subjectNameOf(der),
    time(thisUpdate),
    time(nextUpdate),
  ];
  if (opts.revoked.length > 0) {
    fields.push(
      asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.SEQUENCE,
        true,
        opts.revoked.map((r) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [integer(r.serialNumber), time(r.revokedAt)])),
      ),
    );
  }
  const ext = (oid: string, value: forge.asn1.Asn1): forge.asn1.Asn1 =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1ToDer(value).toString('binary')),
    ]);
  fields.push(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        // RFC 5280 §5.2.1 authorityKeyIdentifier and §5.2.3 cRLNumber.
        ext('2.5.29.35', asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
          asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyIdentifier(issuer.publicKey).toString('binary')),
        ])),
        ext('2.5.29.20', asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(opts.crlNumber ?? 1).getBytes())),
      ]),
    ]),
  );
  const tbs = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, fields);
  return toPem('X509 CRL', signStructure(tbs, signatureAlgorithm(key).node, hash, key));
}
