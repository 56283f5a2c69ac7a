import forge from 'node-forge';
import { loadPrivateKey } from './key-pair.js';
import { placeholderRsaKey, signStructure, signatureAlgorithm, spkiAsn1, toPem } from './asn1-signing.js';
import { checkDistinguishedName, dnAttributes, type DistinguishedName } from './distinguished-name.js';
import type { SanEntry } from './issue-certificate.js';

type Asn1 = forge.asn1.Asn1;

export interface CreateCsrOptions {
  subject: DistinguishedName;
  privateKeyPem: string;
  san?: SanEntry[];
}

/**
 * A PKCS#10 certification request (RFC 2986) for an outside CA, with the SAN asked for in an
 * extensionRequest attribute (RFC 2985 §5.4.2). Works for RSA and ECDSA keys. The subject is checked and encoded by
 * src/pki/distinguished-name.ts: a value outside the PrintableString set is a UTF8String.
 */
export function createCsr(opts: CreateCsrOptions): string {
  // The subject first: a name with a control character or over its bound is refused (ERR_PKI_CSR_INVALID).
  checkDistinguishedName(opts.subject, 'ERR_PKI_CSR_INVALID');
  const key = loadPrivateKey(opts.privateKeyPem);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = placeholderRsaKey();
  csr.setSubject(dnAttributes(opts.subject, 'ERR_PKI_CSR_INVALID'));
  if (opts.san && opts.san.length > 0) {
    const altNames = opts.san.map((s) => (s.type === 'dns' ? { type: 2, value: s.value } : s.type === 'uri' ? { type: 6, value: s.value } : { type: 7, ip: s.value }));
    csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames }] }] as never);
  }
  const cri = (forge.pki as unknown as { getCertificationRequestInfo(c: forge.pki.CertificateSigningRequest): Asn1 }).getCertificationRequestInfo(csr);
  (cri.value as Asn1[])[2] = spkiAsn1(key);
  const { node, hash } = signatureAlgorithm(key);
  return toPem('CERTIFICATE REQUEST', signStructure(cri, node, hash, key));
}
