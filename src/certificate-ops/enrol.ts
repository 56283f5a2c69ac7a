import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  createCsr, generateKeyPair, importSignedCertificate, inspectCertificate, loadPrivateKey, parseCertificate, saveTrustpoint,
  splitPemBundle, writePemFile, writePemFiles, type DistinguishedName, type KeySpec, type PemFile, type SanEntry,
} from '../pki/index.js';
import { loadTrustpointEntry, trustStorePems, type TrustpointEntry } from '../tls-files.js';
import { checked, refuse } from './errors.js';
import { checkLoadable } from './loadable.js';
import {
  keySpecOf, pendingKeyPath, sansOf, subjectOf, trustpointKeyPath, trustpointOf, type FieldNames, type PkiConfig,
} from './names.js';

/**
 * Enrolment of a trustpoint with an outside CA (CUBE `crypto pki enroll` and `crypto pki import`): a CSR whose new
 * key waits beside the trustpoint, then the certificate the CA signed, checked (key, chain, dates) before anything
 * is written and swapped in file by file (each an atomic rename) so a watching gateway picks it up.
 */

export interface CsrRequest {
  trustpoint: string;
  /** `CN=..,O=..,OU=..,C=..` */
  subject: string | undefined;
  /** `DNS:..,URI:sip:..,IP:..` */
  san?: string | undefined;
  /** ec:p256 (default), ec:p384, rsa:2048, rsa:3072, rsa:4096. */
  key?: string | undefined;
  /** Sign with the trustpoint's current key instead of a new one. */
  reuseKey?: boolean | undefined;
}

/** A CSR request checked and ready: what is left is to make the key (when a new one) and sign. */
export interface CsrPlan {
  trustpoint: string;
  entry: TrustpointEntry;
  subject: DistinguishedName;
  san: SanEntry[];
  /** The key to generate; absent when the current key is reused. */
  newKey: KeySpec | undefined;
}

export interface CsrResult {
  trustpoint: string;
  /** PKCS#10, PEM. */
  csrPem: string;
  /** Where the new key waits (mode 0600) until the signed certificate is imported; absent when the key was reused. */
  pendingKeyPath: string | undefined;
}

export function planCsr(config: PkiConfig, req: CsrRequest, f: FieldNames): CsrPlan {
  const entry = trustpointOf(config, req.trustpoint);
  const subject = subjectOf(req.subject, f);
  const san = sansOf(req.san, f);
  return { trustpoint: req.trustpoint, entry, subject, san, newKey: req.reuseKey ? undefined : keySpecOf(req.key, f) };
}

/** Signs the CSR with the new key (made by the caller from `plan.newKey`) or the current one; then the new key is kept. */
export function signCsr(plan: CsrPlan, newKeyPem: string | undefined): CsrResult {
  let keyPem = newKeyPem;
  if (keyPem === undefined) {
    try {
      keyPem = loadTrustpointEntry(plan.trustpoint, plan.entry).keyPem;
    } catch (e) {
      refuse('missing', `trustpoint ${plan.trustpoint} has no key to reuse yet (${(e as Error).message}): make a CSR with a new key`);
    }
  }
  const csrPem = checked(() => createCsr({ subject: plan.subject, privateKeyPem: keyPem, san: plan.san }));
  if (newKeyPem === undefined) return { trustpoint: plan.trustpoint, csrPem, pendingKeyPath: undefined };
  const pending = pendingKeyPath(plan.entry);
  mkdirSync(dirname(pending), { recursive: true, mode: 0o700 });
  writePemFile(pending, newKeyPem, true);
  return { trustpoint: plan.trustpoint, csrPem, pendingKeyPath: pending };
}

/** `trunkgate pki csr`: the whole of it in one call (the key made on this thread). */
export function createTrustpointCsr(config: PkiConfig, req: CsrRequest, f: FieldNames): CsrResult {
  const plan = planCsr(config, req, f);
  return signCsr(plan, plan.newKey ? generateKeyPair(plan.newKey).privateKeyPem : undefined);
}

export interface ImportRequest {
  trustpoint: string;
  /** The certificate the CA signed (PEM; further certificates after it are taken as its chain). */
  certPem: string;
  /** Intermediates and, when the CA sends it, the root (PEM bundle). */
  chainPem?: string | undefined;
  /** How the certificate and the chain are named in a refusal: their files, or "the certificate". */
  certLabel: string;
  chainLabel?: string;
  now?: Date;
}

export interface ImportResult {
  trustpoint: string;
  subject: string;
  sha256: string;
  notAfter: Date;
  /** Certificates above the leaf, as written to the chain files (0 when the trustpoint has none). */
  chainLength: number;
  /** The key it was issued for: the one a CSR left waiting, or the trustpoint's current one. */
  key: 'new' | 'current';
  /** The files written. */
  files: string[];
}

/** The keys a signed certificate may belong to: the one a CSR left waiting, then the trustpoint's own. */
function keyCandidates(name: string, tp: TrustpointEntry): { keyPem: string; from: string; pending: boolean }[] {
  const out: { keyPem: string; from: string; pending: boolean }[] = [];
  const pending = pendingKeyPath(tp);
  if (existsSync(pending)) {
    try {
      out.push({ keyPem: readFileSync(pending, 'utf8'), from: `${pending} (the new key of pki csr)`, pending: true });
    } catch {
      // unreadable (permissions): the trustpoint's own key may still match
    }
  }
  try {
    out.push({ keyPem: loadTrustpointEntry(name, tp).keyPem, from: `the key of trustpoint ${name} (${trustpointKeyPath(tp)})`, pending: false });
  } catch {
    // no trustpoint files yet: only the pending key can match
  }
  return out;
}

/** `trunkgate pki import`, POST /pki/import: every check first, then the files. */
export function importTrustpointCertificate(config: PkiConfig, req: ImportRequest): ImportResult {
  const name = req.trustpoint;
  const tp = trustpointOf(config, name);
  const bundle = splitPemBundle(req.certPem);
  const first = bundle[0] ?? refuse('bad-input', `${req.certLabel}: no certificate in it`, 'ERR_PKI_CERT_INVALID');
  const chainPems = req.chainPem === undefined ? [] : splitPemBundle(req.chainPem);
  if (req.chainPem !== undefined && chainPems.length === 0) refuse('bad-input', `${req.chainLabel ?? 'the chain'}: no certificate in it`, 'ERR_PKI_CERT_INVALID');
  const leaf = checked(() => parseCertificate(first), `${req.certLabel}: `);
  const candidates = keyCandidates(name, tp);
  // A key that cannot be read (a pending key an interrupted csr left truncated) is passed over, named in the refusal.
  const unreadable: string[] = [];
  const key = candidates.find((c) => {
    try {
      return leaf.checkPrivateKey(loadPrivateKey(c.keyPem));
    } catch {
      unreadable.push(c.from);
      return false;
    }
  }) ?? refuse('refused', `${req.certLabel} was not issued for ${candidates.map((c) => c.from).join(' or ') || `any key of trustpoint ${name}`}`
    + `${unreadable.length > 0 ? `; not readable as a private key: ${unreadable.join(', ')}` : ''}`, 'ERR_PKI_KEY_MISMATCH');
  // The chain must reach a root: the one the CA sent along when it did, else a CA of one of our trust stores.
  const sentRoot = [...bundle.slice(1), ...chainPems].some((p) => checked(() => inspectCertificate(p), `${req.chainLabel ?? 'the chain'}: `).selfSigned);
  const trusted = sentRoot ? undefined : Object.entries(config.trustStores).flatMap(([n, st]) => {
    try {
      return trustStorePems(n, st);
    } catch {
      return [];
    }
  });
  const now = req.now ?? new Date();
  const material = checked(() => importSignedCertificate({
    privateKeyPem: key.keyPem, certPem: req.certPem, chainPems, ...(trusted ? { trustedPems: trusted } : {}), now,
  }), `${req.certLabel} for trustpoint ${name}: `);
  // What each file will hold; the key last, so a watcher sees a matched pair; all or none (writePemFiles).
  const dir = 'dir' in tp ? resolve(tp.dir) : undefined;
  const out: PemFile[] = 'dir' in tp ? [] : [
    { path: resolve(tp.certificate), text: material.certPem, secret: false },
    ...chainFiles(name, tp, material.chainPems),
    { path: resolve(tp.key), text: material.keyPem, secret: true },
  ];
  const twice = out.find((f, i) => out.findIndex((g) => g.path === f.path) !== i);
  if (twice) {
    refuse('conflict', `trustpoint ${name} names ${twice.path} twice (certificate, key, chain): each needs a file of its own for an import`,
      'ERR_PKI_TRUSTPOINT_FILES');
  }
  // A trustpoint given by path with no chain file keeps no chain: the gateway loads the certificate file's first
  // certificate only, so the intermediates cannot ride along in it either. A profile using it then needs them from
  // its trust store; when it cannot find them the import is refused here, before the old files are touched.
  const noChainFile = !('dir' in tp) && tp.chain === undefined;
  const written = noChainFile ? [] : material.chainPems;
  checkLoadable(config, name, { certPem: material.certPem, chainPems: written }, now, req.certLabel,
    noChainFile && material.chainPems.length > 0
      ? `trustpoint ${name} names no chain file to hold the ${material.chainPems.length} certificate(s) above it; name one (chain:) beside its certificate and key`
      : undefined);
  const files: string[] = [];
  if (dir !== undefined) {
    saveTrustpoint(dir, material);
    files.push(...['key.pem', 'cert.pem', 'chain.pem'].map((f) => join(dir, f)));
  } else {
    writePemFiles(out);
    files.push(...out.map((f) => f.path));
  }
  if (key.pending) rmSync(pendingKeyPath(tp), { force: true });
  const info = inspectCertificate(material.certPem);
  return {
    trustpoint: name, subject: info.subject.replace(/\n/g, ', '), sha256: info.fingerprint256, notAfter: info.notAfter,
    chainLength: written.length, key: key.pending ? 'new' : 'current', files,
  };
}

/**
 * What the chain files of a trustpoint given by path are to hold, so that read in order, as the gateway reads them,
 * they are the chain as imported: one file takes the whole chain; several take one certificate each in path order
 * (the leaf's issuer first), the layout such a list has (an intermediate file, a root file). A chain that does not
 * fit them one each is refused before anything is written: writing the first alone would leave the others serving
 * the old chain after it. With no chain file named the chain is not written (the trustpoint sends its leaf alone;
 * checkLoadable refuses the import when a profile could not then build the chain from its trust store).
 */
function chainFiles(name: string, tp: { readonly chain?: string | readonly string[] }, chainPems: readonly string[]): PemFile[] {
  const files = (tp.chain === undefined ? [] : typeof tp.chain === 'string' ? [tp.chain] : [...tp.chain]).map((f) => resolve(f));
  if (files.length <= 1) return files.map((path) => ({ path, text: chainPems.join(''), secret: false }));
  if (files.length !== chainPems.length) {
    refuse('conflict', `trustpoint ${name} has ${files.length} chain files (${files.join(', ')}), one certificate each, but the chain imported has `
      + `${chainPems.length} certificates: name as many chain files as the chain has certificates, or one file for the whole chain`, 'ERR_PKI_TRUSTPOINT_FILES');
  }
  return files.map((path, i) => ({ path, text: chainPems[i]!, secret: false }));
}
