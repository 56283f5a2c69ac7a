import { connect } from 'node:net';
import type { Logger } from 'pino';
import { GatewayError, keepCallObjectsYoung } from './common/index.js';
import { startB2bua, type B2buaApp } from './b2bua/index.js';
import { startAppPool } from './b2bua/workers/app-pool.js';
import { createCdrSink, type CdrSink } from './cdr/index.js';
import { silentLogger } from './log/index.js';
import { bridgeOrPolicy, drainCalls, refusalCdrsOf, type EngineStatus, type Gateway, type GatewayOptions } from './gateway.js';
import type { AdminErrorCode } from './admin/errors.js';

/**
 * The b2bua against a real drachtio-server (gateway.engine.mode external): the same policy pipeline, app workers
 * and CDR sinks as startGateway, with no engine of our own. drachtio-server owns SIP (its contacts, its TLS, its
 * transactions); what only our engine has (connection table, listeners, TLS profiles, trusted sources, clearing a connection)
 * answers ERR_ADMIN_ENGINE_EXTERNAL.
 *
 * A server that is down at start is waited for (one ERR_GATEWAY_ENGINE_UNREACHABLE line, then a probe every
 * `retryMs`); once connected, a lost control connection is drachtio-srf's to re-establish: one
 * ERR_GATEWAY_ENGINE_LOST line when it goes, one EVT_GATEWAY_ENGINE_CONNECTED when it is back. Meanwhile the server
 * has no app and refuses new calls itself.
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
  const status: EngineStatus = { mode: 'external', control, connected: true, hostport: b2bua.hostport };
  log.info({ code: 'EVT_GATEWAY_ENGINE_CONNECTED', engine: 'drachtio-server', control, hostport: b2bua.hostport },
    `trunkgate: b2bua connected to drachtio-server at ${control} (SIP ${b2bua.hostport})`);
  const srf = b2bua.srf as unknown as { on(e: 'close', f: () => void): void; on(e: 'connect', f: (err: Error | null, hp: string) => void): void };
  srf.on('close', () => {
    if (!status.connected || closing) return;
    status.connected = false;
    log.error({ code: 'ERR_GATEWAY_ENGINE_LOST', engine: 'drachtio-server', control },
      `trunkgate: the control connection to drachtio-server at ${control} closed; reconnecting (the server refuses new calls meanwhile)`);
  });
  srf.on('connect', (err, hp) => {
    if (err || status.connected) return;
    status.connected = true;
    status.hostport = hp;
    log.info({ code: 'EVT_GATEWAY_ENGINE_CONNECTED', engine: 'drachtio-server', control, hostport: hp },
      `trunkgate: b2bua connected to drachtio-server at ${control} again`);
  });

  const close = () => {
    closing ??= (async () => {
      await b2bua.close();
      await cdr?.close();
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
    engineStatus: () => ({ ...status }),
  };
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
