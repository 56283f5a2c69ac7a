import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { startB2bua, type B2buaApp, type B2buaPolicy } from './b2bua/index.js';
import { startEngine, type Engine, type EngineAddresses, type EngineListenerOptions } from './engine/engine.js';
import { startEngineWorker, type EngineWorkerHandle } from './engine/worker.js';
import type { EngineTlsOptions } from './engine/engine-tls.js';
import { engineSnapshot, type EngineSnapshot } from './engine/engine-snapshot.js';
import type { ProfileInput, ReloadResult } from './tls/index.js';
import { silentLogger } from './log/index.js';

export interface GatewayOptions {
  /** SIP listeners of the engine. */
  listen: EngineListenerOptions[];
  /** TLS profiles (specs and PEM text) the engine builds; TLS listeners and B legs name them. */
  tls?: EngineTlsOptions;
  /** The drachtio control endpoint between the engine and the b2bua (loopback). */
  control: { host: string; port: number; secret: string };
  /**
   * Tenants, permissions and dial peers (config `b2buaPolicyFromConfig`): every call runs the policy pipeline.
   * Takes precedence over `target`.
   */
  policy?: B2buaPolicy;
  /** Without a policy, where the b2bua sends every call: `host:port[;transport=udp|tcp|tls]`. */
  target?: string;
  log?: Logger;
  /** Level of the engine worker's logger. */
  logLevel?: string;
  /** Run the engine in a worker thread (default) or in this thread (tests, debugging). */
  engineInWorker?: boolean;
}

export interface Gateway {
  addresses: EngineAddresses;
  b2bua: B2buaApp;
  /** Hot reload of the engine's TLS profiles: validated before the swap; a bad set leaves the running one. */
  reloadTls(profiles: ProfileInput[]): Promise<ReloadResult>;
  /** The engine's connection table, TLS profiles and counters (from its worker when it runs in one). */
  engineSnapshot(): Promise<EngineSnapshot>;
  /** Disconnects the b2bua, then closes the engine. Idempotent. */
  close(): Promise<void>;
}

/** A secret for the loopback control connection, fresh on every start. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The composition root: the engine (in a worker thread by default, so SIP gets a core of its own) and the
 * b2bua drachtio-srf app in this thread, connected over the drachtio control protocol on loopback. If the b2bua
 * cannot start, the engine is closed again.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? silentLogger();
  const inWorker = options.engineInWorker ?? true;
  let engine: {
    addresses: EngineAddresses; reloadTls(p: ProfileInput[]): Promise<ReloadResult>; snapshot(): Promise<EngineSnapshot>; close(): Promise<void>;
  };
  const tls = options.tls ? { tls: options.tls } : {};
  if (inWorker) {
    const w: EngineWorkerHandle = await startEngineWorker({
      listen: options.listen, control: options.control, ...tls, ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    });
    engine = { addresses: w.ports, reloadTls: w.reloadTls, snapshot: w.snapshot, close: w.close };
  } else {
    const e: Engine = await startEngine({ listen: options.listen, control: options.control, ...tls, log });
    engine = {
      addresses: e.addresses()!, reloadTls: (p) => Promise.resolve(e.reloadTls(p)), snapshot: () => Promise.resolve(engineSnapshot(e)), close: () => e.close(),
    };
  }
  const control = engine.addresses.control;
  let b2bua: B2buaApp;
  try {
    b2bua = await startB2bua({
      engine: { host: control.host, port: control.port, secret: options.control.secret },
      ...(options.policy ? { policy: options.policy } : { ...(options.target !== undefined ? { target: options.target } : {}) }),
      log,
    });
  } catch (e) {
    await engine.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    addresses: engine.addresses,
    b2bua,
    reloadTls: (p) => engine.reloadTls(p),
    engineSnapshot: () => engine.snapshot(),
    close: () => {
      closing ??= (async () => {
        await b2bua.close();
        await engine.close();
      })();
      return closing;
    },
  };
}
