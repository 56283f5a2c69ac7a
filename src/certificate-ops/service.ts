import { generateKeyPairAsync } from '../pki/index.js';
import type { CertificateRow } from '../certificate-inventory.js';
import { addTrustedCa, caDirOf, exportCa, inspectPem, removeTrustedCa, type TrustAddResult, type TrustRemoveResult } from './authorities.js';
import { importTrustpointCertificate, planCsr, signCsr, type CsrResult, type ImportResult } from './enrol.js';
import { API_FIELDS, type PkiConfig } from './names.js';

/**
 * The certificate tasks of `trunkgate pki` for a running gateway (the admin API's /pki routes): on the trustpoints
 * and trust stores of its running configuration, read at every call, so a reload that renames them is followed.
 * Refusals are CertificateTaskErrors; a key is made off the event loop; keys are never returned.
 */
export interface PkiService {
  /** Our CA's certificate. */
  caCertificate(): { pem: string; der: Buffer };
  csr(req: { trustpoint: string; subject: string; san?: string; key?: string; reuseKey?: boolean }): Promise<CsrResult>;
  importCertificate(req: { trustpoint: string; certificate: string; chain?: string }): ImportResult;
  trustAdd(req: { store: string; certificate: string }): TrustAddResult;
  /** `sha256`: the fingerprint or its start (8 hex digits at least), colons optional. */
  trustRemove(req: { store: string; sha256: string }): TrustRemoveResult;
  inspect(pem: string): CertificateRow[];
}

export interface PkiServiceOptions {
  /** The running configuration. */
  config: () => PkiConfig;
  /** Where our CA is; default: found from the configuration's trustpoints (caDirOf). */
  caDir?: string;
  /** Called after a task changed files (the certificate inventory reads them again). */
  changed?: () => void;
  now?: () => Date;
}

export function pkiService(o: PkiServiceOptions): PkiService {
  const now = (): Date => o.now?.() ?? new Date();
  const changed = <T>(r: T): T => {
    o.changed?.();
    return r;
  };
  return {
    caCertificate: () => exportCa(o.caDir ?? caDirOf(o.config())),
    async csr(req) {
      const plan = planCsr(o.config(), req, API_FIELDS);
      const key = plan.newKey ? (await generateKeyPairAsync(plan.newKey)).privateKeyPem : undefined;
      return signCsr(plan, key);
    },
    importCertificate: (req) => changed(importTrustpointCertificate(o.config(), {
      trustpoint: req.trustpoint, certPem: req.certificate, chainPem: req.chain, certLabel: 'the certificate', chainLabel: 'the chain', now: now(),
    })),
    trustAdd: (req) => changed(addTrustedCa(o.config(), req.store, req.certificate, now())),
    trustRemove: (req) => changed(removeTrustedCa(o.config(), req.store, req.sha256)),
    inspect: (pem) => inspectPem(pem, 'request', now()),
  };
}
