import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { pkiError } from './errors.js';
import { loadPrivateKey, type KeySpec } from './key-pair.js';
import { createLocalCa, issueGatewayCertificate, type LocalCa } from './local-ca.js';
import { recoverPemSwaps } from './pem-swap-recovery.js';
import { withPkiLock } from './pki-lock.js';
import { loadTrustpoint, saveTrustpoint, trustpointExists, type TrustpointMaterial } from './trustpoint.js';
import { writePemFiles } from './write-pem-files.js';

export interface BootstrapPkiOptions {
  key?: KeySpec;
  trustpointName?: string;
  now?: Date;
  /** How long to wait while another process holds the PKI folder's lock (pkiLockPath); default 30 s. */
  lockWaitMs?: number;
}

export interface BootstrapPkiResult {
  /** True when this call created the CA or the trustpoint. */
  created: boolean;
  caCertPath: string;
  caKeyPath: string;
  trustpointDir: string;
  caCertPem: string;
  trustpoint: TrustpointMaterial;
}

export const CA_FILES = { cert: 'ca.crt', key: 'ca.key' } as const;

/** The lock of a PKI folder (`<pki>/.pki.lock`, beside `<pki>/ca`), held while its CA or a trustpoint is made. */
export function pkiLockPath(caDir: string): string {
  return join(dirname(resolve(caDir)), '.pki.lock');
}

/** A new CA's certificate and key into `caDir` together (journalled: a process killed part way leaves neither). */
export function writeLocalCa(caDir: string, ca: LocalCa): void {
  writePemFiles([
    { path: join(caDir, CA_FILES.cert), text: ca.certPem, secret: false },
    { path: join(caDir, CA_FILES.key), text: ca.keyPem, secret: true },
  ], { journalDir: caDir });
}

/**
 * First start: with no trustpoint under `dir`, create `ca/ca.crt` + `ca/ca.key` when there is no CA yet and
 * `trustpoints/<name>/{key,cert,chain}.pem` signed by the CA on disk, keys with mode 0600. Later starts load what is
 * there. Two starts at once are one after the other (the folder's lock, src/pki/pki-lock.ts), the second finding
 * what the first made. A CA certificate whose key is not there (kept offline) is never replaced: a trustpoint to
 * issue is then refused (ERR_PKI_TRUSTPOINT_FILES), as is a CA key without its certificate; nothing is written.
 */
export function bootstrapPki(dir: string, domain: string, opts: BootstrapPkiOptions = {}): BootstrapPkiResult {
  const caDir = join(dir, 'ca');
  try {
    mkdirSync(caDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot create ${caDir}`, { cause });
  }
  return withPkiLock(pkiLockPath(caDir), () => bootstrapLocked(dir, caDir, domain, opts),
    opts.lockWaitMs !== undefined ? { waitMs: opts.lockWaitMs } : {});
}

function bootstrapLocked(dir: string, caDir: string, domain: string, opts: BootstrapPkiOptions): BootstrapPkiResult {
  const name = opts.trustpointName ?? 'gw';
  const caCertPath = join(caDir, CA_FILES.cert);
  const caKeyPath = join(caDir, CA_FILES.key);
  const trustpointDir = join(dir, 'trustpoints', name);
  const paths = { caCertPath, caKeyPath, trustpointDir };
  // Looked at again with the lock held: another start may have made the CA or the trustpoint meanwhile.
  recoverPemSwaps(caDir);
  if (trustpointExists(trustpointDir)) {
    const caCertPem = existsSync(caCertPath) ? readText(caCertPath) : '';
    return { created: false, ...paths, caCertPem, trustpoint: loadTrustpoint(trustpointDir) };
  }
  const hasCert = existsSync(caCertPath);
  const hasKey = existsSync(caKeyPath);
  if (hasCert !== hasKey) {
    const why = hasCert
      ? `the CA certificate ${caCertPath} is there but the CA key ${caKeyPath} is missing (kept elsewhere?)`
      : `the CA key ${caKeyPath} is there but the CA certificate ${caCertPath} is missing`;
    throw pkiError('ERR_PKI_TRUSTPOINT_FILES', `cannot issue trustpoint ${name} in ${trustpointDir}: ${why}; a new CA is never made over `
      + `an existing one: put the CA ${hasCert ? 'key' : 'certificate'} back for this start, or give the trustpoint its key.pem and cert.pem`,
    { details: { trustpoint: name, missing: hasCert ? caKeyPath : caCertPath } });
  }
  if (!hasCert) {
    writeLocalCa(caDir, createLocalCa({ commonName: `trunkgate CA ${domain}`, ...(opts.key ? { key: opts.key } : {}), ...(opts.now ? { now: opts.now } : {}) }));
  }
  // The trustpoint is issued by the CA as the folder holds it, never by one only this process has seen.
  const ca: LocalCa = { certPem: readText(caCertPath), keyPem: readText(caKeyPath) };
  if (!new X509Certificate(ca.certPem).checkPrivateKey(loadPrivateKey(ca.keyPem))) {
    throw pkiError('ERR_PKI_KEY_MISMATCH', `cannot issue trustpoint ${name}: ${caKeyPath} is not the key of ${caCertPath}; nothing written`);
  }
  const trustpoint = issueGatewayCertificate(ca, { domain, ...(opts.key ? { key: opts.key } : {}), ...(opts.now ? { now: opts.now } : {}) });
  saveTrustpoint(trustpointDir, trustpoint);
  return { created: true, ...paths, caCertPem: ca.certPem, trustpoint };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot read ${path}`, { cause });
  }
}
