import { randomBytes } from 'node:crypto';
import { startB2bua, type B2buaErrorCode, type B2buaPolicy } from '../b2bua/index.js';
import { collectWarmUpGarbage, GatewayError, type WarmUpResult } from '../common/index.js';
import { BUILTIN_CATEGORIES } from '../config/default-categories.js';
import { startEngine } from '../engine/engine.js';
import { silentLogger } from '../log/index.js';
import { startLoopbackCaller, startLoopbackUas } from './loopback-ua.js';

/**
 * Warm-up of a thread before the gateway takes calls: the b2bua's, each app worker's, and the engine worker's (which
 * loads this module by URL, src/engine/prewarm.ts, for the socket and control-connection paths of its own isolate).
 * The first calls of a fresh process run drachtio-srf and the policy pipeline through code V8 has not
 * compiled yet: at 1,100 calls/s the first four seconds cost about 1.2 ms of CPU per call, against 0.85 ms once
 * warm (bench/warm-cpu.ts). So this thread first carries synthetic calls end to end through a throwaway gateway of
 * its own: an engine in this thread with one UDP listener and a control port on loopback ephemeral ports, a
 * drachtio-srf b2bua app of the kind the gateway runs (the policy pipeline over a built-in policy: one tenant for the
 * caller, one dial peer to the called party; or the plain b2bua), and two loopback user agents as the far ends.
 * Nothing of it is shared with the real gateway: its own counters, no CDR sink, no log; every call ends and all of
 * it is closed before the real b2bua starts. No packet leaves loopback, and no configured peer is ever called.
 */

/** What the warm-up reports (the shape every thread that runs it by URL reads, src/common/warm-up-module.ts). */
export type B2buaPrewarmResult = WarmUpResult;

export interface B2buaPrewarmOptions {
  /** Calls to run; they stop early at `maxMs`. */
  calls: number;
  /** The kind of app the gateway runs: the policy pipeline, or the plain b2bua to one target. */
  kind: 'policy' | 'plain';
  /** Calls in flight at once (default 16). */
  concurrency?: number;
  /** Stop starting calls after this long (default 5,000 ms). */
  maxMs?: number;
  /**
   * Give up waiting for the warm-up after this long (default `maxMs` + 2,500 ms: the calls in flight have 2 s to end):
   * the caller goes on, and the warm-up stops starting calls and closes itself in the background. So a throwaway part
   * that hangs never holds the start, and the engine worker's 10 s to start is never spent on it.
   */
  deadlineMs?: number;
}

/** Dialled number of the synthetic calls: a long-distance number, allowed by the built-in categories. */
const NUMBER = '+14155550199';
const CALL_TIMEOUT_MS = 2_000;

function syntheticPolicy(sipPort: number, uasPort: number): B2buaPolicy {
  return {
    tenants: { caller: { transport: 'udp' }, called: { transport: 'udp', sipServer: `127.0.0.1:${uasPort}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'caller' }],
    categories: BUILTIN_CATEGORIES,
    tlsPeers: {},
    dialPeers: [{ id: 'prewarm', destinationPattern: '.', tenant: 'called', from: ['caller'] }],
  };
}

/**
 * Runs the synthetic calls; see the module comment. Throws when the throwaway gateway cannot start, and
 * ERR_B2BUA_PREWARM when the warm-up is not over by its deadline.
 */
export async function prewarmB2bua(o: B2buaPrewarmOptions): Promise<B2buaPrewarmResult> {
  const deadlineMs = o.deadlineMs ?? (o.maxMs ?? 5_000) + 2_500;
  const stop = { now: false };
  const run = runWarmUp(o, stop);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.now = true;
      const code: B2buaErrorCode = 'ERR_B2BUA_PREWARM';
      reject(new GatewayError(code, `the warm-up did not finish within ${deadlineMs} ms`));
    }, deadlineMs);
  });
  try {
    const r = await Promise.race([run, late]);
    // The throwaway gateway is garbage now: collected here, not among the first real calls (full-gc.ts).
    return { ...r, gcMs: collectWarmUpGarbage() };
  } finally {
    clearTimeout(timer);
    run.catch(() => undefined);
  }
}

async function runWarmUp(o: B2buaPrewarmOptions, stop: { now: boolean }): Promise<Omit<B2buaPrewarmResult, 'gcMs'>> {
  const started = performance.now();
  const maxMs = o.maxMs ?? 5_000;
  const uas = await startLoopbackUas();
  const caller = await startLoopbackCaller();
  const secret = randomBytes(18).toString('base64url');
  const log = silentLogger();
  const closers: (() => unknown)[] = [() => uas.close(), () => caller.close()];
  let completed = 0;
  let placed = 0;
  try {
    const engine = await startEngine({
      listen: [{ id: 'prewarm', transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'caller' }],
      control: { host: '127.0.0.1', port: 0, secret, maxApps: 1 }, log,
    });
    closers.unshift(() => engine.close());
    const a = engine.addresses()!;
    const sipPort = a.sip[0]!.port;
    const app = await startB2bua({
      engine: { host: a.control.host, port: a.control.port, secret },
      ...(o.kind === 'policy' ? { policy: syntheticPolicy(sipPort, uas.port) } : { target: `127.0.0.1:${uas.port}` }),
      log,
    });
    closers.unshift(() => app.close());
    const lane = async (): Promise<void> => {
      while (placed < o.calls && !stop.now && performance.now() - started < maxMs) {
        const n = placed++;
        if (await caller.call(n, NUMBER, sipPort, CALL_TIMEOUT_MS)) completed++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 16) }, lane));
  } finally {
    // Each part is closed even when another one's close fails: nothing of the warm-up may stay open.
    for (const close of closers) await Promise.resolve().then(close).catch(() => undefined);
  }
  return { calls: placed, completed, ms: performance.now() - started };
}
