import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  CA_FILES, createLocalCa, exportCaCertificate, importTrustedCa, inspectCertificate, parseCertificate, pkiError, pkiLockPath, recoverPemSwaps,
  splitPemBundle, withPkiLock, writeLocalCa,
} from '../pki/index.js';
import { rowOf, type CertificateRow } from '../certificate-inventory.js';
import { checked, refuse } from './errors.js';
import { trustStoreFolder, type PkiConfig } from './names.js';

/**
 * Our CA (create, export), the CAs of a trust-store folder (add, remove: CUBE `crypto pki authenticate`, sipXecs
 * "Certificate Authorities") and a look at any PEM text.
 */

/**
 * The folder of our CA for a running gateway: `<pki>/ca` beside the `<pki>/trustpoints/<name>` folders the first
 * start created, the first that holds a ca.crt; else `pki/ca` as `trunkgate pki ca` defaults.
 */
export function caDirOf(config: PkiConfig): string {
  for (const tp of Object.values(config.trustpoints)) {
    if (!('dir' in tp)) continue;
    const dir = resolve(tp.dir);
    if (basename(dirname(dir)) !== 'trustpoints') continue;
    const ca = join(dirname(dirname(dir)), 'ca');
    if (existsSync(join(ca, 'ca.crt'))) return ca;
  }
  return resolve('pki', 'ca');
}

export interface CreateCaResult {
  created: boolean;
  certPath: string;
  keyPath: string;
}

/**
 * `trunkgate pki ca create`: a CA in `caDir` when there is none, its key (mode 0600) and certificate written together,
 * under the PKI folder's lock a first start takes too (bootstrapPki). A CA key without its certificate is refused
 * (ERR_PKI_TRUSTPOINT_FILES): it is never written over.
 */
export function createCa(caDir: string, commonName: string | undefined): CreateCaResult {
  const certPath = join(caDir, CA_FILES.cert);
  const keyPath = join(caDir, CA_FILES.key);
  try {
    mkdirSync(caDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot create ${caDir}`, { cause });
  }
  return withPkiLock(pkiLockPath(caDir), () => {
    recoverPemSwaps(caDir);
    if (existsSync(certPath)) return { created: false, certPath, keyPath };
    if (existsSync(keyPath)) {
      refuse('conflict', `${keyPath} is there without its certificate ${certPath}: put the certificate back, or move the key away for a new CA; `
        + 'nothing written', 'ERR_PKI_TRUSTPOINT_FILES');
    }
    writeLocalCa(caDir, createLocalCa({ commonName: commonName ?? 'trunkgate local CA' }));
    return { created: true, certPath, keyPath };
  });
}

/** Our CA's certificate for the far end to trust: PEM and DER. */
export function exportCa(caDir: string): { pem: string; der: Buffer; path: string } {
  const path = join(caDir, 'ca.crt');
  if (!existsSync(path)) refuse('missing', `no CA at ${path}: trunkgate pki ca create, or start the gateway once`);
  return { ...exportCaCertificate(readFileSync(path, 'utf8')), path };
}

export interface TrustedCaRow {
  subject: string;
  sha256: string;
  file: string;
}

export interface TrustAddResult extends TrustedCaRow {
  store: string;
  /** Every CA added, in the order of the PEM (one given twice, once); subject, sha256 and file above are the first's. */
  added: TrustedCaRow[];
}

/**
 * Adds every CA of the PEM (one, or a bundle) to a trust-store folder, each a file named by its fingerprint (the same
 * CA twice is one file); all or none: a certificate that is not a CA or out of its dates at `now` refuses them all.
 */
export function addTrustedCa(config: PkiConfig, store: string, pem: string, now: Date = new Date()): TrustAddResult {
  const dir = trustStoreFolder(config, store);
  const added = checked(() => importTrustedCa(dir, pem, now), `trust store ${store}: `)
    .map(({ info, file }): TrustedCaRow => ({ subject: info.subject.replace(/\n/g, ', '), sha256: info.fingerprint256, file }));
  return { store, ...added[0]!, added };
}

export interface TrustRemoveResult {
  store: string;
  /** The files removed. */
  removed: string[];
  /** Files of the folder that hold no certificate (notes, an empty file): left alone, as the TLS side ignores them. */
  skipped: string[];
}

/**
 * Removes the CAs of a trust-store folder whose SHA-256 fingerprint starts with `match` (at least 8 hex digits,
 * colons ignored), or, when `byFile`, the file of that name in the folder.
 *
 * The TLS side trusts every certificate of every `*.pem`/`*.crt` file (a file may be a bundle), so each file is
 * looked at whole: one all of whose certificates match goes; one that holds the CA beside other certificates
 * cannot lose it without losing them, so the task is refused naming it (ERR_PKI_TRUST_BUNDLE). Every file is
 * decided before any is removed: a refusal leaves the folder as it was, and a success means no file of the folder
 * still holds the CA.
 */
export function removeTrustedCa(config: PkiConfig, store: string, match: string, opts: { byFile?: boolean } = {}): TrustRemoveResult {
  const dir = trustStoreFolder(config, store);
  const want = match.replace(/:/g, '').toUpperCase();
  const matches = (fp: string | undefined): boolean => want.length >= 8 && fp !== undefined && fp.startsWith(want);
  const gone: string[] = [];
  const skipped: string[] = [];
  const bundles: string[] = [];
  for (const f of existsSync(dir) ? trustFiles(dir) : []) {
    if (opts.byFile && f === match) {
      gone.push(f);
      continue;
    }
    const fps = fingerprintsOf(join(dir, f));
    if (fps.length === 0) skipped.push(f);
    else if (fps.every(matches)) gone.push(f);
    else if (fps.some(matches)) bundles.push(f);
  }
  if (bundles.length > 0) {
    refuse('conflict', `trust store ${store}: the CA ${match} shares ${bundles.join(', ')} with other certificates, which removing the file would `
      + `stop trusting too; nothing removed: take it out of the bundle by hand`, 'ERR_PKI_TRUST_BUNDLE');
  }
  if (gone.length === 0) refuse('missing', `trust store ${store}: no CA matches ${match}`);
  for (const f of gone) rmSync(join(dir, f));
  return { store, removed: gone, skipped };
}

/** The files a trust-store folder is loaded from (loadTrustStore), in its order. */
function trustFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.(pem|crt)$/i.test(f)).sort();
}

/**
 * The SHA-256 fingerprint of each certificate of a file (colons dropped); `undefined` for a block that does not
 * parse, which still counts as another certificate of the file. None for a file with no certificate in it.
 */
function fingerprintsOf(path: string): (string | undefined)[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot read ${path}`, { cause });
  }
  return splitPemBundle(text).map((p) => {
    try {
      return parseCertificate(p).fingerprint256.replace(/:/g, '');
    } catch {
      return undefined;
    }
  });
}

/** Every certificate of a PEM text (a bundle shows each: the first as leaf, the rest as chain). */
export function inspectPem(text: string, where: string, now: Date): CertificateRow[] {
  return splitPemBundle(text).map((p, i) => rowOf(where, i === 0 ? 'leaf' : 'chain', checked(() => inspectCertificate(p), `certificate ${i + 1}: `), now));
}
