import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GatewayError } from './common/index.js';
import { listListeners, tenantsByServerName, type GatewayConfig } from './config/index.js';
import type { EngineListenerOptions } from './engine/engine.js';
import type { EngineTlsOptions } from './engine/engine-tls.js';
import { loadTrustpointEntry, trustpointLabel, trustStorePems, watchedPaths } from './tls-files.js';
import type { ProfileInput, TlsProfileSpec } from './tls/index.js';

function readPem(label: string, file: string): string {
  if (!existsSync(file)) throw new GatewayError('ERR_CONFIG_INVALID', `${label}: ${file} does not exist`);
  return readFileSync(file, 'utf8');
}

/** The one tenant using a profile, when exactly one does (it names the tenant of failures and SNI picks). */
function tenantOfProfile(config: GatewayConfig, profile: string): string | undefined {
  const users = Object.entries(config.tenants).filter(([, t]) => t.tlsProfile === profile).map(([n]) => n);
  return users.length === 1 ? users[0] : undefined;
}

/**
 * Every TLS profile of the configuration as the engine takes it: the spec, and the files it points at read
 * into PEM text (trustpoint, client trustpoint, trust store, CRL). Plain data, so it crosses into the engine
 * worker, where the contexts are built and validated. Files are read on every call: a reload reads them anew.
 */
export function tlsProfileInputs(config: GatewayConfig): ProfileInput[] {
  const out: ProfileInput[] = [];
  for (const [name, p] of Object.entries(config.tlsProfiles)) {
    const tp = config.trustpoints[p.trustpoint];
    if (!tp) throw new GatewayError('ERR_CONFIG_INVALID', `TLS profile ${name}: trustpoint ${p.trustpoint} is not defined`);
    const ctp = p.clientTrustpoint !== undefined ? config.trustpoints[p.clientTrustpoint] : undefined;
    const store = p.trustStore !== undefined ? config.trustStores[p.trustStore] : undefined;
    const crl = p.revocation ? (Array.isArray(p.revocation.crl) ? p.revocation.crl : [p.revocation.crl]) : [];
    const ciphers = p.ciphers !== undefined ? config.tlsCiphers[p.ciphers] : undefined;
    const tenant = tenantOfProfile(config, name);
    const spec: TlsProfileSpec = {
      name,
      ...(tenant !== undefined ? { tenant } : {}),
      ...(ciphers ? { ciphers: [...ciphers] } : {}),
      minVersion: p.minVersion,
      maxVersion: p.maxVersion,
      requireClientCertificate: p.requireClientCert,
      cnSanValidate: p.cnSanValidate,
      cnSan: [...p.cnSan],
      allowWildcard: p.allowWildcard,
      sni: p.sni,
      ...(p.sniName !== undefined ? { sniName: p.sniName } : {}),
      serverNames: [...p.serverNames],
      maxChainDepth: p.maxChainDepth,
      ...(p.dhparam !== undefined ? { dhparam: p.dhparam } : {}),
    };
    out.push({
      spec,
      material: {
        trustpoint: loadTrustpointEntry(p.trustpoint, tp),
        trustpointLabel: trustpointLabel(p.trustpoint, tp),
        ...(ctp ? { clientTrustpoint: loadTrustpointEntry(p.clientTrustpoint!, ctp), clientTrustpointLabel: trustpointLabel(p.clientTrustpoint!, ctp) } : {}),
        trustedCaPems: store !== undefined ? trustStorePems(p.trustStore!, store) : [],
        ...(crl.length > 0 ? { crlPems: crl.map((f) => readPem(`TLS profile ${name} CRL`, f)), crlLabels: [...crl] } : {}),
      },
    });
  }
  return out;
}

/**
 * The engine's listeners. A TLS listener serves its profile by default; on a shared listener an SNI may pick
 * the profile of a tenant that has no TLS listener of its own; a tenant's own listener serves its profile only.
 */
export function engineListeners(config: GatewayConfig): EngineListenerOptions[] {
  const all = listListeners(config);
  const ownTls = new Set(all.filter((l) => !l.shared && l.transport === 'tls').map((l) => l.tenant));
  const sharing = Object.entries(config.tenants)
    .filter(([n, t]) => t.tlsProfile !== undefined && !ownTls.has(n))
    .map(([, t]) => t.tlsProfile!);
  return all.map((l, i) => {
    // A tenant's own listener fails alone; the shared ones (gateway.listen) are needed to start.
    const base = {
      transport: l.transport, host: l.host, port: l.port, ...(l.tenant !== undefined ? { tenant: l.tenant } : {}), ...(l.shared ? {} : { optional: true }),
    };
    if (l.transport !== 'tls') return base;
    if (l.tlsProfile === undefined) throw new GatewayError('ERR_CONFIG_INVALID', `TLS listener ${l.host}:${l.port} has no TLS profile`);
    const shared = l.shared ? config.gateway.listen[i] : undefined;
    return {
      ...base,
      tlsProfile: l.tlsProfile,
      sniProfiles: l.shared ? [...new Set([l.tlsProfile, ...sharing])] : [l.tlsProfile],
      ...(shared?.refuseUnknownSni ? { refuseUnknownSni: true } : {}),
    };
  });
}

/** The engine's TLS options from the configuration. */
export function engineTlsOptions(config: GatewayConfig): EngineTlsOptions {
  return { profiles: tlsProfileInputs(config), tenantsByServerName: tenantsByServerName(config) };
}

/** Every file the TLS profiles are built from: trustpoint folders, trust store files and CRLs (absolute paths). */
export function tlsFilePaths(config: GatewayConfig): { dirs: string[]; files: string[] } {
  const dirs = new Set<string>();
  const files = new Set<string>();
  const add = (w: { dirs: string[]; files: string[] }): void => {
    for (const d of w.dirs) dirs.add(d);
    for (const f of w.files) files.add(f);
  };
  for (const p of Object.values(config.tlsProfiles)) {
    for (const tpName of [p.trustpoint, p.clientTrustpoint]) {
      const tp = tpName !== undefined ? config.trustpoints[tpName] : undefined;
      if (tp) add(watchedPaths(tp));
    }
    const store = p.trustStore !== undefined ? config.trustStores[p.trustStore] : undefined;
    if (store !== undefined) add(watchedPaths(store));
    const crl = p.revocation ? (Array.isArray(p.revocation.crl) ? p.revocation.crl : [p.revocation.crl]) : [];
    for (const f of crl) files.add(resolve(f));
  }
  return { dirs: [...dirs], files: [...files] };
}

// The watch of those files lives in tls-file-watch.ts; callers take it from here with the paths it watches.
export { watchTlsFiles, type TlsFileWatcher } from './tls-file-watch.js';
