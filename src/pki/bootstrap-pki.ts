import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkiError } from './errors.js';
import type { KeySpec } from './key-pair.js';
import { createLocalCa, issueGatewayCertificate, type LocalCa } from './local-ca.js';
import { loadTrustpoint, saveTrustpoint, trustpointExists, writePemFile, type TrustpointMaterial } from './trustpoint.js';

export interface BootstrapPkiOptions {
  key?: KeySpec;
  trustpointName?: string;
  now?: Date;
}

export interface BootstrapPkiResult {
  /** True when this call created the CA or the trustpoint. */
  created: boolean;
  caCertPath: string;
  caKeyPath: string;
  trustpointDir: string;
  caCertPem: string;
  trustpoint: TrustpointMaterial;
}

/**
 * First start: with no trustpoint under `dir`, create `ca/ca.crt` + `ca/ca.key` and
 * `trustpoints/<name>/{key,cert,chain}.pem`, keys with mode 0600. Later starts load what is there.
 */
export function bootstrapPki(dir: string, domain: string, opts: BootstrapPkiOptions = {}): BootstrapPkiResult {
  const caDir = join(dir, 'ca');
  const caCertPath = join(caDir, 'ca.crt');
  const caKeyPath = join(caDir, 'ca.key');
  const trustpointDir = join(dir, 'trustpoints', opts.trustpointName ?? 'gw');
  let created = false;
  try {
    mkdirSync(caDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw pkiError('ERR_PKI_IO', `cannot create ${caDir}`, { cause });
  }
  let ca: LocalCa | undefined;
  if (existsSync(caCertPath) && existsSync(caKeyPath)) {
    ca = { certPem: readFileSync(caCertPath, 'utf8'), keyPem: readFileSync(caKeyPath, 'utf8') };
  }
  if (trustpointExists(trustpointDir)) {
    return {
      created,
      caCertPath,
      caKeyPath,
      trustpointDir,
      caCertPem: ca?.certPem ?? '',
      trustpoint: loadTrustpoint(trustpointDir),
    };
  }
  if (!ca) {
    ca = createLocalCa({ commonName: `trunkgate CA ${domain}`, ...(opts.key ? { key: opts.key } : {}), ...(opts.now ? { now: opts.now } : {}) });
    writePemFile(caKeyPath, ca.keyPem, true);
    writePemFile(caCertPath, ca.certPem, false);
    created = true;
  }
  const trustpoint = issueGatewayCertificate(ca, { domain, ...(opts.key ? { key: opts.key } : {}), ...(opts.now ? { now: opts.now } : {}) });
  saveTrustpoint(trustpointDir, trustpoint);
  return { created: true, caCertPath, caKeyPath, trustpointDir, caCertPem: ca.certPem, trustpoint };
}
