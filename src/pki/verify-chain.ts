import type { X509Certificate } from 'node:crypto';
import { err, ok, type Result } from '../common/result.js';
import type { PkiErrorCode } from './errors.js';
import { caConstraints } from './ca-constraints.js';
import { parseCertificate } from './inspect-certificate.js';
import { pemBlocks, toPem } from './asn1-signing.js';

export interface VerifyChainOptions {
  /** The leaf certificate. */
  certPem: string;
  /** Intermediates (and optionally the root) sent along with the leaf, in any order. */
  chainPems?: string[];
  /** Trust anchors. When empty, the chain must end in a self-signed root it carries itself. */
  trustedPems?: string[];
  now?: Date;
}

export interface VerifiedChain {
  /** Leaf first, anchor last. */
  path: X509Certificate[];
}

/** Every certificate in a PEM bundle, each as its own PEM. */
export function splitPemBundle(pem: string): string[] {
  return pemBlocks(pem, 'CERTIFICATE').map((der) => toPem('CERTIFICATE', der));
}

function isSelfSigned(c: X509Certificate): boolean {
  return c.checkIssued(c) && c.verify(c.publicKey);
}

const nameOf = (c: X509Certificate): string => c.subject.replace(/\n/g, ', ');

/**
 * Whether `issuer` may sign the path below it (RFC 5280 §6.1.4 (k), (l), (n)): its keyUsage, when it has one, allows
 * keyCertSign, and its pathLenConstraint allows the CA certificates between it and the leaf (`below`, leaf first;
 * self-issued ones do not count). `openssl verify` refuses both the same way, so a peer would refuse the chain.
 */
function issuerProblem(issuer: X509Certificate, below: X509Certificate[]): string | undefined {
  let c;
  try {
    c = caConstraints(issuer);
  } catch (e) {
    return (e as Error).message;
  }
  if (!c.keyCertSign) return `${nameOf(issuer)} may not sign certificates: its keyUsage does not include keyCertSign`;
  const cas = below.slice(1).filter((x) => x.subject !== x.issuer).length;
  if (c.pathLen !== undefined && cas > c.pathLen) {
    return `path length constraint exceeded: ${nameOf(issuer)} allows ${c.pathLen} CA certificate${c.pathLen === 1 ? '' : 's'} below it (pathLenConstraint), the chain has ${cas}`;
  }
  return undefined;
}

function validityProblem(c: X509Certificate, now: Date): { code: PkiErrorCode; reason: string } | undefined {
  const from = new Date(c.validFrom).getTime();
  const to = new Date(c.validTo).getTime();
  if (now.getTime() < from) return { code: 'ERR_PKI_CERT_NOT_YET_VALID', reason: `${c.subject.replace(/\n/g, ', ')} is not valid before ${c.validFrom}` };
  if (now.getTime() > to) return { code: 'ERR_PKI_CERT_EXPIRED', reason: `${c.subject.replace(/\n/g, ', ')} expired ${c.validTo}` };
  return undefined;
}

/**
 * Builds the path leaf → … → anchor (RFC 5280 §6.1, names and signatures and validity, each issuer's CA flag,
 * keyUsage and pathLenConstraint; no policy or name constraints processing) and says why it cannot be built.
 */
export function verifyCertificateChain(opts: VerifyChainOptions): Result<VerifiedChain, PkiErrorCode> {
  const now = opts.now ?? new Date();
  let leaf: X509Certificate;
  const pool: X509Certificate[] = [];
  const anchors: X509Certificate[] = [];
  try {
    leaf = parseCertificate(opts.certPem);
    for (const p of opts.chainPems ?? []) for (const one of splitPemBundle(p)) pool.push(parseCertificate(one));
    for (const p of opts.trustedPems ?? []) for (const one of splitPemBundle(p)) anchors.push(parseCertificate(one));
  } catch {
    return err('ERR_PKI_CERT_INVALID', 'a certificate in the chain does not parse');
  }
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    const bad = validityProblem(current, now);
    if (bad) return err(bad.code, bad.reason);
    const anchor = anchors.find((a) => a.fingerprint256 === current.fingerprint256);
    if (anchor) return ok({ path });
    const issuers = [...anchors, ...pool].filter((c) => c.fingerprint256 !== current.fingerprint256 && c.subject === current.issuer);
    if (issuers.length === 0) {
      if (isSelfSigned(current) && anchors.length === 0) return ok({ path });
      return err('ERR_PKI_CHAIN_INCOMPLETE', `no issuer found for ${current.issuer.replace(/\n/g, ', ')}`);
    }
    const issuer = issuers.find((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (!issuer) {
      // OpenSSL's checkIssued also refuses an issuer whose keyUsage lacks keyCertSign: say so, not "signature".
      const signer = issuers.find((c) => current.verify(c.publicKey));
      const why = signer ? issuerProblem(signer, path) : undefined;
      if (why) return err('ERR_PKI_NOT_CA', why);
      return err('ERR_PKI_SIGNATURE_INVALID', `signature of ${current.subject.replace(/\n/g, ', ')} does not verify`);
    }
    // Node's `ca` is false for a keyUsage without keyCertSign too: the constraints first, for the precise reason.
    const constrained = issuerProblem(issuer, path);
    if (constrained) return err('ERR_PKI_NOT_CA', constrained);
    if (!issuer.ca) return err('ERR_PKI_NOT_CA', `${issuer.subject.replace(/\n/g, ', ')} is not a CA`);
    path.push(issuer);
    current = issuer;
    if (anchors.some((a) => a.fingerprint256 === issuer.fingerprint256)) {
      const b = validityProblem(issuer, now);
      return b ? err(b.code, b.reason) : ok({ path });
    }
    if (isSelfSigned(issuer)) {
      if (anchors.length > 0) return err('ERR_PKI_CHAIN_INCOMPLETE', `root ${issuer.subject.replace(/\n/g, ', ')} is not in the trust store`);
      const b = validityProblem(issuer, now);
      return b ? err(b.code, b.reason) : ok({ path });
    }
  }
  return err('ERR_PKI_CHAIN_INCOMPLETE', 'chain longer than 10 certificates');
}
