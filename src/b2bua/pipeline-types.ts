import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import type { LimitedLevel, RateLimitedLog } from '../log/index.js';
import type { CallHold, CallLimits } from './call-limits.js';
import type { CallRates } from './call-rates.js';
import type { CdrAttempt, CdrRecord } from './cdr-record.js';
import type { B2buaLogCode } from './errors.js';
import type { DialPeerCandidate, PermissionSet } from '../policy/index.js';
import type { PipelineStats } from './pipeline-stats.js';
import type { RefusalCdrGate } from './refusal-cdr-bucket.js';
import type { B2buaDialPeer, B2buaPolicy, SipTransport } from './policy-types.js';
import type { SipServerResolver } from './rfc3263.js';

/** Whether a configured target is known to be down (the OPTIONS ping's TrunkMonitor). */
export interface TrunkHealth {
  isDown(tenant: string, server: string): boolean;
}

/** What the pipeline learns about a call, step by step, in `req.locals`. */
export interface CallLocals {
  callId: string;
  /** clock.now() when the INVITE entered the pipeline. */
  startedAt: number;
  log: Logger;
  /** The From user, as it came. */
  callingNumber?: string;
  /** Where the INVITE came from, and the listener (`address:port`) that took it. */
  sourceAddress?: string;
  sourcePort?: number;
  listener?: string;
  /** The A leg's TLS version and suite (from the engine's X-Trunkgate-Peer). */
  tlsVersion?: string;
  tlsCipher?: string;
  /** The B-leg attempts made so far, each with its answer. */
  targets?: CdrAttempt[];
  /** Set when the caller sent CANCEL, with the CANCEL's Reason if it had one. */
  cancelled?: { reason?: string };
  /** Where the call's CDR goes besides its log line. */
  onCdr?: (record: CdrRecord) => void;
  /** Set once the call's CDR is written: a call has one record, whichever path ends it first. */
  cdrWritten?: boolean;
  /** A refusal before any B leg gets its CDR only within this app's rate of them (refusal-cdr-bucket.ts); absent: always. */
  refusalCdrs?: RefusalCdrGate;
  /** The tenant the call arrived on. */
  tenantIn?: string;
  transportIn?: SipTransport;
  /** Where the tenant came from: the engine's header, or the listener/SNI fallback. */
  tenantSource?: 'header' | 'registration' | 'listener';
  /** Certificate identities the engine verified (TLS only); empty otherwise. */
  identities: string[];
  /** `proxy` when a trusted proxy verified them (the tenant's `proxyIdentity`), not the engine's own TLS. */
  identityOrigin?: 'proxy';
  /** The TLS peer whose permissions apply, and the identity that matched it. */
  tlsPeer?: string;
  peerIdentity?: string;
  permissions?: PermissionSet;
  /** The called number (Request-URI user), normalised. */
  calledNumber?: string;
  category?: string;
  /** Max-Forwards for the B leg: the A leg's less one (absent: the engine's default). */
  maxForwards?: number;
  dialPeers?: DialPeerCandidate<B2buaDialPeer>[];
  /** The slots the call holds against call limits (call-limits.ts), all given back when its CDR is written. */
  callSlots?: CallHold;
}

/** The parts of a drachtio-srf request the pipeline reads (a fake in unit tests). */
export interface PipelineRequest {
  method: string;
  uri: string;
  body?: string;
  protocol?: string;
  source_address?: string;
  source_port?: number;
  /** `address:port` of the listener that received it (drachtio's recvAddr/recvPort). */
  receivedOn?: string;
  /** drachtio-srf emits 'cancel' with the CANCEL when the caller cancels (absent on fakes). */
  on?(event: 'cancel', listener: (cancel?: { get?(name: string): string | undefined }) => void): unknown;
  /** The SIP message drachtio-srf parsed: its headers object is edited in place to remove a header. */
  msg?: { headers: Record<string, unknown> };
  get(name: string): string | undefined;
  has(name: string): boolean;
  locals?: CallLocals;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string;
}

export interface PipelineResponse {
  finalResponseSent?: boolean;
  send(status: number, reason?: string, opts?: SendOptions): void;
}

export type Next = (err?: unknown) => void;
export type Middleware<Req extends PipelineRequest = PipelineRequest, Res extends PipelineResponse = PipelineResponse> =
  (req: Req, res: Res, next: Next) => void;

/** What every step is built from. */
export interface PipelineDeps {
  policy: B2buaPolicy;
  stats: PipelineStats;
  log: Logger;
  clock: Clock;
  /** Targets found down by OPTIONS pings are skipped while another target is up. Absent: none is down. */
  trunks?: TrunkHealth;
  /** Resolves `dns:` targets (RFC 3263). Absent: the name goes into the Request-URI as is. */
  resolve?: SipServerResolver;
  /** Refusal lines, rate-limited per code and source address (absent: every one is written). */
  refusals?: RateLimitedLog;
  /** Each call's CDR, besides its `cdr` log line (the JSON-lines file, the database). */
  onCdr?: (record: CdrRecord) => void;
  /** The app's bound on the CDRs of calls refused before any B leg (gateway.limits.refusalCdrsPerSecond). Absent: no bound. */
  refusalCdrs?: RefusalCdrGate;
  /** The calls held per tenant and dial peer against their maxCalls, across policy swaps. Absent: no limit is applied. */
  limits?: CallLimits;
  /** The token buckets of tenants and dial peers with a maxCallsPerSecond, across policy swaps. Absent: no rate is applied. */
  rates?: CallRates;
}

/** One refusal's log line with its code: rate-limited per code and source when the pipeline has a limiter. */
export function refusalLine(deps: PipelineDeps, req: PipelineRequest, level: LimitedLevel, code: B2buaLogCode | string,
  fields: Record<string, unknown>, msg: string): void {
  const log = req.locals?.log ?? deps.log;
  if (!deps.refusals) {
    log[level]({ code, ...fields }, msg);
    return;
  }
  deps.refusals.line(level, code, { callId: req.locals?.callId, source: req.source_address, ...fields }, msg, req.source_address);
}

/** The locals of a request that went through identify-peer (every later step relies on it). */
export function localsOf(req: PipelineRequest): CallLocals {
  if (!req.locals) throw new Error('b2bua pipeline: identify-peer must run first');
  return req.locals;
}

/** Sends a final response once, with a Reason header when given (RFC 3326) and any other headers. */
export function refuse(res: PipelineResponse, status: number, reasonHeader?: string, headers?: Record<string, string>): void {
  if (res.finalResponseSent) return;
  res.send(status, undefined, reasonHeader || headers ? { headers: { ...headers, ...(reasonHeader ? { Reason: reasonHeader } : {}) } } : {});
}
