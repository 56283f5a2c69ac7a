// The TLS part of a reload (GatewayReloader in gateway-reload.ts): the profiles handed to the engine, which validates
// them before the swap, and the report of what changed or why the running set stays. And the counts of reloads.

import type { GatewayConfig } from './config/index.js';
import type { EngineSnapshot } from './engine/engine-snapshot.js';
import type { Gateway } from './gateway.js';
import type { Logger } from './log/index.js';
import type { ProfileInput } from './tls/index.js';
import { tlsProfileInputs } from './startup-tls.js';
import { errorProblem, type ReloadProblem, type ReloadTrigger, type TlsReloadReport } from './gateway-reload-types.js';

/** Reloads since start by trigger and outcome: `applied`, or the code of the first problem it was refused for. */
export class ReloadCounts {
  readonly #counts: Record<string, Record<string, number>> = {};

  count(trigger: ReloadTrigger, report: { ok: boolean; problems: readonly ReloadProblem[] }, fallback: string): void {
    const byOutcome = this.#counts[trigger] ??= {};
    const outcome = report.ok ? 'applied' : report.problems[0]?.code ?? fallback;
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
  }

  snapshot(): Record<string, Record<string, number>> {
    return structuredClone(this.#counts);
  }
}

async function snapshot(gateway: Gateway): Promise<EngineSnapshot | undefined> {
  try {
    return await gateway.engineSnapshot();
  } catch {
    return undefined;
  }
}

/** The certificates (server or client) that changed per profile kept across the swap: fingerprints before and after. */
function certificateChanges(before: EngineSnapshot | undefined, after: EngineSnapshot | undefined): TlsReloadReport['certificates'] {
  const old = new Map((before?.tls.profiles ?? []).map((p) => [p.name, p]));
  const certificates: TlsReloadReport['certificates'] = [];
  for (const p of after?.tls.profiles ?? []) {
    const o = old.get(p.name);
    if (!o) continue;
    if (o.certificate.fingerprint256 !== p.certificate.fingerprint256) {
      certificates.push({ profile: p.name, kind: 'server', from: o.certificate.fingerprint256, to: p.certificate.fingerprint256 });
    }
    const oc = o.clientCertificate ?? o.certificate;
    const pc = p.clientCertificate ?? p.certificate;
    if (oc.fingerprint256 !== pc.fingerprint256 && (o.clientCertificate || p.clientCertificate)) {
      certificates.push({ profile: p.name, kind: 'client', from: oc.fingerprint256, to: pc.fingerprint256 });
    }
  }
  return certificates;
}

/**
 * Hands the TLS profiles of `config` (or `inputs`, already read) to the engine: applied whole, or refused with every
 * problem and one log line while the running profiles keep serving.
 */
export async function reloadTlsProfiles(
  gateway: Gateway, log: Logger, trigger: ReloadTrigger, config: GatewayConfig, inputs?: ProfileInput[],
): Promise<TlsReloadReport> {
  const before = await snapshot(gateway);
  const refused = (problems: ReloadProblem[]): TlsReloadReport => {
    log.warn({ code: 'ERR_TLS_PROFILE_INVALID', trigger, problems }, `trunkgate: TLS reload refused; the running profiles keep serving: ${problems.map((p) => `${p.profile ? `${p.profile}: ` : ''}${p.message}`).join('; ')}`);
    return {
      ok: false, trigger, version: before?.tls.version ?? 0, profiles: before?.tls.profiles.map((p) => p.name) ?? [],
      added: [], removed: [], certificates: [], problems,
    };
  };
  let profiles: ProfileInput[];
  try {
    profiles = inputs ?? tlsProfileInputs(config);
  } catch (e) {
    return refused([errorProblem(e, 'ERR_CONFIG_INVALID')]);
  }
  let r;
  try {
    r = await gateway.reloadTls(profiles);
  } catch (e) {
    return refused([errorProblem(e, 'ERR_ENGINE_WORKER')]);
  }
  if (!r.ok) return refused(r.problems.map((p) => ({ code: p.code, message: p.reason, profile: p.profile })));
  const after = await snapshot(gateway);
  const old = new Set((before?.tls.profiles ?? []).map((p) => p.name));
  const certificates = certificateChanges(before, after);
  const report: TlsReloadReport = {
    ok: true, trigger, version: r.version, profiles: r.names,
    added: r.names.filter((n) => !old.has(n)), removed: [...old].filter((n) => !r.names.includes(n)),
    certificates, problems: [],
    ...(r.warnings && r.warnings.length > 0 ? { warnings: r.warnings.map((w) => ({ code: w.code, message: w.reason, profile: w.profile })) } : {}),
  };
  log.info({ code: 'EVT_RELOAD_APPLIED', trigger, version: r.version, added: report.added, removed: report.removed, certificates },
    `trunkgate: TLS profiles reloaded ${trigger === 'file' ? 'from disk' : `by ${trigger}`} (version ${r.version}${certificates.length > 0 ? `; new certificates for ${certificates.map((c) => c.profile).join(', ')}` : ''})`);
  return report;
}
