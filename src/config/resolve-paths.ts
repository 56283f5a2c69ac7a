import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConfigPath } from './config-path.js';
import type { ConfigSections } from './config-schema.js';
import type { Location } from './merge-documents.js';

/**
 * File paths in the configuration (trustpoint folders and files, trust stores, CRL files) are relative to the
 * folder of the file that names them, as kamailio's `include_file` and CUBE's `flash:` paths are: the same
 * profiles work whatever the working directory of the process. An entry with no file of its own (built in
 * code, not read from a file) resolves against the working directory; the CDR paths' defaults, against the profiles
 * folder when it is given. The result holds absolute paths only.
 */
export function resolveConfigPaths(sections: ConfigSections, locate: (path: ConfigPath) => Location, profilesDir?: string): ConfigSections {
  const base = (path: ConfigPath): string => {
    const file = locate(path).file;
    return file === undefined ? process.cwd() : dirname(resolve(file));
  };
  // A default no file names (the CDR file's) is relative to the profiles folder, as if its files named it.
  const baseOrProfiles = (path: ConfigPath): string => (locate(path).file === undefined && profilesDir !== undefined ? resolve(profilesDir) : base(path));
  const abs = (from: string, p: string): string => (isAbsolute(p) ? p : resolve(from, p));
  const absAll = <T extends string | readonly string[]>(from: string, v: T): T =>
    (typeof v === 'string' ? abs(from, v) : v.map((p) => abs(from, p))) as T;

  const trustpoints: ConfigSections['trustpoints'] = {};
  for (const [name, tp] of Object.entries(sections.trustpoints)) {
    const from = base(['trustpoints', name]);
    trustpoints[name] = 'dir' in tp
      ? { dir: abs(from, tp.dir) }
      : {
          certificate: abs(from, tp.certificate),
          key: abs(from, tp.key),
          ...(tp.chain !== undefined ? { chain: absAll(from, tp.chain) } : {}),
        };
  }
  const trustStores: ConfigSections['trustStores'] = {};
  for (const [name, store] of Object.entries(sections.trustStores)) trustStores[name] = absAll(base(['trustStores', name]), store);
  const tlsProfiles: ConfigSections['tlsProfiles'] = {};
  for (const [name, p] of Object.entries(sections.tlsProfiles)) {
    tlsProfiles[name] = p.revocation === undefined
      ? p
      : { ...p, revocation: { crl: absAll(base(['tlsProfiles', name]), p.revocation.crl) } };
  }
  const { file, postgres } = sections.cdr;
  const cdr: ConfigSections['cdr'] = {
    file: { ...file, path: abs(baseOrProfiles(['cdr', 'file', 'path']), file.path) },
    ...(postgres ? { postgres: { ...postgres, queueDir: abs(baseOrProfiles(['cdr', 'postgres', 'queueDir']), postgres.queueDir), ...(postgres.tls ? { tls: dbTlsPaths(postgres.tls, base(['cdr', 'postgres', 'tls'])) } : {}) } } : {}),
  };
  return { ...sections, trustpoints, trustStores, tlsProfiles, cdr };
}

type DbTls = NonNullable<NonNullable<ConfigSections['cdr']['postgres']>['tls']>;

/** The CDR database's CA, certificate and key paths, each made absolute against the file that names them. */
function dbTlsPaths(t: DbTls, from: string): DbTls {
  return {
    ...t,
    ...(t.ca !== undefined ? { ca: resolve(from, t.ca) } : {}),
    ...(t.cert !== undefined ? { cert: resolve(from, t.cert) } : {}),
    ...(t.key !== undefined ? { key: resolve(from, t.key) } : {}),
  };
}
