import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { GatewayError, systemClock, type Clock } from '../common/index.js';
import { silentLogger } from '../log/index.js';
import { bridgeCall, type BridgeContext, type BridgeSrf } from './bridge-call.js';
import { CallStats, type CallStatsSnapshot } from './call-stats.js';
import type { B2buaErrorCode } from './errors.js';
import { parseTarget } from './target-uri.js';

export interface B2buaOptions {
  /** The drachtio control endpoint: our engine, or a real drachtio-server. */
  engine: { host: string; port: number; secret: string };
  /** Where every call goes: `host:port[;transport=udp|tcp]`. */
  target: string;
  log?: Logger;
  clock?: Clock;
  /** How long to wait for the control connection to authenticate (default 5,000 ms). */
  connectTimeoutMs?: number;
}

export interface B2buaApp {
  srf: Srf;
  /** The `hostport` the engine reported on authenticate. */
  hostport: string;
  stats(): CallStatsSnapshot;
  /** Disconnects from the engine. Calls still up are left to the engine. Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects a drachtio-srf app to the engine and bridges every INVITE to the configured target.
 * Rejects with ERR_B2BUA_TARGET_INVALID, ERR_B2BUA_AUTH or ERR_B2BUA_CONNECT.
 */
export async function startB2bua(options: B2buaOptions): Promise<B2buaApp> {
  const target = parseTarget(options.target);
  const log = options.log ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const stats = new CallStats();
  const srf = new Srf();
  const ctx: BridgeContext = { srf: srf as unknown as BridgeSrf, target, stats, log, clock };

  // drachtio-srf emits 'error' for socket errors and reconnects on its own; an unheard 'error' would throw.
  srf.on('error', (err: Error) => log.warn({ err }, 'b2bua: control connection error'));

  srf.invite((req, res) => {
    bridgeCall(ctx, req as never, res as never).catch((err: unknown) => {
      log.error({ err }, 'b2bua: call handler failed');
    });
  });

  const hostport = await new Promise<string>((resolve, reject) => {
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    const timer = setTimeout(() => {
      stopSrf(srf);
      reject(new GatewayError<B2buaErrorCode>('ERR_B2BUA_CONNECT',
        `no authenticated control connection to ${options.engine.host}:${options.engine.port} after ${timeoutMs} ms`));
    }, timeoutMs);
    srf.on('connect', (err: Error | null, hp: string) => {
      clearTimeout(timer);
      if (err) {
        stopSrf(srf);
        reject(new GatewayError<B2buaErrorCode>('ERR_B2BUA_AUTH', 'the engine refused the secret', { cause: err }));
      } else {
        resolve(hp);
      }
    });
    srf.connect({ host: options.engine.host, port: options.engine.port, secret: options.engine.secret });
  });
  log.info({ engine: `${options.engine.host}:${options.engine.port}`, hostport, target: options.target }, 'b2bua connected');

  let closed = false;
  return {
    srf,
    hostport,
    stats: () => stats.snapshot(),
    close: async () => {
      if (closed) return;
      closed = true;
      srf.removeAllListeners('connect');
      stopSrf(srf);
    },
  };
}

interface SrfWireInternals {
  _app?: { client?: { wp?: { closing?: boolean; reconnectVars?: { retryTimer?: ReturnType<typeof setTimeout> | null } } } };
}

/**
 * Ends the control connection for good. drachtio-srf's `disconnect()` throws when no socket is up and leaves
 * a pending reconnect timer running, so the wire layer is told it is closing and the timer is cleared first.
 */
function stopSrf(srf: Srf): void {
  const wp = (srf as unknown as SrfWireInternals)._app?.client?.wp;
  if (wp) {
    wp.closing = true;
    if (wp.reconnectVars?.retryTimer) {
      clearTimeout(wp.reconnectVars.retryTimer);
      wp.reconnectVars.retryTimer = null;
    }
  }
  try {
    srf.disconnect();
  } catch {
    // never connected: nothing to end
  }
}
