import type { GatewayConfig } from './config/index.js';
import { inspectCertificate, type CertificateInfo } from './pki/index.js';
import { loadTrustpointEntry, trustStorePems } from './tls-files.js';

/** One certificate as `pki list` and `pki inspect` show it. */
export interface CertificateRow {
  /** `trustpoint gw`, `trust store carriers`, or the file inspected. */
  where: string;
  /** leaf, chain or ca. */
  role: 'leaf' | 'chain' | 'ca';
  subject: string;
  san: string[];
  issuer: string;
  serial: string;
  sha256: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
}

const DAY = 86_400_000;

export function rowOf(where: string, role: CertificateRow['role'], info: CertificateInfo, now: Date): CertificateRow {
  return {
    where, role, subject: info.subject.replace(/\n/g, ', '), san: info.san.map(String), issuer: info.issuer.replace(/\n/g, ', '),
    serial: info.serialNumber, sha256: info.fingerprint256, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString(),
    daysLeft: Math.floor((info.notAfter.getTime() - now.getTime()) / DAY),
  };
}

/** Every certificate of every trustpoint (leaf and chain) and every trust store of a configuration. */
export function listCertificates(config: GatewayConfig, now: Date): { rows: CertificateRow[]; problems: string[] } {
  const rows: CertificateRow[] = [];
  const problems: string[] = [];
  // Each certificate on its own: one that does not parse is a problem of its own, and hides none of the others.
  const add = (owner: string, role: CertificateRow['role'], pem: string, which: string): void => {
    try {
      rows.push(rowOf(owner, role, inspectCertificate(pem), now));
    } catch (e) {
      problems.push(`${owner} (${which}): ${(e as Error).message}`);
    }
  };
  for (const [name, tp] of Object.entries(config.trustpoints)) {
    try {
      const m = loadTrustpointEntry(name, tp);
      add(`trustpoint ${name}`, 'leaf', m.certPem, 'certificate');
      m.chainPems.forEach((c, i) => add(`trustpoint ${name}`, 'chain', c, `chain certificate ${i + 1}`));
    } catch (e) {
      problems.push(`trustpoint ${name}: ${(e as Error).message}`);
    }
  }
  for (const [name, store] of Object.entries(config.trustStores)) {
    try {
      trustStorePems(name, store).forEach((c, i) => add(`trust store ${name}`, 'ca', c, `certificate ${i + 1}`));
    } catch (e) {
      problems.push(`trust store ${name}: ${(e as Error).message}`);
    }
  }
  return { rows, problems };
}

