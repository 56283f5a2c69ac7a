import { readFileSync } from 'node:fs';
import type { GatewayConfig } from './config/index.js';
import { inspectCertificate, type CertificateInfo } from './pki/index.js';
import { crlBlocks, parseCrl } from './tls/crl-check.js';
import { loadTrustpointEntry, trustStorePems } from './tls-files.js';

/** One certificate as `pki list` and `pki inspect` show it. */
export interface CertificateRow {
  /** `trustpoint gw`, `trust store carriers`, `CRL <file>`, or the file inspected. */
  where: string;
  /** leaf, chain, ca, or crl (a TLS profile's CRL: subject and issuer its issuer, notBefore..notAfter thisUpdate..nextUpdate). */
  role: 'leaf' | 'chain' | 'ca' | 'crl';
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

/** Every certificate of every trustpoint (leaf and chain) and every trust store of a configuration, and every TLS profile's CRL. */
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
  // Each CRL file once, however many profiles name it. One without nextUpdate never goes stale: it has no row.
  const crls = new Set(Object.values(config.tlsProfiles ?? {}).flatMap((p) => (p.revocation ? [p.revocation.crl].flat() : [])));
  for (const file of crls) {
    try {
      for (const der of crlBlocks(readFileSync(file, 'utf8'))) {
        const c = parseCrl(der);
        if (!c.nextUpdate) continue;
        rows.push({
          where: `CRL ${file}`, role: 'crl', subject: c.issuer, san: [], issuer: c.issuer, serial: c.crlNumber?.toLowerCase() ?? '', sha256: c.sha256,
          notBefore: c.thisUpdate.toISOString(), notAfter: c.nextUpdate.toISOString(), daysLeft: Math.floor((c.nextUpdate.getTime() - now.getTime()) / DAY),
        });
      }
    } catch (e) {
      problems.push(`CRL ${file}: ${(e as Error).message}`);
    }
  }
  return { rows, problems };
}

