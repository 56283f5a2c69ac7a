import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pkiError } from './errors.js';
import { inspectCertificate, parseCertificate, type CertificateInfo } from './inspect-certificate.js';
import { pemBlocks } from './asn1-signing.js';
import { writePemFile } from './write-pem-files.js';
import { splitPemBundle } from './verify-chain.js';

/**
 * Adds a remote CA to a trust-store folder (sipXecs "Certificate Authorities", CUBE `crypto pki
 * authenticate`). Only CA certificates are accepted; the file is named by fingerprint, so adding the
 * same CA twice is a no-op.
 */
export function importTrustedCa(storeDir: string, pem: string): CertificateInfo {
  const one = splitPemBundle(pem)[0];
  if (!one) throw pkiError('ERR_PKI_CERT_INVALID', 'no certificate in the PEM');
  const info = inspectCertificate(one);
  if (!info.isCA) throw pkiError('ERR_PKI_NOT_CA', 'not a CA certificate (basicConstraints cA=false)');
  try {
    mkdirSync(storeDir, { recursive: true });
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot create ${storeDir}`, { cause });
  }
  writePemFile(join(storeDir, `${info.fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase()}.pem`), one, false);
  return info;
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
