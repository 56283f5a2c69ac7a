import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import type { CallChanges, CallList, HangUpResult } from './active-calls.js';
import type { CallStatsSnapshot } from './call-stats.js';
import type { FailoverCounters } from './target-holdoff.js';
import type { CdrRecord } from './cdr.js';
import type { TrunkHealth } from './pipeline-types.js';
import type { PipelineStatsSnapshot } from './pipeline-stats.js';
import type { B2buaPolicy } from './policy-types.js';
import type { SipServerResolver } from './rfc3263.js';
import type { TrunkMonitor, TrunkMonitorSnapshot } from './trunk-monitor.js';
import type { RegisterRelaySnapshot } from './register-relay.js';
import type { RegistrationStatus } from './registrations.js';
import type { MediaCounters } from './media-pools.js';
import type { SharedCallCounts } from './app-call-counts.js';
import type { DigestRefusalCounts } from './digest-answer.js';
import type { RefusalCdrCounts } from './refusal-cdr-bucket.js';

// What a b2bua app (start-b2bua.ts) is started with, what it reports and what it offers once connected.

export interface B2buaOptions {
  /** The drachtio control endpoint: our engine, or a real drachtio-server. */
  engine: { host: string; port: number; secret: string };
  /** Without a policy, where every call goes: `host:port[;transport=udp|tcp|tls]`. */
  target?: string;
  /** Without a policy: a connected call is ended with BYE on both legs after this long (a policy carries its own). */
  bridgeMaxDurationSeconds?: number;
  /**
   * Tenants, permissions and dial peers: every INVITE goes through the policy pipeline
   * (identify peer → Max-Forwards → permissions → category → permission check → dial peer → B leg).
   */
  policy?: B2buaPolicy;
  /** Resolves `dns:` targets (RFC 3263); default: node:dns on the system's servers. */
  resolve?: SipServerResolver;
  /** Longest wait for an OPTIONS ping's answer (default: the tenant's interval, at most 5 s). */
  pingTimeoutMs?: number;
  log?: Logger;
  clock?: Clock;
  /** How long to wait for the control connection to authenticate (default 5,000 ms). */
  connectTimeoutMs?: number;
  /**
   * Trunk state kept elsewhere (an app worker takes the pinging app's view): this app then sends no OPTIONS
   * pings of its own and skips the targets `trunkHealth` says are down.
   */
  trunkHealth?: TrunkHealth;
  /**
   * Each call's CDR, besides its `cdr` log line: the gateway's sink (JSON-lines file, database), or a worker's
   * message to the thread that owns it. Called synchronously; it must not throw (a throw is logged and ignored).
   */
  onCdr?: (record: CdrRecord) => void;
  /**
   * CDRs a second, for the whole gateway, of calls refused before any B leg (gateway.limits.refusalCdrsPerSecond, the
   * engine's bound on its own refusals too; burst twice that, each of `apps` apps a share; 0: none). Default 50.
   */
  refusalCdrsPerSecond?: number;
  /** This app's number among the apps (0: the main thread's; workers 1..): the prefix of its call ids. */
  app?: number;
  /**
   * How many apps share the calls (gateway.workers; the engine gives new calls to each in turn). Default 1.
   */
  apps?: number;
  /**
   * With several apps: the call counts they keep together, so each tenant's and dial peer's maxCalls holds for the
   * gateway; without it each app enforces ceil(maxCalls / apps).
   */
  sharedCounts?: SharedCallCounts;
  /**
   * Keep which calls changed, for `takeCallChanges()` (an app worker's copy of its calls in the pool); called at the
   * first change after each takeCallChanges().
   */
  onCallsChanged?: () => void;
}

export interface B2buaStatsSnapshot extends CallStatsSnapshot {
  /** The policy pipeline's outcomes, when it runs. */
  policy?: PipelineStatsSnapshot;
  /** OPTIONS-ping state of each pinged target and the count of changes, when a tenant pings. */
  trunks?: TrunkMonitorSnapshot;
  /** Each registration trunk's state at its registrar, when a tenant registers. */
  registrations?: RegistrationStatus[];
  /** REGISTERs relayed with Path, requests routed to their flows, and what the relay refused; whenever a policy runs. */
  registerRelay?: RegisterRelaySnapshot;
  /** rtpengine requests, failures and sessions of this app's media pools, once a call of it was anchored. */
  media?: MediaCounters;
  /** Targets held off after a 503 with Retry-After, and failures made final by early media (target-holdoff.ts); whenever a policy runs. */
  failover?: FailoverCounters;
  /** Digest challenges a tenant's credentials were not given to, by why (digest-answer.ts); whenever a policy runs. */
  digestRefused?: DigestRefusalCounts;
  /** Calls refused before any B leg, by whether they got a CDR or were past refusalCdrsPerSecond (refusal-cdr-bucket.ts). */
  refusalCdrs?: RefusalCdrCounts;
  /** App workers (gateway.workers above 1, workers/app-pool.ts): started again after a stop. */
  appWorkerRestarts?: number;
  /** App worker slots with no worker connected now (stopped, waiting out a restart backoff): /health is degraded. */
  appWorkersDown?: number;
  /** App workers that went silent while connected and were ended (workers/liveness.ts). */
  appWorkersUnresponsive?: number;
}

export interface B2buaApp {
  srf: Srf;
  /** The `hostport` the engine reported on authenticate. */
  hostport: string;
  /**
   * The OPTIONS pings, when a tenant of the policy asks for them ('change' events on each state change).
   * A policy swap replaces the monitor (targets still pinged keep their state).
   */
  readonly trunks?: TrunkMonitor;
  /** The policy new calls run through; undefined for the plain bridge. */
  readonly policy?: B2buaPolicy;
  /**
   * Swaps the policy (configuration reload): new INVITEs run a pipeline built from it; calls already past
   * the pipeline, or in it, finish with the policy they started with. Counters go on. Throws
   * ERR_B2BUA_POLICY when the app runs the plain bridge (started without a policy).
   */
  setPolicy(policy: B2buaPolicy): void;
  stats(): B2buaStatsSnapshot;
  /** Connected calls now. */
  readonly activeCalls: number;
  /**
   * Stops taking new calls (shutdown): every new INVITE gets 503 with Retry-After and a Reason, is counted
   * (`refusedDraining`) and gets a CDR line. Calls up go on.
   */
  drain(retryAfterSeconds: number): void;
  /** Resolves when no call is up. */
  drained(): Promise<void>;
  /** Ends every connected call with BYE and `reason` on both legs; how many there were. */
  endCalls(cause: string, reason: string): number;
  /**
   * This thread is ending with calls up or ringing: each call of this thread's app gets its CDR now, with `cause`,
   * without waiting for BYEs or final answers (ActiveCalls.abandonAll); how many. A pool's app workers do this for
   * themselves when they end on their own; when the process exits they go with it, and the pool writes their calls'
   * records from its copy of their call lists (workers/app-pool.ts).
   */
  abandonCalls(cause: string, reason: string): number;
  /** With `onCallsChanged`: this app's calls that began, changed or ended since the last time (else nothing). */
  takeCallChanges(): CallChanges;
  /** The connected calls (of every app, for a pool), at most `limit` of them, oldest answer first. */
  listCalls(limit: number): Promise<CallList>;
  /** Ends one call by its id with BYE and `reason` on both legs, its CDR with `cause`; the app that holds it does. */
  hangUp(id: string, cause: string, reason: string): Promise<HangUpResult>;
  /** Disconnects from the engine. Calls still up are left to the engine. Idempotent. */
  close(): Promise<void>;
}
