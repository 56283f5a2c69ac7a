import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../common/gateway-error.js';
import { pkiError } from './errors.js';
import { loadPrivateKey } from './key-pair.js';
import { parseCertificate } from './inspect-certificate.js';
import { recoverPemSwaps } from './pem-swap-recovery.js';
import { splitPemBundle, verifyCertificateChain } from './verify-chain.js';
import { writePemFiles } from './write-pem-files.js';

/** Our own identity (CUBE `crypto pki trustpoint`): a key, its certificate and the chain sent with it. */
export interface TrustpointMaterial {
  /** PEM. Never log it. */
  keyPem: string;
  certPem: string;
  /** Intermediates and optionally the root, leaf's issuer first. */
  chainPems: string[];
}

export interface ImportSignedCertificateOptions {
  privateKeyPem: string;
  certPem: string;
  /** Intermediates (and root) from the CA, as separate PEMs or one bundle. */
  chainPems?: string[];
  /** Anchors the chain must end in; when absent the chain must carry a self-signed root. */
  trustedPems?: string[];
  now?: Date;
}

/**
 * Accepts a certificate an outside CA signed for our key, only if it matches the key
 * (ERR_PKI_KEY_MISMATCH) and its chain verifies (ERR_PKI_CHAIN_INCOMPLETE, ERR_PKI_SIGNATURE_INVALID,
 * ERR_PKI_CERT_EXPIRED, ERR_PKI_CERT_NOT_YET_VALID).
 */
export function importSignedCertificate(opts: ImportSignedCertificateOptions): TrustpointMaterial {
  const key = loadPrivateKey(opts.privateKeyPem);
  const bundle = splitPemBundle(opts.certPem);
  const leafPem = bundle[0];
  if (!leafPem) throw pkiError('ERR_PKI_CERT_INVALID', 'no certificate in the PEM');
  const leaf = parseCertificate(leafPem);
  if (!leaf.checkPrivateKey(key)) throw pkiError('ERR_PKI_KEY_MISMATCH', 'the certificate was not issued for this private key');
  const chainPems = [...bundle.slice(1), ...(opts.chainPems ?? []).flatMap(splitPemBundle)];
  const r = verifyCertificateChain({
    certPem: leafPem,
    chainPems,
    ...(opts.trustedPems ? { trustedPems: opts.trustedPems } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  if (!r.ok) throw pkiError(r.code, r.reason);
  // Keep the chain in path order, without the leaf.
  const ordered = r.value.path.slice(1).map((c) => c.toString());
  return { keyPem: opts.privateKeyPem, certPem: leafPem, chainPems: ordered };
}

export const TRUSTPOINT_FILES = { key: 'key.pem', cert: 'cert.pem', chain: 'chain.pem' } as const;

/**
 * Replaces a trustpoint folder's key, certificate and chain together, journalled in the folder (writePemFiles in
 * src/pki/write-pem-files.ts): a process killed part way leaves what the next load or save puts back as it was.
 */
export function saveTrustpoint(dir: string, material: TrustpointMaterial): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot create ${dir}`, { cause });
  }
  recoverPemSwaps(dir);
  writePemFiles([
    { path: join(dir, TRUSTPOINT_FILES.cert), text: material.certPem, secret: false },
    { path: join(dir, TRUSTPOINT_FILES.chain), text: material.chainPems.join(''), secret: false },
    { path: join(dir, TRUSTPOINT_FILES.key), text: material.keyPem, secret: true },
  ], { journalDir: dir });
}

export function trustpointExists(dir: string): boolean {
  return existsSync(join(dir, TRUSTPOINT_FILES.key)) && existsSync(join(dir, TRUSTPOINT_FILES.cert));
}

/** A trustpoint folder's files, once a swap a killed process left part way is put right (recoverPemSwaps). */
export function loadTrustpoint(dir: string): TrustpointMaterial {
  recoverPemSwaps(dir);
  try {
    const keyPem = readFileSync(join(dir, TRUSTPOINT_FILES.key), 'utf8');
    const certPem = readFileSync(join(dir, TRUSTPOINT_FILES.cert), 'utf8');
    const chainPath = join(dir, TRUSTPOINT_FILES.chain);
    const chainPems = existsSync(chainPath) ? splitPemBundle(readFileSync(chainPath, 'utf8')) : [];
    return { keyPem, certPem, chainPems };
  } catch (cause) {
    if (cause instanceof GatewayError) throw cause;
    throw pkiError('ERR_PKI_IO', `cannot read trustpoint in ${dir}`, { cause });
  }
}
