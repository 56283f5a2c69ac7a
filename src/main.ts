import { isGatewayError } from './common/index.js';
import { configCheck } from './cli/config-check.js';
import { resolveConfigDir } from './config/index.js';
import { randomSecret, startGateway, type GatewayOptions } from './gateway.js';
import { createLogger } from './log/index.js';
import { planStartup } from './startup.js';
import { tlsFilePaths, tlsProfileInputs, watchTlsFiles } from './startup-tls.js';

/**
 * Process entry (`npm start`, `bin/trunkgate.mjs`).
 *   trunkgate [start] [--profiles DIR]   load profiles/*.yaml, create the local CA and trustpoint on first start,
 *                                        run the engine in a worker thread and the b2bua in this one
 *   trunkgate config check [DIR]         print every problem of a configuration; exit 1 if there is one
 *   trunkgate config schema              print the JSON Schema of the configuration
 * Environment: TRUNKGATE_PROFILES (profiles dir), TRUNKGATE_ENGINE_SECRET (random per start),
 * TRUNKGATE_CONTROL_PORT (overrides gateway.engine.control.port), TRUNKGATE_TARGET (host:port[;transport=…]: bridge
 * every call there instead of running the dial-peer pipeline; also the plain bridge's target when no dial peer is
 * configured, else the default tenant's sipServer), TRUNKGATE_LOG_LEVEL. SIGINT and SIGTERM close everything.
 */
const env = process.env;
const args = process.argv.slice(2);

if (args[0] === 'config') {
  const sub = args[1];
  const rest = sub === 'schema' ? ['--schema'] : args.slice(2);
  process.exit(configCheck(rest, { out: (s) => console.log(s), err: (s) => console.error(s), env }));
}
if (args[0] === 'version' || args[0] === '--version') {
  console.log('trunkgate 0.1.0');
  process.exit(0);
}

const log = createLogger();
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

try {
  const profilesDir = resolveConfigDir(flag('--profiles'), env);
  const plan = planStartup(profilesDir, env, log);
  const controlPort = env.TRUNKGATE_CONTROL_PORT ? Number(env.TRUNKGATE_CONTROL_PORT) : plan.options.control.port;
  const options: GatewayOptions = {
    ...plan.options,
    control: { host: plan.options.control.host, port: controlPort, secret: env.TRUNKGATE_ENGINE_SECRET || randomSecret() },
    log,
    ...(env.TRUNKGATE_LOG_LEVEL ? { logLevel: env.TRUNKGATE_LOG_LEVEL } : {}),
  };
  const gw = await startGateway(options);
  // A trustpoint, trust store or CRL changed on disk: rebuild the profiles in the engine; a bad file keeps the old.
  const tlsWatch = watchTlsFiles(tlsFilePaths(plan.config), () => {
    let inputs;
    try {
      inputs = tlsProfileInputs(plan.config);
    } catch (err) {
      log.warn({ err }, 'trunkgate: TLS files changed but cannot be read; the running profiles keep serving');
      return;
    }
    void gw.reloadTls(inputs).then((r) => (r.ok
      ? log.info({ version: r.version, profiles: r.names }, 'trunkgate: TLS profiles reloaded from disk')
      : log.warn({ problems: r.problems }, 'trunkgate: TLS reload refused; the running profiles keep serving')),
    (err: unknown) => log.warn({ err }, 'trunkgate: TLS reload failed'));
  }, { log });
  for (const l of gw.addresses.sip) {
    const spec = options.listen.find((x) => x.transport === l.protocol && x.port === l.port);
    log.info({ transport: l.protocol, address: l.address, port: l.port, tlsProfile: spec?.tlsProfile },
      `trunkgate: SIP ${l.protocol} listening on ${l.address}:${l.port}${spec?.tlsProfile ? ` (TLS profile ${spec.tlsProfile})` : ''}`);
  }
  const c = gw.addresses.control;
  const routing = options.policy
    ? `b2bua routes calls by ${options.policy.dialPeers.length} dial peers over ${Object.keys(options.policy.tenants).length} tenants`
    : `b2bua sends every call to ${options.target}`;
  log.info({ control: `${c.host}:${c.port}`, ...(options.policy ? { dialPeers: options.policy.dialPeers.length } : { target: options.target }), profiles: profilesDir },
    `trunkgate: drachtio control on ${c.host}:${c.port}; ${routing}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'trunkgate: stopping');
    tlsWatch.close();
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void gw.close().then(() => {
      log.info('trunkgate: stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (e) {
  const code = isGatewayError(e) ? e.code : 'ERR_GATEWAY_START';
  if (code === 'ERR_CONFIG_INVALID') console.error(e instanceof Error ? e.message : String(e));
  log.fatal({ err: e, code }, 'trunkgate: failed to start');
  process.exit(1);
}
