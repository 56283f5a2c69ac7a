import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { normalizeDnsName } from '../common/peer-name.js';
import type { ConfigPath } from './config-path.js';
import type { ConfigSections } from './config-schema.js';
import type { ConfigProblemCode } from './errors.js';
import type { ListenerSpec } from './list-listeners.js';

type Problem = (code: ConfigProblemCode, path: ConfigPath, message: string, related?: ConfigPath) => void;

/**
 * Whether a trustpoint folder holds its key and certificate: key.pem and cert.pem, the files src/pki/trustpoint.ts
 * names (TRUSTPOINT_FILES). The start passes the PKI layer's own test; this is the same test for the loader alone.
 */
export function trustpointFolderReady(dir: string): boolean {
  return existsSync(join(dir, 'key.pem')) && existsSync(join(dir, 'cert.pem'));
}

/**
 * A trustpoint given as a folder must hold its key and certificate, except where the first start creates it
 * (src/startup.ts): `<pki>/trustpoints/<name>`, with a local CA in `<pki>/ca`. A folder anywhere else is the
 * administrator's to provision, so one that is not there would stop the next start.
 * `resolved` holds the folders as absolute paths (resolveConfigPaths).
 */
export function checkTrustpointFolders(resolved: ConfigSections['trustpoints'], ready: (dir: string) => boolean, problem: Problem): void {
  for (const [name, tp] of Object.entries(resolved)) {
    if (!('dir' in tp)) continue;
    const dir = resolve(tp.dir);
    if (ready(dir)) continue;
    if (basename(dirname(dir)) === 'trustpoints' && basename(dir) === name) continue;
    problem('ERR_CONFIG_REFERENCE', ['trustpoints', name, 'dir'],
      `no key.pem and cert.pem in ${dir}: a trustpoint is created on first start only as <pki>/trustpoints/${name}; provision this folder or name that one`);
  }
}

/**
 * gateway.policy bridge sends every call to the default tenant's sipServer, one fixed host:port (the bridge
 * resolves no names): without it the gateway cannot start.
 */
export function checkBridgeTarget(config: ConfigSections, definedTenants: ReadonlySet<string>, problem: Problem): void {
  if (config.gateway.policy !== 'bridge') return;
  const name = config.gateway.defaultTenant;
  if (name === undefined) {
    problem('ERR_CONFIG_REFERENCE', ['gateway', 'defaultTenant'],
      'gateway.policy bridge sends every call to the default tenant\'s sipServer: name a tenant with one host:port sipServer');
    return;
  }
  // An undefined tenant is reported as a reference; one that failed the schema, as that.
  const t = config.tenants[name];
  if (t === undefined || !definedTenants.has(name)) return;
  if (t.sipServer === undefined || t.sipServer.startsWith('dns:')) {
    problem('ERR_CONFIG_TENANT', ['tenants', name, 'sipServer'],
      `gateway.policy bridge sends every call to the default tenant's sipServer: tenant ${name} needs one host:port sipServer${t.sipServer !== undefined ? ', not a dns: name' : ''}`,
      ['gateway', 'defaultTenant']);
  }
}

/**
 * On a shared TLS listener an SNI picks the profile that lists it (src/tls/sni.ts), and a connection is counted under
 * that profile's tenant. The same server name (compared as the SNI is: case, a trailing dot) in two profiles one
 * listener serves would let a client verified by one profile's trust store be taken for the other's tenant.
 * The profiles a shared listener serves are its own and those of tenants with no TLS listener of their own
 * (engineListeners in src/startup-tls.ts); a tenant's own listener serves its profile only.
 */
export function checkSharedServerNames(config: ConfigSections, listeners: readonly ListenerSpec[], problem: Problem): void {
  const ownTls = new Set(listeners.filter((l) => !l.shared && l.transport === 'tls').map((l) => l.tenant));
  const sharing = Object.entries(config.tenants).filter(([n, t]) => t.tlsProfile !== undefined && !ownTls.has(n)).map(([, t]) => t.tlsProfile!);
  const reported = new Set<string>();
  for (const l of listeners) {
    if (!l.shared || l.transport !== 'tls' || l.tlsProfile === undefined) continue;
    const first = new Map<string, { profile: string; index: number }>();
    for (const profile of new Set([l.tlsProfile, ...sharing])) {
      const names = config.tlsProfiles[profile]?.serverNames ?? [];
      names.forEach((n, index) => {
        const key = normalizeDnsName(n);
        const seen = first.get(key);
        if (seen === undefined) {
          first.set(key, { profile, index });
          return;
        }
        if (seen.profile === profile || reported.has(`${profile}\n${index}`)) return;
        reported.add(`${profile}\n${index}`);
        problem('ERR_CONFIG_TLS_PROFILE', ['tlsProfiles', profile, 'serverNames', index],
          `server name ${key} is also listed by TLS profile ${seen.profile}, served on the same listener ${l.host}:${l.port}: an SNI must pick one profile`,
          ['tlsProfiles', seen.profile, 'serverNames', seen.index]);
      });
    }
  }
}
