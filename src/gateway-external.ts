import { connect } from 'node:net';
import type { Logger } from 'pino';
import { GatewayError, keepCallObjectsYoung, systemClock } from './common/index.js';
import { startB2bua, type B2buaApp } from './b2bua/index.js';
import { startAppPool } from './b2bua/workers/app-pool.js';
import { createCdrSink, type CdrSink } from './cdr/index.js';
import { RateLimitedLog, silentLogger, type NowSource } from './log/index.js';
import { bridgeOrPolicy, drainCalls, refusalCdrsOf, type EngineStatus, type Gateway, type GatewayOptions } from './gateway.js';
import type { AdminErrorCode } from './admin/errors.js';

/**
 * The b2bua against a real drachtio-server (gateway.engine.mode external): the same policy pipeline, app workers
 * and CDR sinks as startGateway, with no engine of our own. drachtio-server owns SIP (its contacts, its TLS, its
 * transactions); what only our engine has (connection table, listeners, TLS profiles, trusted sources, clearing a connection)
 * answers ERR_ADMIN_ENGINE_EXTERNAL.
 *
 * A server that is down at start is waited for (one ERR_GATEWAY_ENGINE_UNREACHABLE line, then a probe every
 * `retryMs`); once connected, a lost control connection is drachtio-srf's to re-establish: an
 * ERR_GATEWAY_ENGINE_LOST line when it goes, an EVT_GATEWAY_ENGINE_CONNECTED when it is back, each at most once a
 * minute and counted (trackEngineConnection). Meanwhile the server has no app and refuses new calls itself.
 */
export async function startExternalGateway(options: GatewayOptions & { retryMs?: number }): Promise<Gateway> {
  if (options.pretenuring !== true) keepCallObjectsYoung();
  const log = options.log ?? silentLogger();
  const { host, port } = options.control;
  const control = `${host}:${port}`;
  await waitReachable(host, port, options.retryMs ?? 1000, log);
  let b2bua: B2buaApp;
  let cdr: CdrSink | undefined;
  try {
    cdr = options.cdr ? await createCdrSink(options.cdr, { log }) : undefined;
    const onCdr = cdr ? { onCdr: cdr.write } : {};
    // The b2bua's refusals before any B leg keep the bound they have with the embedded engine.
    const refusalCdrs = refusalCdrsOf(options);
    const engine = { host, port, secret: options.control.secret };
    // Should the server go away between the probe and the connect, drachtio-srf's back-off gets this long to find it.
    const connectTimeoutMs = 30_000;
    b2bua = options.policy && (options.apps ?? 1) > 1
      ? await startAppPool({ engine, policy: options.policy, apps: options.apps!, logLevel: options.logLevel ?? 'info', connectTimeoutMs, startTimeoutMs: connectTimeoutMs,
        ...(options.logStyle ? { logStyle: options.logStyle } : {}), log, ...onCdr, ...refusalCdrs })
      : await startB2bua({ engine, connectTimeoutMs, ...bridgeOrPolicy(options), log, ...onCdr, ...refusalCdrs });
  } catch (e) {
    await cdr?.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  const link = trackEngineConnection(b2bua.srf as unknown as SrfConnection, { control, hostport: b2bua.hostport, log, closing: () => closing !== undefined });

  const close = () => {
    closing ??= (async () => {
      await b2bua.close();
      await cdr?.close();
      link.close();
    })();
    return closing;
  };
  const needsEngine = (what: string): Promise<never> => Promise.reject(new GatewayError<AdminErrorCode>('ERR_ADMIN_ENGINE_EXTERNAL',
    `${what} needs the embedded engine; this gateway runs against drachtio-server at ${control}`));
  return {
    addresses: { sip: [], control: { host, port } },
    b2bua,
    ...(cdr ? { cdr } : {}),
    reloadTls: () => needsEngine('reloading TLS profiles'),
    reloadTrust: () => needsEngine('applying trusted sources'),
    // drachtio-server opens its own listeners: none of ours failed, none to try again.
    retryListeners: () => Promise.resolve({ bound: [], stillFailed: [] }),
    // drachtio-server's 503s carry its own Retry-After; the b2bua's take the new value with the policy.
    setRetryAfterSeconds: () => undefined,
    engineSnapshot: () => needsEngine('the engine snapshot (connections, listeners, TLS)'),
    closeConnection: () => needsEngine('clearing a connection'),
    close,
    shutdown: async (o) => {
      // New INVITEs get 503 from the b2bua; drachtio-server answers OPTIONS itself.
      const drained = await drainCalls(b2bua, o, log);
      await close();
      return drained;
    },
    onEngineFailure: () => undefined,
    engineStatus: () => link.status(),
  };
}

/** What of drachtio-srf's Srf the gateway follows its control connection by. */
export interface SrfConnection {
  on(e: 'close', f: () => void): void;
  on(e: 'connect', f: (err: Error | null, hostport: string) => void): void;
}

export interface EngineConnectionOptions {
  /** drachtio-server's control endpoint host:port, for the lines. */
  control: string;
  /** The SIP address the server reported on the first authenticate. */
  hostport: string;
  log: Logger;
  /** True once the gateway is closing: the close that follows is no loss. */
  closing: () => boolean;
  clock?: NowSource;
}

/**
 * The control connection to drachtio-server, up when this starts (the b2bua started on it). Each connect and each loss
 * is counted (engineConnects, engineLosses in the engine status /health shows) and logged at most once a minute per
 * code, what was left out summed up in one line at the minute's end: drachtio-srf starts its back-off over on every
 * connect, so a connection cut soon after authenticate would otherwise write two lines a cycle for as long as it lasts.
 */
export function trackEngineConnection(srf: SrfConnection, o: EngineConnectionOptions): { status(): EngineStatus; close(): void } {
  const { control, log } = o;
  const lines = new RateLimitedLog(log, o.clock ?? systemClock, { intervalMs: 60_000, summaries: true });
  const status: EngineStatus = { mode: 'external', control, connected: true, hostport: o.hostport };
  let engineConnects = 1;
  let engineLosses = 0;
  const counts = () => ({ engineConnects, engineLosses });
  // Once a process, so outside the limit: the first reconnect after a loss has a line of its own.
  log.info({ code: 'EVT_GATEWAY_ENGINE_CONNECTED', engine: 'drachtio-server', control, hostport: o.hostport, ...counts() },
    `trunkgate: b2bua connected to drachtio-server at ${control} (SIP ${o.hostport})`);
  srf.on('close', () => {
    if (!status.connected || o.closing()) return;
    status.connected = false;
    engineLosses++;
    lines.line('error', 'ERR_GATEWAY_ENGINE_LOST', { engine: 'drachtio-server', control, ...counts() },
      `trunkgate: the control connection to drachtio-server at ${control} closed; reconnecting (the server refuses new calls meanwhile)`);
  });
  srf.on('connect', (err, hp) => {
    if (err || status.connected) return;
    status.connected = true;
    status.hostport = hp;
    engineConnects++;
    lines.line('info', 'EVT_GATEWAY_ENGINE_CONNECTED', { engine: 'drachtio-server', control, hostport: hp, ...counts() },
      `trunkgate: b2bua connected to drachtio-server at ${control} again`);
  });
  return { status: () => ({ ...status, ...counts() }), close: () => lines.close() };
}

/** Resolves once a TCP connection to host:port opens; says once that it is waiting, and probes every `retryMs`. */
async function waitReachable(host: string, port: number, retryMs: number, log: Logger): Promise<void> {
  let said = false;
  for (;;) {
    const err = await new Promise<Error | undefined>((resolve) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', (e) => resolve(e));
    });
    if (!err) return;
    if (!said) {
      said = true;
      log.error({ code: 'ERR_GATEWAY_ENGINE_UNREACHABLE', engine: 'drachtio-server', control: `${host}:${port}`, err: err.message },
        `trunkgate: drachtio-server at ${host}:${port} is not reachable; waiting for it (every ${retryMs} ms)`);
    }
    await new Promise((r) => setTimeout(r, retryMs));
  }
}
