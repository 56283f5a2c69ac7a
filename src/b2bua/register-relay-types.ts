/** The parts of a drachtio-srf request the relay reads, and its `proxy` (the engine's stateful proxy, §2.5). */
export interface RelayRequest {
  method: string;
  uri: string;
  protocol?: string;
  source_address?: string;
  source_port?: number | string;
  get(name: string): string | undefined;
  proxy(opts: { destination: string[]; headers?: Record<string, string>; remainInDialog?: boolean }, callback: (err: unknown, result?: RelayProxyResult) => void): unknown;
}

export interface RelayProxyResult {
  finalStatus?: number;
  finalResponse?: { msg?: { get(name: string): string | undefined } };
}

export interface RelayResponse {
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
}

export interface RegisterRelayCounters {
  /** REGISTERs sent on to a registrar, and those the registrar accepted (2xx). */
  relayed: number;
  accepted: number;
  /**
   * REGISTERs refused: the tenant has no registerRelay (403), or its registrar is not an address (500); the table
   * was full (503), or bindings of REGISTERs sent on together were past maxBindings when their 2xx came (not kept).
   */
  refusedNoRelay: number;
  refusedFull: number;
  /** Requests to a binding sent to the phone's flow; refused for a bad token (403) or a source that is not the registrar's (403). */
  routed: number;
  refusedToken: number;
  refusedSource: number;
  /** Requests with a good token whose flow has no live binding (de-registered, or run out): 430 Flow Failed (RFC 5626 §5.3). */
  refusedFlowFailed: number;
  /** Out-of-dialog MESSAGEs and NOTIFYs with no flow token of ours: 404 (the gateway takes them only for relayed bindings). */
  refusedNoBinding: number;
  /** REGISTERs and requests to a binding the engine could not send on (its proxy failed). */
  notSent: number;
}

export interface RegisterRelaySnapshot extends RegisterRelayCounters {
  /** Flows with a live binding whose latest REGISTER this app took: the apps of one engine share the bindings, and their sum counts each flow once. */
  bindings: number;
}

/** A request the relay refused itself: the status and Reason sent, and the cause its call record gives. */
export interface RelayRefusal {
  status: number;
  /**
   * `flow-token:forged`, `flow-token:expired`, `flow-token:source` (a good token from outside its registrar tenant), or
   * `flow-token:flow-failed` (a good token whose flow has no live binding).
   */
  cause: string;
  reason: string;
}
