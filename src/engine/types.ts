/**
 * The boundary inside the engine between the app side (drachtio control connections: framing, authenticate,
 * route, ping, replies) and the SIP core (transactions, dialogs, what drachtio-server does on its own).
 * Frame formats: docs/control-protocol.md §2.
 */

/** A `sip` command from an app: `msgId|sip|transactionId|dialogId[|routeUri]` CRLF SIP-text. */
export interface AppSipCommand {
  connId: string;
  msgId: string;
  transactionId: string;
  dialogId: string;
  routeUri?: string;
  sip: string;
}

/** A `proxy` command from an app (§2.2). */
export interface AppProxyCommand {
  connId: string;
  msgId: string;
  transactionId: string;
  remainInDialog: boolean;
  fullResponse: boolean;
  followRedirects: boolean;
  simultaneous: boolean;
  provisionalTimeout: string;
  finalTimeout: string;
  destinations: string[];
  sip: string;
}

/** Positional meta of a server→app `sip` frame (§2.3). */
export interface SipFrameMeta {
  source: 'network' | 'application';
  protocol: string;
  address: string;
  port: number | string;
  /** HH:MM:SS.uuuuuu UTC; filled by the app side when absent. */
  time?: string;
  transactionId: string;
  dialogId: string;
  /** Only on new out-of-dialog requests. */
  recvAddr?: string;
  recvPort?: number;
}

export type CdrKind = 'attempt' | 'start' | 'stop';

/** What the SIP core needs from the app side. */
export interface AppHub {
  /** Picks the app for a new out-of-dialog request (round robin among those that routed the method). */
  selectApp(method: string): string | undefined;
  isConnected(connId: string): boolean;
  /** Server→app `sip` frame carrying a SIP message (raw text as received or as generated). */
  sendSip(connId: string, meta: SipFrameMeta, sip: string): void;
  /**
   * Reply to an app command: `msgId|response|appMsgId|<fields joined by '|'>` and, when `sip` is given,
   * CRLF and the SIP text.
   */
  reply(connId: string, appMsgId: string, fields: readonly string[], sip?: string): void;
  /** CDR to one of the apps that routed `cdr:<kind>`; `fields` follow `cdr:<kind>`. */
  sendCdr(kind: CdrKind, fields: string[], sip: string): void;
  /** Whether any app routed `cdr:<kind>`, so the core can skip building the CDR's SIP text. Absent: assume so. */
  wantsCdr?(kind: CdrKind): boolean;
  /** Whether the app's control connection has more queued than its bound (new INVITEs to it get 503). */
  backlogged?(connId: string): boolean;
  /** The app side's counters (apps connected and refused, send-buffer overflows), for stats. */
  counters?(): Record<string, number>;
}

/** What the app side needs from the SIP core. */
export interface EngineCore {
  onAppSip(cmd: AppSipCommand): void;
  onAppProxy(cmd: AppProxyCommand): void;
  onAppDisconnected(connId: string): void;
  /** For the authenticate reply: `OK|<hostports>|<version>|<localHostports>`, e.g. 'udp/127.0.0.1:5060'. */
  hostports(): { hostports: string[]; localHostports: string[] };
}
