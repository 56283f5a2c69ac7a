import { X509Certificate, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { dnAttributes, type DistinguishedName } from './distinguished-name.js';
import { pkiError } from './errors.js';
import { loadPrivateKey, publicKeyOf } from './key-pair.js';
import {
  keyIdentifier,
  pemBlocks,
  placeholderRsaKey,
  signStructure,
  signatureAlgorithm,
  spkiAsn1,
  subjectNameOf,
  toPem,
} from './asn1-signing.js';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

export type { DistinguishedName } from './distinguished-name.js';

/** A subjectAltName entry (RFC 5280 §4.2.1.6). */
export type SanEntry = { type: 'uri'; value: string } | { type: 'dns'; value: string } | { type: 'ip'; value: string };

export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

export interface IssueCertificateOptions {
  subject: DistinguishedName;
  /** The subject's public key (SPKI PEM), or its private key PEM. */
  subjectKeyPem: string;
  /** The signer's private key: the CA's, or the subject's own for a self-signed certificate. */
  issuerKeyPem: string;
  /** The CA's certificate; absent for a self-signed certificate. */
  issuerCertPem?: string;
  isCA?: boolean;
  pathLength?: number;
  san?: SanEntry[];
  extKeyUsage?: ExtendedKeyUsage[];
  notBefore?: Date;
  notAfter?: Date;
  /** Used when notAfter is absent. Default 825 days for leaves, 3650 for CAs. */
  validityDays?: number;
  /** Hex; default 16 random bytes with the top bit clear. */
  serialNumber?: string;
  /** "Now" for the default validity window. */
  now?: Date;
}

function altNames(san: SanEntry[]): { type: number; value?: string; ip?: string }[] {
  return san.map((s) => (s.type === 'dns' ? { type: 2, value: s.value } : s.type === 'uri' ? { type: 6, value: s.value } : { type: 7, ip: s.value }));
}

export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  if (b[0] === 0) b[0] = 0x01;
  return b.toString('hex');
}

/**
 * Issues an X.509 v3 certificate (RFC 5280). forge lays out the TBSCertificate; the issuer name, the subject
 * key info and the signature come from the real certificates and keys, so RSA and ECDSA work both ways round.
 * Returns the certificate PEM.
 */
export function issueCertificate(opts: IssueCertificateOptions): string {
  const signer = loadPrivateKey(opts.issuerKeyPem);
  const subjectKey = publicKeyOf(opts.subjectKeyPem);
  const now = opts.now ?? new Date();
  const isCA = opts.isCA ?? false;
  const notBefore = opts.notBefore ?? new Date(now.getTime() - 60_000);
  const notAfter = opts.notAfter ?? new Date(now.getTime() + (opts.validityDays ?? (isCA ? 3650 : 825)) * 86_400_000);

  let issuerName: Asn1 | undefined;
  let authorityKeyId: Buffer;
  if (opts.issuerCertPem !== undefined) {
    const der = pemBlocks(opts.issuerCertPem, 'CERTIFICATE')[0];
    if (!der) throw pkiError('ERR_PKI_CERT_INVALID', 'issuer certificate is not PEM');
    let issuer: X509Certificate;
    try {
      issuer = new X509Certificate(der);
    } catch (cause) {
      throw pkiError('ERR_PKI_CERT_INVALID', 'issuer certificate does not parse', { cause });
    }
    if (!issuer.checkPrivateKey(signer)) throw pkiError('ERR_PKI_KEY_MISMATCH', 'issuer key does not match the issuer certificate');
    if (!issuer.ca) throw pkiError('ERR_PKI_NOT_CA', 'issuer certificate is not a CA (basicConstraints cA=false)');
    issuerName = subjectNameOf(der);
    authorityKeyId = keyIdentifier(issuer.publicKey);
  } else {
    authorityKeyId = keyIdentifier(subjectKey);
  }

  const cert = forge.pki.createCertificate();
  cert.publicKey = placeholderRsaKey();
  cert.serialNumber = opts.serialNumber ?? randomSerial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  // A subject with a control character or over its RFC 5280 bound is refused (ERR_PKI_CERT_INVALID); a value outside
  // the PrintableString set is a UTF8String (src/pki/distinguished-name.ts).
  const subject = dnAttributes(opts.subject, 'ERR_PKI_CERT_INVALID');
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const subjectKeyId = keyIdentifier(subjectKey);
  const extensions: Record<string, unknown>[] = [
    { name: 'basicConstraints', cA: isCA, critical: true, ...(isCA && opts.pathLength !== undefined ? { pathLenConstraint: opts.pathLength } : {}) },
    isCA
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: subjectKey.asymmetricKeyType === 'rsa', critical: true },
    {
      name: 'subjectKeyIdentifier',
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, subjectKeyId.toString('binary')),
    },
    {
      name: 'authorityKeyIdentifier',
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, authorityKeyId.toString('binary')),
      ]),
    },
  ];
  if (opts.extKeyUsage && opts.extKeyUsage.length > 0) {
    const eku: Record<string, unknown> = { name: 'extKeyUsage' };
    for (const u of opts.extKeyUsage) eku[u] = true;
    extensions.push(eku);
  }
  if (opts.san && opts.san.length > 0) {
    // RFC 5280 §4.2.1.6: when the subject name is empty the subjectAltName extension MUST be critical.
    extensions.push({ name: 'subjectAltName', altNames: altNames(opts.san), critical: !opts.subject.commonName });
  }
  cert.setExtensions(extensions);

  const { node: algorithm, hash } = signatureAlgorithm(signer);
  // forge records RSA as the algorithm; the real AlgorithmIdentifier is swapped in below.
  cert.siginfo.algorithmOid = forge.pki.oids['sha256WithRSAEncryption']!;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): Asn1 }).getTBSCertificate(cert);
  const fields = tbs.value as Asn1[];
  fields[2] = algorithm;
  if (issuerName) fields[3] = issuerName;
  fields[6] = spkiAsn1(subjectKey);
  const { node: outerAlgorithm } = signatureAlgorithm(signer);
  return toPem('CERTIFICATE', signStructure(tbs, outerAlgorithm, hash, signer));
}
