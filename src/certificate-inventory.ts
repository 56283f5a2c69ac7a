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
  for (const [name, tp] of Object.entries(config.trustpoints)) {
    try {
      const m = loadTrustpointEntry(name, tp);
      rows.push(rowOf(`trustpoint ${name}`, 'leaf', inspectCertificate(m.certPem), now));
      for (const c of m.chainPems) rows.push(rowOf(`trustpoint ${name}`, 'chain', inspectCertificate(c), now));
    } catch (e) {
      problems.push(`trustpoint ${name}: ${(e as Error).message}`);
    }
  }
  for (const [name, store] of Object.entries(config.trustStores)) {
    try {
      for (const c of trustStorePems(name, store)) rows.push(rowOf(`trust store ${name}`, 'ca', inspectCertificate(c), now));
    } catch (e) {
      problems.push(`trust store ${name}: ${(e as Error).message}`);
    }
  }
  return { rows, problems };
}

