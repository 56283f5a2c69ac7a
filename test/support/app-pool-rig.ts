import type { TestContext } from 'node:test';
import type { B2buaApp } from '../../src/b2bua/index.js';
import type { CdrRecord } from '../../src/b2bua/cdr.js';
import { startAppPool, type AppPoolOptions } from '../../src/b2bua/workers/app-pool.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import { pbxToFar } from '../integration/calls-support.js';
import { captureLog, type LogCapture } from './log-capture.js';

/** The real engine on loopback and an app pool of `apps` (this thread's app and real app worker threads) on it. */
export interface PoolRig extends LogCapture {
  engine: Engine;
  sipPort: number;
  /** What the pool handed to its CDR sink, in order. */
  sunk: CdrRecord[];
  /** The pool's start (not awaited here: a test of a start that fails awaits its rejection). */
  started: Promise<B2buaApp>;
}

/**
 * `fault`: TRUNKGATE_TEST_APP_FAULT for the workers the pool starts (src/b2bua/workers/app-worker.ts, pool-test-faults.ts),
 * set for the test's length (the workers copy the environment when they start). The pool is closed in t.after.
 */
export async function poolRig(t: TestContext, o: { apps: number; farPort: number; fault?: string } & Partial<AppPoolOptions>): Promise<PoolRig> {
  const { apps, farPort, fault, ...rest } = o;
  const env = { NODE_ENV: process.env.NODE_ENV, fault: process.env.TRUNKGATE_TEST_APP_FAULT };
  process.env.NODE_ENV = 'test';
  if (fault !== undefined) process.env.TRUNKGATE_TEST_APP_FAULT = fault;
  const secret = 'pool-secret';
  const engine = await startEngine({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }], control: { host: '127.0.0.1', port: 0, secret, maxApps: apps } });
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const capture = captureLog();
  const sunk: CdrRecord[] = [];
  const started = startAppPool({
    engine: { ...addrs.control, secret }, policy: pbxToFar(farPort)(sipPort), apps, logLevel: 'warn', log: capture.log,
    onCdr: (r) => sunk.push(r), ...rest,
  });
  // The pool first, so that no worker is left reconnecting to a closed engine (a start that never settles is a
  // failure the test reports; it is not waited for here).
  t.after(async () => {
    const pool = await Promise.race([started.catch(() => undefined), new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000).unref())]);
    await pool?.close();
    await engine.close();
    restore('NODE_ENV', env.NODE_ENV);
    restore('TRUNKGATE_TEST_APP_FAULT', env.fault);
  });
  return { ...capture, engine, sipPort, sunk, started };
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
