import { readFileSync } from 'node:fs';
import { inspectPem } from '../certificate-ops/index.js';
import type { CertificateRow } from '../certificate-inventory.js';

export { listCertificates, type CertificateRow } from '../certificate-inventory.js';

/** Every certificate in a PEM file (a bundle shows each). */
export function inspectFile(file: string, now: Date): CertificateRow[] {
  return inspectPem(readFileSync(file, 'utf8'), file, now);
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
