import type { Logger } from 'pino';
import { startAdmin, type AdminServer } from './admin/index.js';
import type { CdrErrorCode, CdrSink } from './cdr/index.js';
import { isGatewayError, startIdleMemoryRelease } from './common/index.js';
import { ADMIN_CAUSE, ADMIN_REASON, EXIT_CAUSE, EXIT_REASON } from './b2bua/active-calls.js';
import { compileProfile } from './cli/tls-probe.js';
import { probeTls, validateCipherName } from './tls/index.js';
import { ConfigStore } from './config/write/index.js';
import { configInvalid, readEnvOverrides, resolveConfigDir } from './config/index.js';
import { randomSecret, startGateway, type Gateway, type GatewayOptions } from './gateway.js';
import { startExternalGateway } from './gateway-external.js';
import { GatewayReloader } from './gateway-reload.js';
import { CertificateExpiryWatch } from './cert-expiry.js';
import { pkiService } from './certificate-ops/index.js';
import { createLogger, logFormatFor, routeConsoleToLog, type LogStyle } from './log/index.js';
import { planStartup } from './startup.js';
import { trustpointExists } from './pki/index.js';
import { ThreadLoad } from './common/thread-load.js';

/**
 * `trunkgate [start] [--profiles DIR]` (src/main.ts reads the command line): load profiles/*.yaml, create the local
 * CA and trustpoint on first start, run the engine in a worker thread and the b2bua in this one (gateway.engine.mode
 * external: the b2bua alone, against drachtio-server); the admin API, reloads, certificate expiry and the signals.
 * Returns once the gateway runs; the process ends from its signal handlers, or here with exit 1 if the start fails.
 */
export async function runStart(profiles: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  // The environment's overrides pass the same schemas as the files; a bad one stops the start like a bad file.
  const overrides = readEnvOverrides(env);
  const envLevel = overrides.ok ? overrides.value.TRUNKGATE_LOG_LEVEL : undefined;
  // Pretty lines for a person at a terminal, JSON lines for everything else (TRUNKGATE_LOG_FORMAT decides when set).
  const tty = process.stdout.isTTY === true;
  const logStyle: LogStyle = { format: logFormatFor(overrides.ok ? overrides.value.TRUNKGATE_LOG_FORMAT : undefined, tty), colour: tty };
  const log = createLogger({ level: envLevel ?? 'info', ...logStyle });
  let started: Gateway | undefined;
  let exiting = false;
  // Every exit once the gateway may hold CDRs: the calls still up or ringing, in every app, get theirs (the app
  // workers die with the process, so theirs are written here from the pool's copy, src/b2bua/workers/app-pool.ts),
  // then the file and the database get their bounded time.
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    if (started) abandonCallsAtExit(started, code, log);
    void closeCdrsBeforeExit(started?.cdr, log).finally(() => process.exit(code));
  };
  try {
    if (!overrides.ok) throw configInvalid(overrides.problems);
    const over = overrides.value;
    const profilesDir = resolveConfigDir(profiles, env);
    // TRUNKGATE_CONTROL_PORT and TRUNKGATE_ADMIN_PORT are in the plan's configuration: the loader judged them with the files.
    const plan = planStartup(profilesDir, env, log);
    const options: GatewayOptions = {
      ...plan.options,
      // Engine mode external: drachtio-server's control endpoint and its secret, as configured (no override).
      control: plan.external ?? { host: plan.options.control.host, port: plan.options.control.port, secret: over.TRUNKGATE_ENGINE_SECRET ?? randomSecret() },
      ...(over.TRUNKGATE_PREWARM_CALLS !== undefined ? { prewarmCalls: over.TRUNKGATE_PREWARM_CALLS } : {}),
      log,
      logStyle,
      ...(envLevel ? { logLevel: envLevel } : {}),
    };
    // Libraries that print (drachtio-srf writes its parse errors and stacks with console.error) go to the JSON log.
    routeConsoleToLog(log);
    process.on('uncaughtException', (err) => {
      log.fatal({ err, code: 'ERR_GATEWAY_UNCAUGHT' }, 'trunkgate: uncaught error; exiting');
      exit(1);
    });
    // Engine mode external: no engine here; the b2bua connects to drachtio-server (waiting for it if it is down).
    const gw = plan.external ? await startExternalGateway(options) : await startGateway(options);
    started = gw;
    // After a flood the heap it grew goes back to the system once the gateway is idle again (the engine's thread does
    // the same for its own heap).
    startIdleMemoryRelease();
    // The engine worker dying leaves no SIP: end non-zero at once so the service manager restarts us.
    gw.onEngineFailure((f) => {
      log.fatal({ code: f.code, exitCode: f.exitCode, err: f.err }, `trunkgate: ${f.message}; exiting`);
      exit(70);
    });
    // Reloads: a trustpoint, trust store or CRL changed on disk rebuilds the TLS profiles; SIGHUP and the admin
    // API read the whole configuration again. A bad file or certificate keeps the running one and says why.
    const reloader = new GatewayReloader({ gateway: gw, profilesDir, config: plan.config, env, log });
    reloader.watchTlsFiles();
    // Every configured certificate is checked for expiry now and every six hours: a line at 30, 7 and 1 days left.
    const expiry = new CertificateExpiryWatch({ log, config: () => reloader.config });
    expiry.start();
    const onHup = () => void reloader.reloadConfig('signal').catch((err: unknown) => log.error({ err }, 'trunkgate: reload failed'));
    process.on('SIGHUP', onHup);
    const adminCfg = plan.config.gateway.admin;
    // The b2bua's thread (this one): its event-loop busy time and garbage collection, for /stats.
    const appThread = new ThreadLoad();
    let admin: AdminServer | undefined;
    if (adminCfg.enabled) {
      const token = env[adminCfg.tokenEnv] || undefined;
      const port = adminCfg.port;
      try {
        admin = await startAdmin({
          engineSnapshot: () => gw.engineSnapshot(),
          engine: () => gw.engineStatus(),
          closeConnection: (id) => gw.closeConnection(id),
          listeners: () => gw.addresses.sip,
          listCalls: (limit) => gw.b2bua.listCalls(limit),
          hangUpCall: (id) => gw.b2bua.hangUp(id, ADMIN_CAUSE, ADMIN_REASON),
          b2buaStats: () => gw.b2bua.stats(),
          appThread: () => appThread.snapshot(),
          ...(gw.cdr ? { cdr: () => gw.cdr!.stats() } : {}),
          reloadTls: () => reloader.reloadTls('api'),
          reloadConfig: () => reloader.reloadConfig('api'),
          configReloads: () => reloader.reloadCounts(),
          tlsReloads: () => reloader.tlsReloadCounts(),
          certificates: () => expiry.rows(),
          probeTls: async (r) => probeTls({
            host: r.host, port: r.port, ...(r.sni ? { sni: r.sni } : {}),
            ...(r.profile ? { profile: compileProfile(reloader.config, r.profile) } : {}),
          }),
          // Certificate tasks on the running configuration; what they write the file watch above picks up.
          pki: pkiService({ config: () => reloader.config, changed: () => expiry.check() }),
          // Configuration objects written into profiles/, judged as the loader judges them, applied by the reload path.
          configStore: new ConfigStore({ profilesDir, loadOptions: { validateCipherName, env, trustpointExists }, apply: () => reloader.reloadConfig('api'), log }),
        }, {
          host: adminCfg.host, port, log, warnings: plan.warnings, ...(token ? { token } : {}),
          maxConnections: adminCfg.maxConnections, maxConnectionsPerSource: adminCfg.maxConnectionsPerSource,
        });
        log.info({ admin: `${admin.address.host}:${admin.address.port}`, token: token ? 'required' : 'none' },
          `trunkgate: admin API on http://${admin.address.host.includes(':') ? `[${admin.address.host}]` : admin.address.host}:${admin.address.port}`);
      } catch (err) {
        // A refused configuration (no token beyond loopback) stops the start; a busy port leaves SIP running.
        if (isGatewayError(err) && err.code === 'ERR_ADMIN_TOKEN_REQUIRED') {
          await gw.close();
          throw err;
        }
        log.error({ err, code: 'ERR_ADMIN_LISTEN', host: adminCfg.host, port },
          `trunkgate: the admin API cannot listen on ${adminCfg.host}:${port}; SIP runs without it (reload by SIGHUP)`);
      }
    }
    for (const l of gw.addresses.sip) {
      const spec = options.listen.find((x) => x.transport === l.protocol && x.port === l.port);
      log.info({ code: 'EVT_LISTENER_UP', transport: l.protocol, address: l.address, port: l.port, tlsProfile: spec?.tlsProfile },
        `trunkgate: SIP ${l.protocol} listening on ${l.address}:${l.port}${spec?.tlsProfile ? ` (TLS profile ${spec.tlsProfile})` : ''}`);
    }
    const c = gw.addresses.control;
    const routing = options.policy
      ? `b2bua routes calls by ${options.policy.dialPeers.length} dial peers over ${Object.keys(options.policy.tenants).length} tenants`
      : `b2bua sends every call to ${options.target}`;
    const engineMode = plan.external ? 'external' : 'embedded';
    // Which thread the engine runs in, as the gateway that started it reports it (absent for drachtio-server).
    const { thread } = gw.engineStatus();
    const engineThread = thread ? { engineThread: thread } : {};
    log.info({ code: 'EVT_GATEWAY_READY', engine: engineMode, ...engineThread, control: `${c.host}:${c.port}`, ...(options.policy ? { dialPeers: options.policy.dialPeers.length } : { target: options.target }), profiles: profilesDir },
      `trunkgate: ${plan.external ? 'connected to drachtio-server at' : 'drachtio control on'} ${c.host}:${c.port}; ${routing}`);
    let stopping = false;
    // SIGTERM drains (gateway.shutdown): new calls get 503 with Retry-After, calls up get drainSeconds, then BYE.
    // SIGINT stops at once. The admin API stays up while draining, so /stats shows the calls going.
    const drain = plan.config.gateway.shutdown;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      const drainSeconds = signal === 'SIGTERM' ? drain.drainSeconds : 0;
      log.info({ code: 'EVT_GATEWAY_STOPPING', signal, drainSeconds, activeCalls: gw.b2bua.activeCalls }, 'trunkgate: stopping');
      reloader.close();
      expiry.close();
      process.off('SIGHUP', onHup);
      const force = setTimeout(() => {
        log.error({ code: 'ERR_GATEWAY_STOP' }, 'trunkgate: stop took too long; exiting');
        exit(1);
      }, (drainSeconds + 15) * 1000);
      force.unref();
      void gw.shutdown({ drainSeconds, retryAfterSeconds: drain.retryAfterSeconds })
        .then((r) => log.info({ drainedAlone: r.drainedAlone, ended: r.ended }, 'trunkgate: calls drained'))
        .then(() => admin?.close()).catch(() => undefined).then(() => {
          log.info({ code: 'EVT_GATEWAY_STOPPED' }, 'trunkgate: stopped');
          exit(0);
        });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  } catch (e) {
    const code = isGatewayError(e) ? e.code : 'ERR_GATEWAY_START';
    if (code === 'ERR_CONFIG_INVALID') console.error(e instanceof Error ? e.message : String(e));
    log.fatal({ err: e, code }, 'trunkgate: failed to start');
    exit(1);
  }
}

/**
 * The process exits with calls still up or ringing (a stop that finished has none left): each gets its CDR now,
 * cause gateway-exit (EXIT_CAUSE), ended at this moment, counted in one line. A failure here (the exit may come
 * from an uncaught error) is logged, and the exit goes on.
 */
export function abandonCallsAtExit(gw: Pick<Gateway, 'b2bua'>, exitCode: number, log: Logger): number {
  try {
    const calls = gw.b2bua.abandonCalls(EXIT_CAUSE, EXIT_REASON);
    if (calls > 0) log.warn({ calls, cause: EXIT_CAUSE, exitCode }, `trunkgate: exiting with ${calls} call(s) up or ringing; each recorded with cause ${EXIT_CAUSE}`);
    return calls;
  } catch (err) {
    log.error({ err, code: 'ERR_GATEWAY_UNCAUGHT', exitCode }, 'trunkgate: the records of the calls up at exit could not all be written (those written are in the cdr log lines)');
    return 0;
  }
}

/**
 * How long the CDR file and database get to close before the process exits on a fatal error, or on a stop that
 * ran past its time. The database's own close queues on disk what it has not inserted after CLOSE_DEADLINE_MS
 * (3 s, src/cdr/postgres.ts), well within this.
 */
export const CDR_EXIT_FLUSH_MS = 5_000;

/**
 * Closes the CDR sink before an exit, waiting at most `ms`. Records then neither in the file nor in the database
 * or its on-disk queue (a disk that hangs, records that came after the close) are counted in one
 * ERR_CDR_EXIT_UNSAFE line: none goes without a word.
 */
export async function closeCdrsBeforeExit(cdr: CdrSink | undefined, log: Logger, ms = CDR_EXIT_FLUSH_MS): Promise<void> {
  if (!cdr) return;
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    cdr.close().then(() => true, () => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  const s = cdr.stats();
  // Handed to the file and neither written nor counted lost: still in its stream's buffer.
  const file = s.file ? Math.max(0, s.records - s.file.written - s.file.lost) : 0;
  const database = s.postgres?.pending ?? 0;
  if (file + database === 0) return;
  log.error({ code: 'ERR_CDR_EXIT_UNSAFE' satisfies CdrErrorCode, file, database, closed, waitedMs: ms },
    `cdr: exiting with ${file + database} record(s) not safe: ${file} not in the JSON-lines file, ${database} neither in the database nor in its on-disk queue (all are in the cdr log line)`);
}
