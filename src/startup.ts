import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { GatewayError } from './common/index.js';
import { b2buaPolicyFromConfig, trustPlanFromConfig, formatProblem, tryLoadConfig, type GatewayConfig } from './config/index.js';
import { validateCipherName } from './tls/cipher-names.js';
import { bootstrapPki, trustpointExists } from './pki/index.js';
import { engineListeners, engineTlsOptions } from './startup-tls.js';
import type { GatewayOptions } from './gateway.js';
import type { CdrSinkOptions } from './cdr/index.js';
import type { Logger } from './log/index.js';
import type { GatewayWarningCode } from './error-codes.js';

/** What `trunkgate start` derives from profiles/ before anything listens. */
export interface StartupPlan {
  config: GatewayConfig;
  options: Omit<GatewayOptions, 'log' | 'control'> & { control: { host: string; port: number } };
  /**
   * gateway.engine.mode external: the b2bua connects to this drachtio-server with this secret (from the variable
   * secretEnv names) and no engine is started; `options.control` is the server's control endpoint.
   */
  external?: { host: string; port: number; secret: string };
  /** Trustpoints created on this start (first start). */
  bootstrapped: string[];
  /** What an operator must see while the gateway runs (logged at start, shown in /health). */
  warnings: StartupWarning[];
}

/** A running state that is allowed but not safe by default: a stable code and the sentence that explains it. */
export interface StartupWarning {
  code: GatewayWarningCode;
  message: string;
}

/**
 * Loads and validates the configuration, creates the local CA and the gateway trustpoint on first start, and
 * turns listeners and TLS profiles into engine options. Every problem is reported at once; nothing is bound.
 */
export function planStartup(profilesDir: string, env: NodeJS.ProcessEnv, log: Logger): StartupPlan {
  // The loader refuses a trustpoint folder that is missing where no start creates it, and a bridge with no
  // host:port target (src/config/cross-check-start.ts), so a reload, a check and a write judge them alike.
  const loaded = tryLoadConfig(profilesDir, { validateCipherName, env, trustpointExists });
  if (!loaded.ok) {
    const text = loaded.problems.map((p) => formatProblem(p)).join('\n');
    throw new GatewayError('ERR_CONFIG_INVALID', `configuration in ${profilesDir} is invalid:\n${text}`,
      { details: { problems: loaded.problems } });
  }
  const config = loaded.config;
  const domain = config.gateway.domain ?? 'trunkgate.invalid';
  const bootstrapped: string[] = [];

  // First start: a trustpoint folder <pki>/trustpoints/<name> that does not exist yet is created, with a local CA
  // in <pki>/ca. A trustpoint elsewhere must have been provisioned by the administrator (the loader says so).
  for (const [name, tp] of Object.entries(config.trustpoints ?? {})) {
    if (!('dir' in tp)) continue;
    const dir = resolve(tp.dir);
    if (trustpointExists(dir)) continue;
    const r = bootstrapPki(dirname(dirname(dir)), domain, { trustpointName: name });
    if (r.created) {
      bootstrapped.push(name);
      log.info({ trustpoint: name, dir: tp.dir, ca: r.caCertPath, domain }, `trunkgate: created a local CA and trustpoint ${name} for ${domain}`);
    }
  }

  // Listeners name their TLS profile; the engine builds every profile's contexts from this plain data.
  const listen = engineListeners(config);
  const tls = engineTlsOptions(config);

  const engine = config.gateway.engine;
  const external = engine.mode === 'external' ? externalEngine(engine, env) : undefined;
  const control = engine.mode === 'external' ? { host: engine.host, port: engine.port } : { host: engine.control.host, port: engine.control.port };
  const prewarmCalls = engine.mode === 'embedded' ? engine.prewarmCalls : 0;
  const engineInWorker = engine.mode !== 'embedded' || engine.thread === 'worker';
  // New requests only from the sources the tenants trust (their targets, their trustedSources).
  const trust = trustPlanFromConfig(config);
  const l = config.gateway.limits;
  const limits = {
    core: {
      appAnswerTimeoutMs: l.appAnswerTimeoutMs, appFinalTimeoutMs: l.appFinalTimeoutMs, maxServerTransactions: l.maxServerTransactions,
      maxClientTransactions: l.maxClientTransactions, maxDialogs: l.maxDialogs, retryAfterSeconds: l.retryAfterSeconds,
    },
    transport: {
      maxConnections: l.maxConnections, maxConnectionsPerSource: l.maxConnectionsPerSource, handshakeTimeoutMs: l.handshakeTimeoutMs,
      unusedTimeoutMs: l.unusedConnectionTimeoutMs, idleTimeoutMs: l.idleConnectionTimeoutMs, messageTimeoutMs: l.messageTimeoutMs, maxSendBufferBytes: l.maxSendBufferBytes,
      maxOutboundConnections: l.maxOutboundConnections, maxOutboundConnectionsPerAddress: l.maxOutboundConnectionsPerAddress, maxMessageBytes: l.maxMessageBytes, maxHeaders: l.maxHeaders,
      requestsPerSecondPerSource: l.requestsPerSecondPerSource, overRate: l.overRate, badRequestsPerSecondPerSource: l.badRequestsPerSecondPerSource,
      ...(l.requestBurstPerSource !== undefined ? { requestBurstPerSource: l.requestBurstPerSource } : {}),
      maxHandshakes: l.maxHandshakes, maxHandshakesPerSource: l.maxHandshakesPerSource, refusalCdrsPerSecond: l.refusalCdrsPerSecond,
      maxTransactions: l.maxTransactions, maxTransactionWaits: l.maxTransactionWaits,
    },
    overload: { maxUtilization: l.maxUtilization, maxEventLoopDelayMs: l.maxEventLoopDelayMs, maxReceiveQueueMs: l.maxReceiveQueueMs, maxUnansweredInvites: l.maxUnansweredInvites, action: l.overload },
  };
  // Every call runs the policy pipeline unless gateway.yaml says `policy: bridge` in so many words. No dial
  // peer is no route: each call is refused with 404 and a Reason, never bridged to a default.
  const warnings: StartupWarning[] = [];
  if (config.gateway.policy === 'pipeline') {
    if (config.dialPeers.length === 0) {
      warnings.push({ code: 'WARN_NO_DIAL_PEERS', message: 'no dial peers are configured: every call is refused with 404 (No route: no dial peer)' });
    }
    logWarnings(log, warnings);
    const w = config.gateway.workers;
    const apps = w === 'auto' ? Math.max(1, availableParallelism() - 1) : w;
    return {
      config, bootstrapped, warnings, ...(external ? { external } : {}),
      options: { listen, tls, control, trust, limits, prewarmCalls, engineInWorker, policy: b2buaPolicyFromConfig(config, env), apps, ...cdrPlan(config, env) },
    };
  }
  const name = config.gateway.defaultTenant;
  const server = name ? config.tenants?.[name]?.sipServer : undefined;
  if (typeof server !== 'string' || server.startsWith('dns:')) {
    // The loader refuses a bridge without one host:port target (checkBridgeTarget); this is never reached from a file.
    throw new GatewayError('ERR_CONFIG_INVALID', 'gateway.policy bridge sends every call to the default tenant\'s sipServer: gateway.defaultTenant must name a tenant with one host:port sipServer');
  }
  const transport = config.tenants?.[name!]?.transport;
  const target = transport && transport !== 'udp' ? `${server};transport=${transport}` : server;
  warnings.push({ code: 'WARN_POLICY_BRIDGE', message: `gateway.policy is bridge: every call is sent to ${target} with no tenant, permission, category or dial-peer check` });
  logWarnings(log, warnings);
  // gateway.calls.maxDurationSeconds bounds bridged calls too; the bridge runs no session timers of its own.
  const maxS = config.gateway.calls.maxDurationSeconds;
  const bridge = { target, ...(maxS > 0 ? { bridgeMaxDurationSeconds: maxS } : {}) };
  return { config, bootstrapped, warnings, ...(external ? { external } : {}), options: { listen, tls, control, trust, limits, engineInWorker, ...bridge, ...cdrPlan(config, env) } };
}

/**
 * The drachtio-server of engine mode external, with the secret from the variable secretEnv names: an unset or
 * empty variable stops the start, since the server would refuse the b2bua anyway.
 */
function externalEngine(engine: { host: string; port: number; secretEnv: string }, env: NodeJS.ProcessEnv): StartupPlan['external'] {
  const secret = env[engine.secretEnv];
  if (secret === undefined || secret === '') {
    throw new GatewayError('ERR_CONFIG_INVALID', `gateway.engine.secretEnv: ${engine.secretEnv} is not set; it holds drachtio-server's admin secret`,
      { details: { problems: [{ code: 'ERR_CONFIG_ENGINE_MODE', path: 'gateway.engine.secretEnv', message: `${engine.secretEnv} is not set` }] } });
  }
  return { host: engine.host, port: engine.port, secret };
}

/**
 * Where CDRs go (config `cdr:`, paths already absolute): the JSON-lines file unless turned off, PostgreSQL when
 * configured, its password read from the variable passwordEnv names. Nothing when neither is on.
 */
export function cdrPlan(config: GatewayConfig, env: NodeJS.ProcessEnv): { cdr?: CdrSinkOptions } {
  const { file, postgres: p } = config.cdr;
  if (!file.enabled && !p) return {};
  let postgres: CdrSinkOptions['postgres'];
  if (p) {
    const password = p.passwordEnv !== undefined ? env[p.passwordEnv] : undefined;
    // A URL is taken apart here: pg would let the URL's empty password override the one from the environment.
    const url = p.url !== undefined ? new URL(p.url) : undefined;
    const connection = url
      ? {
        host: decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1'), port: url.port !== '' ? Number(url.port) : 5432,
        ...(url.pathname.length > 1 ? { database: decodeURIComponent(url.pathname.slice(1)) } : {}),
        ...(url.username !== '' ? { user: decodeURIComponent(url.username) } : {}),
      }
      : {
        ...(p.host !== undefined ? { host: p.host } : {}), port: p.port ?? 5432,
        ...(p.database !== undefined ? { database: p.database } : {}), ...(p.user !== undefined ? { user: p.user } : {}),
      };
    postgres = {
      connection: { ...connection, ...(password !== undefined ? { password } : {}), ...(p.tls ? { ssl: dbTlsOptions(p.tls) } : {}) }, table: p.table, batchSize: p.batchSize, flushMs: p.flushMs,
      queueDir: p.queueDir, maxQueueBytes: p.maxQueueBytes,
    };
  }
  return {
    cdr: {
      ...(file.enabled ? { file: { path: file.path, rotateBytes: file.rotateBytes, rotateDaily: file.rotateDaily, keep: file.keep } } : {}),
      ...(postgres ? { postgres } : {}),
    },
  };
}

/**
 * Node TLS options for the CDR database from `cdr.postgres.tls` (paths already absolute): the files are read now, so
 * a missing one stops the start (or the reload) with its path instead of failing every connection later.
 */
function dbTlsOptions(t: NonNullable<NonNullable<GatewayConfig['cdr']['postgres']>['tls']>): ConnectionOptions {
  const read = (what: string, path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new GatewayError('ERR_CONFIG_READ', `cdr.postgres.tls.${what}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  return {
    rejectUnauthorized: t.verify !== 'none',
    // verify ca: the chain must lead to the CA, whatever name the certificate carries (PostgreSQL's verify-ca).
    ...(t.verify === 'ca' ? { checkServerIdentity: () => undefined } : {}),
    ...(t.ca !== undefined ? { ca: read('ca', t.ca) } : {}),
    ...(t.cert !== undefined ? { cert: read('cert', t.cert) } : {}),
    ...(t.key !== undefined ? { key: read('key', t.key) } : {}),
    ...(t.servername !== undefined ? { servername: t.servername } : {}),
  };
}

function logWarnings(log: Logger, warnings: readonly StartupWarning[]): void {
  for (const w of warnings) log.warn({ code: w.code }, `trunkgate: ${w.message}`);
}
