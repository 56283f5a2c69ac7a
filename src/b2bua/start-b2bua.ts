import type { EventEmitter } from 'node:events';
import Srf from 'drachtio-srf';
import { GatewayError, systemClock } from '../common/index.js';
import { RateLimitedLog, silentLogger } from '../log/index.js';
import { ActiveCalls } from './active-calls.js';
import { bridgeCall, type BridgeContext, type BridgeRequest, type BridgeResponse, type BridgeSrf } from './bridge-call.js';
import { CallStats } from './call-stats.js';
import { CallLimits } from './call-limits.js';
import { CallRates } from './call-rates.js';
import type { B2buaErrorCode } from './errors.js';
import { batchControlWrites } from './control-batching.js';
import { buildPipeline, type PlaceCallSrf } from './middleware/index.js';
import type { Middleware } from './pipeline-types.js';
import { PipelineStats } from './pipeline-stats.js';
import { RefusalCdrBucket } from './refusal-cdr-bucket.js';
import type { B2buaPolicy } from './policy-types.js';
import { createRfc3263Resolver } from './rfc3263.js';
import { sipReason } from './reason.js';
import { failoverCounts } from './target-holdoff.js';
import { parseTarget } from './target-uri.js';
import { TrunkMonitor, type PingSrf } from './trunk-monitor.js';
import { inviteGate } from './invite-gate.js';
import { flowKey } from './register-flow-token.js';
import { RegisterRelay, type RelayRequest, type RelayResponse } from './register-relay.js';
import { Registrations, registrationSpecs, type RegisterSrf } from './registrations.js';
import { mediaCounters } from './media-pools.js';
import { usePlainEnvironment } from './plain-environment.js';
import { useSlotTables, type SrfTables } from './srf-tables.js';

export type { B2buaApp, B2buaOptions, B2buaStatsSnapshot } from './b2bua-options.js';
import type { B2buaApp, B2buaOptions } from './b2bua-options.js';
import { digestRefusals } from './digest-answer.js';

/**
 * Connects a drachtio-srf app to the engine. With a policy, every INVITE runs the policy pipeline; without,
 * every INVITE is bridged to the configured target.
 * Rejects with ERR_B2BUA_TARGET_INVALID, ERR_B2BUA_AUTH or ERR_B2BUA_CONNECT.
 */
export async function startB2bua(options: B2buaOptions): Promise<B2buaApp> {
  const log = options.log ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const stats = new CallStats();
  // The calls held against call limits outlive each policy swap: a reload's limits apply to them at once.
  const limits = options.policy ? new CallLimits(options.policy, options.apps, options.sharedCounts) : undefined;
  // So do the call-rate buckets: a reload's rates apply to the tokens they hold.
  const rates = options.policy ? new CallRates(clock, options.policy, options.apps, options.sharedCounts) : undefined;
  const pipelineStats = options.policy ? new PipelineStats(stats, limits, rates) : undefined;
  // The CDRs of calls refused before any B leg, this app's share of the gateway's rate of them.
  const refusalCdrs = new RefusalCdrBucket({ perSecond: options.refusalCdrsPerSecond, apps: options.apps, clock, log });
  if (!options.policy && options.target === undefined) {
    throw new GatewayError<B2buaErrorCode>('ERR_B2BUA_TARGET_INVALID', 'a target or a policy is required');
  }
  const target = options.policy ? undefined : parseTarget(options.target!);
  usePlainEnvironment();
  const srf = new Srf();

  const limited = new RateLimitedLog(log, clock, { intervalMs: 10_000 });
  // drachtio-srf emits 'error' for socket errors and reconnects on its own; an unheard 'error' would throw.
  srf.on('error', (err: Error) => limited.line('warn', 'ERR_B2BUA_CONTROL', { err }, 'b2bua: control connection error'));
  const active = new ActiveCalls({ app: options.app ?? 0, clock, journal: options.onCallsChanged !== undefined, onChanged: options.onCallsChanged });
  let draining: { retryAfter: number } | undefined;
  // The control connection dropped: the engine has ended every dialog of this app (docs/control-protocol.md §3.1),
  // and drachtio-srf, which reconnects on its own, never tells the calls. Once it is connected again they are
  // recorded as lost, so their CDRs are written and their call-limit slots freed rather than held until a restart.
  // Not at the drop itself: an engine that went because the gateway is exiting never comes back, and the exit
  // records those calls with its own cause.
  let stopping = false;
  let dropped = false;
  const events = srf as unknown as EventEmitter;
  events.on('close', () => {
    if (!stopping) dropped = true;
  });
  events.on('connect', () => {
    if (!dropped || stopping) return;
    dropped = false;
    const lost = active.abandonAll('app-lost', sipReason(503, 'application disconnected'));
    if (lost > 0) limited.line('warn', 'ERR_B2BUA_CONTROL', { calls: lost }, 'b2bua: control connection lost: its calls recorded as lost');
  });

  // The live policy: its pipeline and its pings. A swap replaces the whole object; each INVITE takes the
  // one current when it arrives and keeps it to the end.
  let live: { policy: B2buaPolicy; steps: Middleware[]; trunks?: TrunkMonitor; registrations?: Registrations } | undefined;
  let connected = false;
  const resolve = options.resolve ?? createRfc3263Resolver({ clock });
  const build = (policy: B2buaPolicy, previous?: TrunkMonitor, previousRegistrations?: Registrations) => {
    if (options.trunkHealth) {
      const steps = buildPipeline({
        policy, stats: pipelineStats!, log, clock, srf: srf as unknown as PlaceCallSrf, resolve, active, refusals: limited, trunks: options.trunkHealth, refusalCdrs,
        ...(limits ? { limits } : {}), ...(rates ? { rates } : {}), ...(options.onCdr ? { onCdr: options.onCdr } : {}),
      });
      return { policy, steps };
    }
    const monitor = new TrunkMonitor({
      srf: srf as unknown as PingSrf, policy, log, clock, resolve,
      ...(options.pingTimeoutMs !== undefined ? { timeoutMs: options.pingTimeoutMs } : {}),
      ...(previous ? { previous: previous.snapshot() } : {}),
    });
    const trunks = monitor.size > 0 ? monitor : undefined;
    // Registration trunks are kept by this app alone, as the pings are (worker apps take their calls all the same).
    // An unchanged registration goes on from where the previous policy's stood (register-handover.ts).
    const regs = new Registrations({
      srf: srf as unknown as RegisterSrf, specs: registrationSpecs(policy), log, clock, resolve, refusals: limited, policy, ...(previousRegistrations ? { previous: previousRegistrations } : {}),
    });
    const registrations = regs.size > 0 ? regs : undefined;
    const steps = buildPipeline({
      policy, stats: pipelineStats!, log, clock, srf: srf as unknown as PlaceCallSrf, resolve, active, refusals: limited, refusalCdrs, ...(trunks ? { trunks } : {}),
      ...(limits ? { limits } : {}), ...(rates ? { rates } : {}), ...(options.onCdr ? { onCdr: options.onCdr } : {}),
    });
    return { policy, steps, ...(trunks ? { trunks } : {}), ...(registrations ? { registrations } : {}) };
  };
  // REGISTERs through the gateway (tenants' registerRelay) and the requests that come back to their flows; every
  // other REGISTER is refused here with a Reason rather than left to the engine's "no app".
  const relay = options.policy ? new RegisterRelay({ policy: options.policy, key: flowKey(options.engine.secret), log, refusals: limited, clock }) : undefined;
  /** A new INVITE refused before anything else runs: while draining (503), or for a flow token that fails (403). */
  const refuseFirst = inviteGate({ stats, log, clock, refusals: limited, refusalCdrs, draining: () => draining, ...(relay ? { relay } : {}), ...(options.onCdr ? { onCdr: options.onCdr } : {}) });
  if (relay) {
    const methods = srf as unknown as Record<'register' | 'message' | 'notify', (fn: (req: RelayRequest, res: RelayResponse) => void) => void>;
    methods.register((req, res) => relay.onRegister(req, res));
    methods.message((req, res) => relay.onOther(req, res));
    methods.notify((req, res) => relay.onOther(req, res));
  }
  if (options.policy && pipelineStats) {
    live = build(options.policy);
    srf.use('invite', ((req, res, next) => {
      if (refuseFirst(req, res)) return;
      // A 100 first: the engine then gives this call its final-answer time instead of the short first-answer
      // time, however long the dial peers take to ring.
      res.send(100);
      runSteps(live!.steps, req, res, next);
    }) as Middleware as never);
  } else {
    const ctx: BridgeContext = {
      srf: srf as unknown as BridgeSrf, target: target!, stats, log, clock, active, refusals: limited, ...(options.onCdr ? { onCdr: options.onCdr } : {}),
      ...(options.bridgeMaxDurationSeconds ? { maxDurationMs: options.bridgeMaxDurationSeconds * 1000 } : {}),
    };
    srf.invite((req, res) => {
      if (refuseFirst(req as never, res as never)) return;
      res.send(100);
      bridgeCall(ctx, req as never, res as never).catch((err: unknown) => bridgeHandlerFailed(stats, limited, req as never, res as never, err));
    });
  }

  const stopBatching = batchControlWrites(options.engine.port);
  /** Ends the control connection for good; a session srf opens after this refuses any INVITE it is handed. */
  const shutDown = (): void => {
    draining ??= { retryAfter: CLOSED_RETRY_AFTER_S };
    stopSrf(srf);
    stopBatching();
  };
  let tables: SrfTables | undefined;
  const hostport = await new Promise<string>((resolve, reject) => {
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    const timer = setTimeout(() => {
      shutDown();
      reject(new GatewayError<B2buaErrorCode>('ERR_B2BUA_CONNECT',
        `no authenticated control connection to ${options.engine.host}:${options.engine.port} after ${timeoutMs} ms`));
    }, timeoutMs);
    srf.on('connect', (err: Error | null, hp: string) => {
      clearTimeout(timer);
      if (err) {
        shutDown();
        reject(new GatewayError<B2buaErrorCode>('ERR_B2BUA_AUTH', 'the engine refused the secret', { cause: err }));
      } else {
        resolve(hp);
      }
    });
    srf.connect({ host: options.engine.host, port: options.engine.port, secret: options.engine.secret });
    tables = useSlotTables(srf);
  });
  log.info({ engine: `${options.engine.host}:${options.engine.port}`, hostport, srfTables: tables, ...(options.policy ? { tenants: Object.keys(options.policy.tenants) } : { target: options.target }) },
    'b2bua connected');
  connected = true;
  live?.trunks?.start();
  live?.registrations?.start();

  let closed = false;
  return {
    srf,
    hostport,
    get trunks() {
      return live?.trunks;
    },
    get policy() {
      return live?.policy;
    },
    setPolicy(policy: B2buaPolicy): void {
      if (!live) throw new GatewayError<B2buaErrorCode>('ERR_B2BUA_POLICY', 'the b2bua runs the plain bridge; a policy takes a restart');
      const old = live;
      const next = build(policy, old.trunks, old.registrations);
      limits?.configure(policy);
      rates?.configure(policy);
      old.trunks?.close();
      old.registrations?.close();
      live = next;
      relay?.setPolicy(policy);
      if (connected && !closed) {
        next.trunks?.start();
        next.registrations?.start();
      }
      log.info({ tenants: Object.keys(policy.tenants), dialPeers: policy.dialPeers.length }, 'b2bua: policy swapped; new calls use it');
    },
    get activeCalls() {
      return active.size;
    },
    drain(retryAfterSeconds: number): void {
      draining = { retryAfter: retryAfterSeconds };
      log.info({ activeCalls: active.size, retryAfterSeconds }, 'b2bua: draining: new calls get 503');
    },
    drained: () => active.drained(),
    endCalls: (cause, reason) => active.endAll(cause, reason),
    abandonCalls: (cause, reason) => active.abandonAll(cause, reason),
    takeCallChanges: () => active.takeChanges(),
    listCalls: (limit) => Promise.resolve(active.list(limit)),
    hangUp: (id, cause, reason) => active.hangUp(id, cause, reason),
    stats: () => (pipelineStats
      ? {
        ...stats.snapshot(), policy: pipelineStats.snapshot(), failover: failoverCounts(), ...(live?.trunks ? { trunks: live.trunks.snapshot() } : {}),
        ...(live?.registrations ? { registrations: live.registrations.snapshot() } : {}), ...mediaCounters(),
        ...(relay ? { registerRelay: relay.snapshot() } : {}), digestRefused: { ...digestRefusals }, refusalCdrs: refusalCdrs.counts(),
      }
      : { ...stats.snapshot(), refusalCdrs: refusalCdrs.counts() }),
    close: async () => {
      if (closed) return;
      closed = true;
      stopping = true;
      live?.trunks?.close();
      live?.registrations?.close();
      relay?.close();
      shutDown();
    },
  };
}

/**
 * The plain bridge's handler failed (a fault of the gateway's, which every call may then meet): one
 * ERR_B2BUA_CALL_HANDLER line a window, and 500 with a Reason, counted, to a caller not answered yet.
 */
export function bridgeHandlerFailed(stats: CallStats, refusals: RateLimitedLog, req: BridgeRequest, res: BridgeResponse, err: unknown): void {
  refusals.line('error', 'ERR_B2BUA_CALL_HANDLER', { err, callId: req.get('Call-ID') }, 'b2bua: call handler failed');
  if (res.finalResponseSent) return;
  try {
    res.send(500, undefined, { headers: { Reason: sipReason(500, 'Gateway error placing the call') } });
    stats.fail(500);
  } catch (sendErr) {
    refusals.line('warn', 'ERR_B2BUA_CONTROL', { err: sendErr, callId: req.get('Call-ID') }, 'b2bua: could not answer the A leg');
  }
}

/** Retry-After, in seconds, of the 503 that a closed app gives an INVITE still reaching it. */
const CLOSED_RETRY_AFTER_S = 5;

/** Runs one pipeline's steps in order for a request, as drachtio-srf's router would; an error goes to `done`. */
function runSteps(steps: readonly Middleware[], req: Parameters<Middleware>[0], res: Parameters<Middleware>[1], done: (err?: unknown) => void): void {
  let i = 0;
  const next = (err?: unknown): void => {
    if (err !== undefined) {
      // A step that failed ends the call here: the slots it took against call limits go back.
      req.locals?.callSlots?.release();
      return done(err);
    }
    const step = steps[i++];
    if (!step) return done();
    try {
      step(req, res, next);
    } catch (e) {
      req.locals?.callSlots?.release();
      done(e);
    }
  };
  next();
}

/**
 * Ends the control connection for good, with drachtio-srf's public calls only. `disconnect()` marks the
 * connection as closing, so a lost socket is not reconnected, and ends the socket if one is up; with none up
 * it throws after marking. A reconnect attempt that srf had already scheduled still runs once: the session it
 * opens is ended as soon as srf reports it (`connect`), and an INVITE that reaches this app before that is
 * refused by the caller's draining state.
 */
function stopSrf(srf: Srf): void {
  srf.removeAllListeners('connect');
  srf.on('connect', (err: Error | null) => {
    if (!err) endControlConnection(srf);
  });
  endControlConnection(srf);
}

function endControlConnection(srf: Srf): void {
  try {
    srf.disconnect();
  } catch {
    // no socket up: the connection is marked closing all the same
  }
}
