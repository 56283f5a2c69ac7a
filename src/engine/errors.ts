/** Stable codes of the engine's own edge and start-up lines (beside the wire's, the core's and the worker's). */
export type EngineErrorCode =
  /** The engine could not start (a port taken, a TLS profile unusable): the code of the cause when it has one. */
  | 'ERR_ENGINE_START'
  /** A new request from an address no tenant trusts: refused (403 or dropped), counted, logged once a minute. */
  | 'ERR_ENGINE_UNTRUSTED_SOURCE'
  /** A trusted tenant's host name did not resolve; the addresses already known are kept. */
  | 'ERR_ENGINE_TRUST_RESOLVE'
  /** A source sent new requests faster than its rate: 503 with Retry-After, or dropped. */
  | 'ERR_ENGINE_SOURCE_RATE'
  /** The engine's event loop or its app fell behind: new INVITEs get 503 with Retry-After, or are dropped. */
  | 'ERR_ENGINE_OVERLOAD'
  /** The warm-up through loopback sockets failed before the listeners opened: the in-memory one ran instead. */
  | 'ERR_ENGINE_PREWARM'
  /** More new INVITEs refused by the engine than gateway.limits.refusalCdrsPerSecond: those past it get no CDR, only a count. */
  | 'ERR_ENGINE_REFUSAL_CDR_RATE';

/** Events of the engine an operator watches for (listed with what to do in src/events.ts). */
export type EngineEventCode =
  /** A TCP/TLS connection closed by the administrator (admin API or `trunkgate clear connection`). */
  | 'EVT_CONNECTION_CLEARED'
  /** A drachtio app authenticated on the control port: counted (appConnects), logged once a minute per address. */
  | 'EVT_ENGINE_APP_CONNECTED';
