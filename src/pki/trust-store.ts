import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isGatewayError } from '../common/gateway-error.js';
import { pkiError, type PkiErrorCode } from './errors.js';
import { inspectCertificate, parseCertificate, type CertificateInfo } from './inspect-certificate.js';
import { pemBlocks } from './asn1-signing.js';
import { writePemFiles } from './write-pem-files.js';
import { splitPemBundle } from './verify-chain.js';

/** A CA a trust-store folder took: what it is, and the file that holds it. */
export interface TrustedCaAdded {
  info: CertificateInfo;
  file: string;
}

/** The file a trusted CA is kept in: named by its fingerprint, so adding the same CA twice is one file. */
export function trustedCaFile(storeDir: string, info: CertificateInfo): string {
  return join(storeDir, `${info.fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase()}.pem`);
}

/**
 * Adds remote CAs to a trust-store folder (sipXecs "Certificate Authorities", CUBE `crypto pki authenticate`): every
 * certificate of the PEM (a CA bundle adds each), each a file named by its fingerprint. All or none: each must parse
 * (ERR_PKI_CERT_INVALID), be a CA (ERR_PKI_NOT_CA) and be within its dates at `now` (ERR_PKI_CERT_EXPIRED,
 * ERR_PKI_CERT_NOT_YET_VALID), all checked before any file is written; the refusal names the certificate.
 */
export function importTrustedCa(storeDir: string, pem: string, now: Date = new Date()): TrustedCaAdded[] {
  const pems = splitPemBundle(pem);
  if (pems.length === 0) throw pkiError('ERR_PKI_CERT_INVALID', 'no certificate in the PEM');
  const added = new Map<string, TrustedCaAdded & { pem: string }>();
  pems.forEach((one, i) => {
    const which = pems.length === 1 ? 'the certificate' : `certificate ${i + 1} of ${pems.length}`;
    let info: CertificateInfo;
    try {
      info = inspectCertificate(one);
    } catch (e) {
      throw isGatewayError(e) ? pkiError(e.code as PkiErrorCode, `${which}: ${e.message}`, { cause: e }) : e;
    }
    const subject = info.subject.replace(/\n/g, ', ');
    if (!info.isCA) throw pkiError('ERR_PKI_NOT_CA', `${which} (${subject}) is not a CA certificate (basicConstraints cA=false); nothing added`);
    if (now < info.notBefore) {
      throw pkiError('ERR_PKI_CERT_NOT_YET_VALID', `${which} (${subject}) is not valid before ${info.notBefore.toISOString()}; nothing added`);
    }
    if (now > info.notAfter) throw pkiError('ERR_PKI_CERT_EXPIRED', `${which} (${subject}) expired ${info.notAfter.toISOString()}; nothing added`);
    const file = trustedCaFile(storeDir, info);
    if (!added.has(file)) added.set(file, { info, file, pem: one });
  });
  try {
    mkdirSync(storeDir, { recursive: true });
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot create ${storeDir}`, { cause });
  }
  writePemFiles([...added.values()].map((a) => ({ path: a.file, text: a.pem, secret: false })));
  return [...added.values()].map(({ info, file }) => ({ info, file }));
}

/** Every CA certificate PEM in a folder (`*.pem`, `*.crt`) or in the listed files. */
export function loadTrustStore(paths: string | string[]): string[] {
  const out: string[] = [];
  for (const p of Array.isArray(paths) ? paths : [paths]) {
    try {
      const files = statSync(p).isDirectory()
        ? readdirSync(p).filter((f) => /\.(pem|crt)$/i.test(f)).sort().map((f) => join(p, f))
        : [p];
      for (const f of files) out.push(...splitPemBundle(readFileSync(f, 'utf8')));
    } catch (cause) {
      throw pkiError('ERR_PKI_IO', `cannot read trust store ${p}`, { cause });
    }
  }
  return out;
}

/** Our CA for the far end to import: PEM text and DER bytes. */
export function exportCaCertificate(pem: string): { pem: string; der: Buffer } {
  const der = pemBlocks(pem, 'CERTIFICATE')[0];
  if (!der) throw pkiError('ERR_PKI_CERT_INVALID', 'no certificate in the PEM');
  const cert = parseCertificate(der);
  return { pem: cert.toString(), der: Buffer.from(cert.raw) };
}
