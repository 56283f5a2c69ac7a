import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { GatewayError } from './common/index.js';
import { loadTrustpoint, loadTrustStore, splitPemBundle, type TrustpointMaterial } from './pki/index.js';

/**
 * The files behind trustpoints and trust stores, in the forms the configuration allows: a trustpoint folder or its
 * files by path, a trust-store folder, bundle or list. A missing file is a configuration error naming it.
 */

/** A trustpoint as the (frozen) configuration holds it. */
export type TrustpointEntry =
  | { readonly dir: string }
  | { readonly certificate: string; readonly key: string; readonly chain?: string | readonly string[] };

function chainFiles(tp: { readonly chain?: string | readonly string[] }): string[] {
  return tp.chain === undefined ? [] : typeof tp.chain === 'string' ? [tp.chain] : [...tp.chain];
}

function read(label: string, file: string): string {
  const path = resolve(file);
  if (!existsSync(path)) throw new GatewayError('ERR_CONFIG_INVALID', `${label}: ${file} does not exist`);
  return readFileSync(path, 'utf8');
}

/** How a trustpoint is named in problems: its name and, for files by path, the certificate and key files. */
export function trustpointLabel(name: string, tp: TrustpointEntry): string {
  return 'dir' in tp ? `trustpoint ${name}` : `trustpoint ${name} (certificate ${tp.certificate}, key ${tp.key})`;
}

export function loadTrustpointEntry(name: string, tp: TrustpointEntry): TrustpointMaterial {
  if ('dir' in tp) return loadTrustpoint(resolve(tp.dir));
  const label = `trustpoint ${name}`;
  const chain = chainFiles(tp);
  return {
    certPem: read(label, tp.certificate),
    keyPem: read(label, tp.key),
    chainPems: chain.flatMap((f) => splitPemBundle(read(label, f))),
  };
}

/** Every CA certificate of a trust store, one PEM each. */
export function trustStorePems(name: string, store: string | readonly string[]): string[] {
  const paths = (typeof store === 'string' ? [store] : [...store]).map((p) => {
    if (!existsSync(resolve(p))) throw new GatewayError('ERR_CONFIG_INVALID', `trust store ${name}: ${p} does not exist`);
    return resolve(p);
  });
  return loadTrustStore(paths);
}

/** What to watch for a trustpoint or trust store: folders as folders, files as files (absolute paths). */
export function watchedPaths(entry: TrustpointEntry | string | readonly string[]): { dirs: string[]; files: string[] } {
  if (typeof entry === 'object' && !Array.isArray(entry)) {
    const tp = entry as TrustpointEntry;
    if ('dir' in tp) return { dirs: [resolve(tp.dir)], files: [] };
    return { dirs: [], files: [tp.certificate, tp.key, ...chainFiles(tp)].map((f) => resolve(f)) };
  }
  const list = typeof entry === 'string' ? [entry] : [...(entry as readonly string[])];
  const dirs: string[] = [];
  const files: string[] = [];
  for (const p of list.map((x) => resolve(x))) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      // not there (yet): watched as a file, through its folder
    }
    (isDir ? dirs : files).push(p);
  }
  return { dirs, files };
}
