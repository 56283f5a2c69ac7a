import type { TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import type { TimerSettings, TransactionLayer } from '../sip/transaction/index.js';
import type { Flow, ListenerInfo, TransportLayer, TransportProtocol } from '../sip/transport/index.js';
import type { SipRequest } from '../sip/message/index.js';
import type { AppRegistry } from './app-registry.js';
import type { EngineTlsOptions } from './engine-tls.js';
import type { EngineCore } from './types.js';
import type { CoreLimits } from './core/limits.js';
import type { DialogPeer } from './core/dialog-peer.js';
import type { ProxyIdentityTenant } from './core/proxy-identity.js';
import type { SourceTrustOptions } from './source-trust.js';
import type { OverloadOptions } from './overload.js';
import type { LoopbackWarmUp } from './prewarm.js';
import type { RefusalRecord } from './refusal-record.js';

// What an engine (engine.ts) is built from and what it reports once listening.

/** One SIP listener of the engine (the shape of `gateway.listen` in the configuration). */
export interface EngineListenerOptions {
  transport: TransportProtocol;
  host: string;
  port: number;
  /** Defaults to `<transport>-<host>-<port>`. */
  id?: string;
  /** TLS listeners: Node `tls` server options (key and cert at least); without them, `tlsProfile` from `EngineOptions.tls`. */
  tls?: TlsOptions;
  tenant?: string;
  tlsProfile?: string;
  /** TLS listeners with a profile: profiles an SNI may select here (default: every profile). */
  sniProfiles?: string[];
  /** TLS listeners with a profile: refuse a handshake whose SNI names no profile. */
  refuseUnknownSni?: boolean;
  /** A tenant's own listener: the engine starts without it when it cannot bind (logged ERR_SIP_TRANSPORT_BIND, CUBE's LISTEN_SOCKET). */
  optional?: boolean;
}

export interface EngineControlOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9022; 0 picks a free port. */
  port?: number;
  secret: string;
  /** Largest control frame accepted from an app (default 1 MiB). */
  maxFrameBytes?: number;
  /** Apps connected at once (default 1: one app owns the gateway's calls); more are refused at authenticate. */
  maxApps?: number;
  /** Bytes queued towards one app before new INVITEs for it get 503 (default 4 MiB). */
  maxSendBufferBytes?: number;
}

/** The transport's bounds as plain data (gateway.limits). */
export interface TransportLimits {
  maxConnections?: number;
  maxConnectionsPerSource?: number;
  /** TCP connect plus TLS handshake, both directions (default 10,000 ms). */
  handshakeTimeoutMs?: number;
  /** An inbound connection not used (no request of it admitted, none of ours sent on it) this long after it opened is closed (default 60,000). */
  unusedTimeoutMs?: number;
  /** A used TCP/TLS connection is closed after this long without traffic (default 3,600,000 ms). */
  idleTimeoutMs?: number;
  /** A message must be complete this long after its first byte (default 10,000 ms). */
  messageTimeoutMs?: number;
  /** Bytes that may wait unread by a TCP/TLS peer before its connection is closed (default 1 MiB). */
  maxSendBufferBytes?: number;
  /** Outbound TCP/TLS connections open or connecting at once (default 1,024). */
  maxOutboundConnections?: number;
  /** Of those, to one remote address (default 64). */
  maxOutboundConnectionsPerAddress?: number;
  maxMessageBytes?: number;
  maxHeaders?: number;
  /** New requests a second per source address (default 500; 0: no limit) and the burst (default twice that). */
  requestsPerSecondPerSource?: number;
  requestBurstPerSource?: number;
  /** A request over the rate: 503 with Retry-After and a Reason (reject, default) or no answer (drop). */
  overRate?: 'reject' | 'drop';
  /** 400s a second one source may be sent for messages that cannot be parsed, burst twice that (default 5). */
  badRequestsPerSecondPerSource?: number;
  /** TLS handshakes in progress at once, in total and per source address (defaults 128 and 16). */
  maxHandshakes?: number;
  maxHandshakesPerSource?: number;
  /** CDRs a second for new INVITEs the engine refuses itself, burst twice that (default 50; 0: none; refusal-records.ts). */
  refusalCdrsPerSecond?: number;
  /** The transaction layer's caps: transactions at work (default 50,000) and those waiting out their final timer (150,000). */
  maxTransactions?: number;
  maxTransactionWaits?: number;
}

/** What the SIP core is built from. */
export interface EngineCoreDeps {
  hub: AppRegistry;
  transport: TransportLayer;
  transactions: TransactionLayer;
  clock: Clock;
  log: Logger;
}

/** A core the engine can close with the rest; close() is optional and may be async. */
export type ClosableEngineCore = EngineCore & {
  close?(): void | Promise<void>;
  onConnectionLost?(connectionId: string, reason: string): void;
  onConnectionClosedByPeer?(connectionId: string): void;
  /** New INVITEs handed to an app that has not answered them yet. */
  unansweredInvites?(): number;
  /**
   * Who may send in the dialog an in-dialog request names, or undefined when it names none; the count of those that
   * named none, and of those refused for coming from elsewhere (edge-guard.ts, core/edge-dialogs.ts).
   */
  dialogPeer?(request: SipRequest): DialogPeer | undefined;
  strayInDialog?(request: SipRequest, flow: Flow): void;
  dialogSourceRefused?(request: SipRequest, flow: Flow, tenant: string | undefined): void;
  /** The gateway is draining: OPTIONS to it get 503 with Retry-After, so a load balancer's probe takes it out. */
  drain?(retryAfterSeconds: number): void;
  /** Retry-After of the core's 503s past a table cap, changed by a configuration reload. */
  setRetryAfterSeconds?(seconds: number): void;
  /** The tenants' proxy identity rules, replaced when the trusted sources are reloaded. */
  replaceProxyIdentity?(tenants: ProxyIdentityTenant[]): void;
};

export interface EngineOptions {
  listen: EngineListenerOptions[];
  control: EngineControlOptions;
  /** RFC 3261 timers T1, T2, T4 (ms). */
  timers?: Partial<TimerSettings>;
  log?: Logger;
  clock?: Clock;
  /** TLS profiles: listeners name one in `tlsProfile`, B legs in X-Trunkgate-Route. */
  tls?: EngineTlsOptions;
  /** Answer times and table caps of the SIP core (defaults in core/limits.ts). */
  limits?: CoreLimits;
  /** Bounds of the SIP transport: connections, handshakes, message time and size (defaults in the transport). */
  transportLimits?: TransportLimits;
  /** Trusted sources per tenant: new requests from anywhere else are refused before the core sees them. */
  trust?: SourceTrustOptions;
  /** Overload control: new INVITEs shed while the engine thread is saturated or the app falls behind (defaults in overload.ts). */
  overload?: OverloadOptions;
  /** Builds the SIP core over the layers (tests plug a fake in); the engine's own core when absent. */
  createCore?: (deps: EngineCoreDeps) => ClosableEngineCore;
  /** Synthetic calls before the listeners open (prewarm.ts): through `loopbackWarmUp` when given, else in memory; default 0. */
  prewarmCalls?: number;
  /** The warm-up through real loopback sockets in this thread (prewarm.ts loopbackWarmUpFrom). */
  loopbackWarmUp?: LoopbackWarmUp;
  /**
   * The listeners open only once this settles (after the pre-warm): while the app's thread warms itself up, no call
   * can arrive that it would not take. Absent: at once.
   */
  listenWhen?: Promise<unknown>;
  /**
   * Where the records of new INVITEs the engine refused go, a batch per event-loop turn (refusal-records.ts): the
   * gateway writes each as a CDR. Absent: no records are made.
   */
  onRefusalRecords?: (records: RefusalRecord[]) => void;
}

/** Where an engine listens, once started. */
export interface EngineAddresses {
  sip: ListenerInfo[];
  control: { host: string; port: number };
}

export type EngineState = 'new' | 'starting' | 'started' | 'closed';
