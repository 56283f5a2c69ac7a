import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import type { AppRegistry } from './app-registry.js';
import type { EngineCore } from './types.js';
import type { ControlMessage } from './wire/index.js';

// What one app's control connection (app-connection.ts) is given and what it tells, and its limit codes.

/** Codes of this connection's own limits (beside the wire's ControlErrorCode). */
export type AppLimitCode =
  /** An app authenticated while the configured number of apps was already connected: refused. */
  | 'ERR_ENGINE_APP_REFUSED'
  /** The app read nothing while its queue grew past four times the send bound: the connection is closed. */
  | 'ERR_ENGINE_SEND_BUFFER_FULL'
  /** The control listener already held its most connections (authenticated or not): a new one is closed at once. */
  | 'ERR_ENGINE_CONTROL_CONN_LIMIT'
  /** An app asked to route more distinct methods than one app may: NOK, the routes it has stay. */
  | 'ERR_ENGINE_ROUTE_LIMIT';

/** The part of a socket a control connection uses; net.Socket and tls.TLSSocket have it. */
export type ControlSocket = Pick<Socket, 'write' | 'end' | 'destroy' | 'destroyed' | 'remoteAddress' | 'remotePort' | 'on'>;

export interface AppConnectionOptions {
  socket: ControlSocket;
  connId: string;
  secret: string;
  registry: AppRegistry;
  core: EngineCore;
  log: Logger;
  /** Reported on authenticate; starts with `v` so drachtio-srf pings (docs/control-protocol.md §2.10 item 11). */
  version: string;
  maxFrameBytes?: number;
  /** How long an accepted connection may stay unauthenticated (default 10,000 ms; 0 = no limit). */
  authTimeoutMs?: number;
  /**
   * How many apps may be connected at once (default 1: one app owns the gateway's calls). An authenticate past
   * it is answered `NO|…` and the connection closed.
   */
  maxApps?: number;
  /**
   * Bytes that may be queued towards this app (default 4 MiB): past it new INVITEs for it get 503; past four
   * times it the app is taken as stuck and the connection is closed (its calls are then ended).
   */
  maxSendBufferBytes?: number;
  clock?: Clock;
  newMsgId?: () => string;
}

export type AppConnectionEvents = {
  /** The app authenticated; it is in the registry from now on. */
  authenticated: [];
  /** A well-formed control message arrived (after it was handled). */
  message: [ControlMessage];
  /** The connection is gone; emitted once. */
  close: [];
};
