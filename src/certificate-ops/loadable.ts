import { verifyCertificateChain } from '../pki/index.js';
import { trustStorePems } from '../tls-files.js';
import { refuse } from './errors.js';
import type { PkiConfig } from './names.js';

/**
 * Whether a trustpoint, as an import would leave its files, is one the gateway can load: a TLS profile builds its
 * chain from the certificate file's first certificate, the chain files and the CAs of the profile's own trust store
 * (buildTlsProfile), nothing else. An import checks its chain with everything it was given and every trust store,
 * so a chain it accepts may still be one a profile cannot build from what is written (no chain file to hold the
 * intermediates): the file-watch reload would then be refused, the old certificate serve from memory only, and the
 * next start fail. Checked before anything is written.
 */

/** Who loads trustpoint `name`: each TLS profile naming it, with the CAs of its trust store. */
function loadersOf(config: PkiConfig, name: string): { label: string; trusted: string[] }[] {
  const profiles = Object.entries(config.tlsProfiles ?? {}).filter(([, p]) => p.trustpoint === name || p.clientTrustpoint === name);
  if (profiles.length > 0) {
    return profiles.map(([n, p]) => ({
      label: `TLS profile ${n} (${p.trustStore === undefined ? 'no trust store' : `trust store ${p.trustStore}`})`,
      trusted: p.trustStore === undefined ? [] : storePems(config, p.trustStore),
    }));
  }
  // No profile uses it yet: one that will may name any trust store, so the chain must at least build with them all.
  return [{ label: 'a TLS profile using it', trusted: Object.keys(config.trustStores).flatMap((n) => storePems(config, n)) }];
}

/** A trust store that cannot be read gives a profile no CAs: it adds nothing to the chain a profile could build. */
function storePems(config: PkiConfig, store: string): string[] {
  const s = Object.hasOwn(config.trustStores, store) ? config.trustStores[store] : undefined;
  if (s === undefined) return [];
  try {
    return trustStorePems(store, s);
  } catch {
    return [];
  }
}

export interface WrittenTrustpoint {
  /** The leaf, as the certificate file will hold it. */
  certPem: string;
  /** What the chain files will hold, leaf's issuer first; empty when the trustpoint has no chain file. */
  chainPems: readonly string[];
}

/**
 * Refuses (ERR_PKI_IMPORT_UNUSABLE, 'refused') an import whose files, as they would be written, a TLS profile using
 * the trustpoint could not load. `why` says what keeps the chain off the disk, when something does.
 */
export function checkLoadable(config: PkiConfig, name: string, written: WrittenTrustpoint, now: Date, label: string, why: string | undefined): void {
  for (const l of loadersOf(config, name)) {
    const r = verifyCertificateChain({ certPem: written.certPem, chainPems: [...written.chainPems, ...l.trusted], now });
    if (r.ok) continue;
    refuse('refused', `${label} for trustpoint ${name}: ${l.label} could not load it as it would be written (${r.reason})`
      + `${why === undefined ? '' : `: ${why}`}; nothing written`, 'ERR_PKI_IMPORT_UNUSABLE');
  }
}
