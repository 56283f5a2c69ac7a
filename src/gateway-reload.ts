import { validateCipherName } from './tls/cipher-names.js';
import {
  b2buaPolicyFromConfig, trustPlanFromConfig, formatProblem, readConfigDocumentsStable, reloadConfig, type ConfigProblem, type GatewayConfig,
  type StableReadOptions,
} from './config/index.js';
import type { Gateway } from './gateway.js';
import type { Logger } from './log/index.js';
import type { ProfileInput } from './tls/index.js';
import { engineListeners, tlsFilePaths, tlsProfileInputs, watchTlsFiles, type TlsFileWatcher } from './startup-tls.js';
import { ReloadCounts, reloadTlsProfiles } from './gateway-reload-tls.js';
import { errorProblem, type ConfigReloadReport, type NeedsRestart, type ReloadProblem, type ReloadTrigger, type TlsReloadReport, type TrustReloadReport } from './gateway-reload-types.js';
import type { TrustPlan } from './config/index.js';
import { applyTrustPlan } from './reload-trust.js';
import { retryFailedListeners } from './reload-listeners.js';
import { limitsReload } from './reload-limits.js';

export type {
  ConfigReloadReport, ListenersReloadReport, NeedsRestart, ReloadProblem, ReloadTrigger, TlsReloadReport, TrustReloadReport,
} from './gateway-reload-types.js';

export interface GatewayReloaderOptions {
  gateway: Gateway;
  /** The profiles directory the gateway was started from; every configuration reload reads it again. */
  profilesDir: string;
  /** The configuration the gateway runs. */
  config: GatewayConfig;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** The clock and waits of the read that waits out files still being written (tests); absent: the system's. */
  stableRead?: StableReadOptions;
}

const TLS_SECTIONS = ['trustpoints', 'trustStores', 'tlsCiphers', 'tlsProfiles', 'tenants'];

function fromConfigProblem(p: ConfigProblem): ReloadProblem {
  return { code: p.code, message: p.message, path: p.path, ...(p.file !== undefined ? { file: p.file } : {}), ...(p.line !== undefined ? { line: p.line } : {}) };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Reloads a running gateway: the TLS profiles (files changed on disk, or asked for), and the whole
 * configuration (SIGHUP, the admin API). A configuration is validated in full first; a bad one is refused
 * with every problem and the running one stays. A good one swaps the TLS profiles (new handshakes use them),
 * the engine's trusted sources (new requests are judged by them) and the b2bua's policy (new calls use it; calls
 * in progress go on), the Retry-After of every 503, and tries again the tenant listeners that could not bind at start; listener, control,
 * admin and other limit changes are reported as needing a restart. Reloads run one at a time, in the order asked.
 */
export class GatewayReloader {
  readonly #reloads = new ReloadCounts();
  readonly #tlsReloads = new ReloadCounts();
  readonly #o: GatewayReloaderOptions;
  /** The configuration the sockets, the control endpoint and the routing mode were started with. */
  readonly #started: GatewayConfig;
  #config: GatewayConfig;
  /** The trust plan the engine runs: the one it started with, then each one it took (a failed apply leaves it). */
  #trustPlan: TrustPlan;
  #queue: Promise<unknown> = Promise.resolve();
  #watch: TlsFileWatcher | undefined;
  #watching = false;
  #closed = false;

  constructor(options: GatewayReloaderOptions) {
    this.#o = options;
    this.#started = options.config;
    this.#config = options.config;
    this.#trustPlan = trustPlanFromConfig(options.config);
  }

  /** The configuration in effect (the last one accepted). */
  get config(): GatewayConfig {
    return this.#config;
  }

  /** Reloads the TLS profiles of the running configuration from their files. */
  reloadTls(trigger: ReloadTrigger): Promise<TlsReloadReport> {
    return this.#serial(() => this.#reloadTls(trigger, this.#config));
  }

  /** Reads the profiles directory again and applies it, or keeps the running configuration and says why. */
  reloadConfig(trigger: ReloadTrigger): Promise<ConfigReloadReport> {
    return this.#serial(async () => {
      const report = await this.#reloadConfig(trigger);
      this.#reloads.count(trigger, report, 'ERR_CONFIG_INVALID');
      return report;
    });
  }

  /** Configuration reloads since start, by trigger and outcome (applied, or the first problem's code). */
  reloadCounts(): Record<string, Record<string, number>> {
    return this.#reloads.snapshot();
  }

  /**
   * TLS profile reloads since start, by trigger (file, api, signal) and outcome: each file-watch or API TLS reload,
   * and the TLS part of a configuration reload that changed the TLS sections.
   */
  tlsReloadCounts(): Record<string, Record<string, number>> {
    return this.#tlsReloads.snapshot();
  }

  /**
   * Watches the files the TLS profiles are built from (trustpoints, trust stores, CRLs) and reloads the
   * profiles when one changes; after a configuration reload the watch follows the new files.
   */
  watchTlsFiles(debounceMs?: number): void {
    if (this.#closed) return;
    this.#watching = true;
    this.#watch?.close();
    // Nothing awaits a reload a file change starts: whatever it throws is logged here, never left unhandled.
    const reload = () => void this.reloadTls('file').catch((err: unknown) =>
      this.#o.log.error({ err, code: 'ERR_TLS_PROFILE_INVALID', trigger: 'file' }, 'trunkgate: TLS reload on a file change failed; the running profiles keep serving'));
    this.#watch = watchTlsFiles(tlsFilePaths(this.#config), reload,
      { log: this.#o.log, ...(debounceMs !== undefined ? { debounceMs } : {}) });
  }

  /** Stops watching files. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#watch?.close();
    this.#watch = undefined;
  }

  #serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job, job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Every TLS reload, alone or inside a configuration reload, goes through here and is counted. */
  async #reloadTls(trigger: ReloadTrigger, config: GatewayConfig, inputs?: ProfileInput[]): Promise<TlsReloadReport> {
    const report = await reloadTlsProfiles(this.#o.gateway, this.#o.log, trigger, config, inputs);
    this.#tlsReloads.count(trigger, report, 'ERR_TLS_PROFILE_INVALID');
    return report;
  }

  async #reloadConfig(trigger: ReloadTrigger): Promise<ConfigReloadReport> {
    const { log, env, gateway } = this.#o;
    const current = this.#config;
    // Files still being written are waited for (or refused), and a file the running configuration has content from
    // that is now empty is refused: both are a file caught mid-write, not a new configuration.
    const read = await readConfigDocumentsStable(this.#o.profilesDir, this.#o.stableRead);
    const r = reloadConfig(current, this.#o.profilesDir, { validateCipherName, env, read });
    const warnings = r.warnings.map(fromConfigProblem);
    const refuse = (changed: string[], problems: ReloadProblem[], tls?: TlsReloadReport): ConfigReloadReport => {
      log.warn({ code: 'ERR_CONFIG_INVALID', trigger, problems }, `trunkgate: configuration reload refused; the running configuration stays (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
      for (const p of problems) log.warn({ trigger, code: p.code }, `trunkgate: reload: ${p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : ''}${p.path ? `${p.path}: ` : ''}${p.profile ? `${p.profile}: ` : ''}${p.message} [${p.code}]`);
      return { ok: false, trigger, changed, applied: [], needsRestart: [], problems, warnings, ...(tls ? { tls } : {}) };
    };
    if (!r.ok) {
      for (const p of r.problems) log.debug(formatProblem(p));
      return refuse([], r.problems.map(fromConfigProblem));
    }
    const next = r.config;
    const changed = r.changed;
    const needsRestart: NeedsRestart[] = [];

    // What a running gateway cannot change: its sockets, and which mode the b2bua runs in. Compared with the
    // configuration it started with, so a change still waiting for a restart is reported by every later reload.
    const started = this.#started;
    let listenersChanged = false;
    try {
      listenersChanged = !same(engineListeners(started), engineListeners(next));
    } catch (e) {
      return refuse(changed, [errorProblem(e, 'ERR_CONFIG_INVALID')]);
    }
    if (listenersChanged) needsRestart.push({ what: 'listeners', reason: 'SIP listeners (ports, addresses, transports, their TLS profile or SNI choices) are opened at start' });
    if (!same(started.gateway.engine, next.gateway.engine)) needsRestart.push({ what: 'gateway.engine', reason: 'the drachtio control endpoint is opened at start' });
    if (!same(started.gateway.admin, next.gateway.admin)) needsRestart.push({ what: 'gateway.admin', reason: 'the admin API listens where it was started' });
    const limits = limitsReload(started.gateway.limits, current.gateway.limits, next.gateway.limits);
    if (limits.needsRestart) needsRestart.push(limits.needsRestart);
    if (!same(started.cdr, next.cdr)) needsRestart.push({ what: 'cdr', reason: 'the CDR file and database are opened at start' });
    if (started.gateway.policy !== next.gateway.policy) {
      needsRestart.push({ what: 'gateway.policy', reason: `the gateway started with policy ${started.gateway.policy}; the mode changes at a restart` });
    }

    // Routing: build the new policy before anything is applied, so a failure leaves everything as it was.
    const running = gateway.b2bua.policy;
    let policy;
    if (running) {
      try {
        policy = b2buaPolicyFromConfig(next, env);
      } catch (e) {
        return refuse(changed, [errorProblem(e, 'ERR_CONFIG_INVALID')]);
      }
      if (same(policy, running)) policy = undefined;
      if (next.dialPeers.length === 0) {
        warnings.push({ code: 'WARN_NO_DIAL_PEERS', message: 'no dial peers are configured: every call is refused with 404 (No route: no dial peer)', path: 'dialPeers' });
      }
    } else {
      if ((['tenants', 'dialPeers', 'permissions', 'tlsPeers'] as const).some((k) => !same(started[k], next[k]))) {
        needsRestart.push({ what: 'routing mode', reason: 'the gateway runs policy bridge; tenants, permissions and dial peers take effect after a restart with policy pipeline' });
      }
      if (started.gateway.calls.maxDurationSeconds !== next.gateway.calls.maxDurationSeconds) {
        needsRestart.push({ what: 'gateway.calls.maxDurationSeconds', reason: 'the plain bridge takes its calls\' longest duration at start' });
      }
    }

    // TLS profiles: validated in the engine before the swap; a refusal refuses the whole reload.
    let tls: TlsReloadReport | undefined;
    const tlsChanged = changed.some((s) => TLS_SECTIONS.includes(s));
    const hasTls = Object.keys(next.tlsProfiles).length > 0;
    const startedTls = Object.keys(started.tlsProfiles).length > 0;
    if (!startedTls && hasTls) {
      needsRestart.push({ what: 'tlsProfiles', reason: 'the engine was started without TLS profiles' });
    } else if (tlsChanged && startedTls) {
      // The engine has a TLS store since its start: profiles removed by one reload and added back by a later one
      // go to it like any change.
      let inputs: ProfileInput[];
      try {
        inputs = tlsProfileInputs(next);
      } catch (e) {
        return refuse(changed, [errorProblem(e, 'ERR_CONFIG_INVALID')]);
      }
      tls = await this.#reloadTls(trigger, next, inputs);
      if (!tls.ok) return refuse(changed, tls.problems, tls);
      if (tls.warnings) warnings.push(...tls.warnings);
    }

    // Trusted sources: after the TLS profiles (whose refusal refuses the whole reload) and before the routing, so a
    // carrier added is let in as its dial peers appear. A failure is reported and leaves the running plan; the next
    // reload tries again, since the plan is compared with the one the engine runs.
    let trust: TrustReloadReport | undefined;
    const plan = trustPlanFromConfig(next);
    if (!same(plan, this.#trustPlan)) {
      const t = await applyTrustPlan(gateway, plan, log, trigger);
      if (t.kind === 'not-enforced') needsRestart.push({ what: 'trusted sources', reason: t.reason });
      else {
        trust = t.report;
        warnings.push(...t.warnings);
        if (t.report.ok) this.#trustPlan = plan;
      }
    }

    // Tenant listeners that could not bind at start: tried again with the spec they had then (a changed one is
    // still reported above as needing a restart), so a port freed since serves without one.
    const retried = await retryFailedListeners(gateway, log, trigger);
    if (retried.warning) warnings.push(retried.warning);
    const listeners = retried.report;

    const applied: string[] = [];
    // Before the policy swap below, which carries it to the b2bua's call-limit and call-rate 503s: the engine's and
    // the b2bua's refusals change together.
    if (limits.retryAfterSeconds !== undefined) {
      gateway.setRetryAfterSeconds(limits.retryAfterSeconds);
      applied.push('gateway.limits.retryAfterSeconds');
    }
    if (tls) applied.push('tlsProfiles');
    if (listeners && listeners.bound.length > 0) applied.push('listeners');
    if (trust?.ok) applied.push('trustedSources');
    if (policy) {
      gateway.b2bua.setPolicy(policy);
      applied.push('routing');
    }
    this.#config = next;
    if (this.#watching && !same(tlsFilePaths(current), tlsFilePaths(next))) this.watchTlsFiles();
    for (const w of warnings) log.warn({ trigger, code: w.code }, `trunkgate: reload warning: ${w.path ? `${w.path}: ` : ''}${w.message}`);
    log.info({ code: 'EVT_RELOAD_APPLIED', trigger, changed, applied, needsRestart },
      `trunkgate: configuration reloaded (${changed.length > 0 ? `changed: ${changed.join(', ')}` : 'no change'}${applied.length > 0 ? `; applied: ${applied.join(', ')}` : ''}${needsRestart.length > 0 ? `; needs restart: ${needsRestart.map((n) => n.what).join(', ')}` : ''})`);
    return {
      ok: true, trigger, changed, applied, needsRestart, problems: [], warnings, ...(tls ? { tls } : {}), ...(trust ? { trust } : {}), ...(listeners ? { listeners } : {}),
    };
  }
}
