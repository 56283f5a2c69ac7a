import { closeSync, copyFileSync, existsSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GatewayError } from '../common/gateway-error.js';
import { attempt as quietly } from '../common/attempt.js';
import { pkiError } from './errors.js';
import { loadPrivateKey } from './key-pair.js';
import { parseCertificate } from './inspect-certificate.js';
import { splitPemBundle, verifyCertificateChain } from './verify-chain.js';

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

/** Writes a file readable only by its owner when `secret`, atomically (write and sync, then rename). */
export function writePemFile(path: string, text: string, secret: boolean): void {
  writePemFiles([{ path, text, secret }]);
}

export interface PemFile {
  path: string;
  text: string;
  /** Readable by its owner only (a key). */
  secret: boolean;
}

/**
 * Replaces several files together (a key with its certificate and chain), so that a failure part way never leaves
 * a key beside a certificate it does not belong to: each is written beside its target and synced to disk first;
 * then each is renamed in, in the order given, the old one kept as a hard link until all are in. When any step
 * fails, every file already replaced gets its old contents back from that link (renamed back, else its bytes copied
 * back) and nothing written here is left behind. A backup is only removed once its file is back: one that could not
 * be put back stays, and the error names it.
 */
export function writePemFiles(files: readonly PemFile[]): void {
  if (new Set(files.map((f) => f.path)).size !== files.length) throw new Error(`writePemFiles: a path given twice (${files.map((f) => f.path).join(', ')})`);
  // Names of this call only: a backup an earlier call could not put back holds the only copy of its file's old
  // contents, and a retry in the same process (PID 1 in a container) must not remove it.
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = (p: string): string => `${p}.tmp-${tag}`;
  const bak = (p: string): string => `${p}.bak-${tag}`;
  const replaced: { path: string; backedUp: boolean }[] = [];
  try {
    for (const f of files) writeSynced(tmp(f.path), f.text, f.secret);
    for (const f of files) {
      const backedUp = existsSync(f.path);
      if (backedUp) linkSync(f.path, bak(f.path));
      renameSync(tmp(f.path), f.path);
      replaced.push({ path: f.path, backedUp });
    }
  } catch (cause) {
    const stuck = replaced.reverse().filter((r) => !putBack(r.path, r.backedUp ? bak(r.path) : undefined));
    for (const f of files) {
      quietly(() => rmSync(tmp(f.path), { force: true }));
      if (!stuck.some((r) => r.path === f.path)) quietly(() => rmSync(bak(f.path), { force: true }));
    }
    const what = `cannot write ${files.map((f) => f.path).join(', ')}`;
    if (stuck.length === 0) throw pkiError('ERR_PKI_IO', `${what}; the files there before are kept`, { cause });
    throw pkiError('ERR_PKI_IO', `${what}; ${stuck.map((r) => (r.backedUp
      ? `${r.path} could not be put back: its previous content is in ${bak(r.path)}`
      : `${r.path} (new) could not be removed again`)).join('; ')}`, { cause, details: { notRestored: stuck.map((r) => r.path) } });
  }
  for (const r of replaced) if (r.backedUp) quietly(() => rmSync(bak(r.path), { force: true }));
}

/**
 * Gives a replaced file its old contents back from its backup (or removes it when it was new); false when it could
 * not. A rename is tried first (atomic, and it writes nothing); when it fails, the old bytes are copied over.
 */
function putBack(path: string, backup: string | undefined): boolean {
  if (backup === undefined) return quietly(() => rmSync(path, { force: true }));
  if (quietly(() => renameSync(backup, path))) return true;
  // copyFileSync gives the file the backup's mode too (0600 for a key).
  if (!quietly(() => copyFileSync(backup, path))) return false;
  quietly(() => rmSync(backup, { force: true }));
  return true;
}

function writeSynced(path: string, text: string, secret: boolean): void {
  const fd = openSync(path, 'w', secret ? 0o600 : 0o644);
  try {
    writeSync(fd, text);
    if (secret) fchmodSync(fd, 0o600);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export const TRUSTPOINT_FILES = { key: 'key.pem', cert: 'cert.pem', chain: 'chain.pem' } as const;

export function saveTrustpoint(dir: string, material: TrustpointMaterial): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot create ${dir}`, { cause });
  }
  writePemFiles([
    { path: join(dir, TRUSTPOINT_FILES.cert), text: material.certPem, secret: false },
    { path: join(dir, TRUSTPOINT_FILES.chain), text: material.chainPems.join(''), secret: false },
    { path: join(dir, TRUSTPOINT_FILES.key), text: material.keyPem, secret: true },
  ]);
}

export function trustpointExists(dir: string): boolean {
  return existsSync(join(dir, TRUSTPOINT_FILES.key)) && existsSync(join(dir, TRUSTPOINT_FILES.cert));
}

export function loadTrustpoint(dir: string): TrustpointMaterial {
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
