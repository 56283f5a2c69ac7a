import { readFileSync } from 'node:fs';
import type { GatewayConfig } from '../config/index.js';
import { inspectCertificate, splitPemBundle, type CertificateInfo } from '../pki/index.js';
import { loadTrustpointEntry, trustStorePems } from '../tls-files.js';

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

/** Every certificate in a PEM file (a bundle shows each). */
export function inspectFile(file: string, now: Date): CertificateRow[] {
  const pems = splitPemBundle(readFileSync(file, 'utf8'));
  return pems.map((p, i) => rowOf(file, i === 0 ? 'leaf' : 'chain', inspectCertificate(p), now));
}

/** The rows as text: one block per certificate, the fields an administrator checks, expiry first. */
export function formatRows(rows: CertificateRow[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const left = r.daysLeft < 0 ? `EXPIRED ${-r.daysLeft} days ago` : `${r.daysLeft} days left`;
    out.push(`${r.where} (${r.role}): ${r.subject}`);
    out.push(`  expires ${r.notAfter} (${left}); valid from ${r.notBefore}`);
    if (r.san.length > 0) out.push(`  SAN ${r.san.join(', ')}`);
    out.push(`  issuer ${r.issuer}`);
    out.push(`  serial ${r.serial}`);
    out.push(`  SHA-256 ${r.sha256}`);
  }
  return out;
}
