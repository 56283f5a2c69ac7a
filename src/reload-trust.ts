import type { TrustPlan } from './config/index.js';
import type { Gateway } from './gateway.js';
import { errorProblem, type ReloadProblem, type ReloadTrigger, type TrustReloadReport } from './gateway-reload-types.js';
import type { Logger } from './log/index.js';

/** What asking the engine for a new trust plan came to. */
export type TrustApplyOutcome =
  /** The engine took it (report.ok), or could not and keeps its running plan (report.ok false, with its problems). */
  | { kind: 'reported'; report: TrustReloadReport; warnings: ReloadProblem[] }
  /** The engine was started without trusted sources and checks none: only a restart starts the check. */
  | { kind: 'not-enforced'; reason: string };

/**
 * Asks the running engine to put `plan` in force (Gateway.reloadTrust): its names are resolved and its lists built
 * there before the swap. A failure (the engine worker did not answer, or an external drachtio-server, which has no
 * trusted sources of ours) is reported and leaves the running plan; names that did not resolve are warnings.
 */
export async function applyTrustPlan(gateway: Pick<Gateway, 'reloadTrust'>, plan: TrustPlan, log: Logger, trigger: ReloadTrigger): Promise<TrustApplyOutcome> {
  const hosts = new Set(plan.tenants.flatMap((t) => t.hosts)).size;
  const failed = (problem: ReloadProblem): TrustApplyOutcome => {
    // drachtio-server (external mode) checks no trusted sources of ours: there is no running plan to keep.
    const message = `trusted sources not applied${problem.code === 'ERR_ADMIN_ENGINE_EXTERNAL' ? '' : '; the running ones stay'}: ${problem.message}`;
    log.warn({ code: problem.code, trigger }, `trunkgate: ${message}`);
    return {
      kind: 'reported',
      report: { ok: false, tenants: plan.tenants.length, hosts, unresolved: [], problems: [problem] },
      warnings: [{ code: problem.code, message, path: 'tenants' }],
    };
  };
  let r;
  try {
    r = await gateway.reloadTrust(plan);
  } catch (e) {
    return failed(errorProblem(e, 'ERR_ENGINE_WORKER'));
  }
  if (!r.ok) {
    if (!r.enforced) {
      return { kind: 'not-enforced', reason: `${r.reason}; the tenants' trusted sources (targets, trustedSources, gateway.untrusted) start to be checked at a restart` };
    }
    return failed({ code: r.code, message: r.reason });
  }
  const warnings = r.unresolved.map((host): ReloadProblem => ({
    code: 'ERR_ENGINE_TRUST_RESOLVE', path: 'tenants',
    message: `trusted source ${host} did not resolve; the addresses it had before stay trusted (none if it is new)`,
  }));
  log.info({ code: 'EVT_RELOAD_APPLIED', trigger, tenants: r.tenants, hosts: r.hosts, unresolved: r.unresolved },
    `trunkgate: trusted sources applied (${r.tenants} tenant${r.tenants === 1 ? '' : 's'}, ${r.hosts} host name${r.hosts === 1 ? '' : 's'}${r.unresolved.length > 0 ? `; unresolved: ${r.unresolved.join(', ')}` : ''})`);
  return { kind: 'reported', report: { ok: true, tenants: r.tenants, hosts: r.hosts, unresolved: r.unresolved, problems: [] }, warnings };
}
