import type { Logger } from 'pino';
import { RateLimitedLog, silentLogger } from '../log/index.js';
import { newLocalId, systemClock } from '../common/index.js';
import { RefusedInputLog } from '../sip/transport/input-log.js';
import type { AppHub, CdrKind, SipFrameMeta } from './types.js';
import { buildCdrFrame, buildResponse, buildSipFrame } from './wire/index.js';

/** What the registry needs of an authenticated app connection. */
export interface AppEndpoint {
  readonly connId: string;
  readonly tags: readonly string[];
  /** Frames and writes one payload; a no-op once the connection is closed. */
  send(payload: string): void;
  /** Whether more than the connection's send bound is queued (absent: never). */
  backlogged?(): boolean;
  /** The app's address and port, for log lines. */
  readonly remote?: string;
}

export interface AppRegistryOptions {
  log?: Logger;
  /** msgIds of server frames; UUIDs by default, fixed in tests. */
  newMsgId?: () => string;
  /** Time stamped into `sip` frames whose meta has none. */
  now?: () => Date;
}

/** Distinct methods one app may route (drachtio-srf routes a few; anything past this is not an app's normal use). */
export const MAX_ROUTES_PER_APP = 64;

/**
 * The apps connected to the engine and the verbs each one routed (docs/control-protocol.md §2.6): new
 * out-of-dialog requests go round-robin among the apps that routed the method, matched case-insensitively;
 * CDRs round-robin among those that routed `cdr:<kind>`. It is the engine core's AppHub: everything the core
 * sends to an app goes through here, addressed by connId.
 *
 * Differences from drachtio-server, on purpose: `remove_route` removes only the named verb (drachtio-server
 * drops every route of the client), and routing one verb twice does not add a second entry (drachtio-server
 * adds a duplicate, which skews its round robin).
 */
export class AppRegistry implements AppHub {
  readonly #log: Logger;
  readonly #newMsgId: () => string;
  readonly #now: () => Date;
  readonly #apps = new Map<string, { app: AppEndpoint; verbs: Set<string> }>();
  /** verb (lower case) → connIds in the order they routed it. */
  readonly #routes = new Map<string, string[]>();
  readonly #cursor = new Map<string, number>();
  #appsRefused = 0;
  /** One warn line per code per minute for refused apps and stuck connections (an app retrying cannot flood it). */
  readonly #refusedLog: RefusedInputLog;
  #sendBufferOverflows = 0;
  /** Commands refused and control connections closed for what an app sent (bad frames, bad commands, bad secret). */
  #controlErrors = 0;
  #controlConnectionsRefused = 0;
  /** Connections not yet authenticated closed to make room for a new one (control-server.ts). */
  #controlUnauthenticatedEvicted = 0;
  #controlListenerErrors = 0;
  /** Apps that authenticated, and those of them whose connection then closed. */
  #appConnects = 0;
  #appDisconnects = 0;
  /** One line a minute per app address for its connects and disconnects, the rest summed up at the minute's end. */
  readonly #appLines: RateLimitedLog;

  constructor(options: AppRegistryOptions = {}) {
    this.#log = options.log ?? silentLogger();
    this.#newMsgId = options.newMsgId ?? newLocalId;
    this.#now = options.now ?? (() => new Date());
    this.#refusedLog = new RefusedInputLog(this.#log, systemClock);
    this.#appLines = new RateLimitedLog(this.#log, systemClock, { intervalMs: 60_000, summaries: true });
  }

  get size(): number {
    return this.#apps.size;
  }

  connIds(): string[] {
    return [...this.#apps.keys()];
  }

  /** Adds an authenticated app. Adding the same connId again replaces its endpoint and keeps its routes. */
  add(app: AppEndpoint): void {
    const entry = this.#apps.get(app.connId);
    if (entry) entry.app = app;
    else this.#apps.set(app.connId, { app, verbs: new Set() });
  }

  /** Removes an app and every route it held; true when it was registered. */
  remove(connId: string): boolean {
    const entry = this.#apps.get(connId);
    if (!entry) return false;
    for (const verb of entry.verbs) this.#unroute(connId, verb);
    this.#apps.delete(connId);
    return true;
  }

  /** Routes `verb` to the app; false (nothing changed) when the app already routes MAX_ROUTES_PER_APP methods. */
  addRoute(connId: string, verb: string): boolean {
    const entry = this.#apps.get(connId);
    if (!entry) return true;
    const v = verb.toLowerCase();
    if (entry.verbs.has(v)) return true;
    if (entry.verbs.size >= MAX_ROUTES_PER_APP) {
      this.controlError('ERR_ENGINE_ROUTE_LIMIT', `more than ${MAX_ROUTES_PER_APP} methods routed`, entry.app.remote ?? '-', 'control: route refused');
      return false;
    }
    entry.verbs.add(v);
    const list = this.#routes.get(v);
    if (list) list.push(connId);
    else this.#routes.set(v, [connId]);
    return true;
  }

  /** Removes only the named verb of this app. */
  removeRoute(connId: string, verb: string): void {
    const entry = this.#apps.get(connId);
    const v = verb.toLowerCase();
    if (!entry?.verbs.delete(v)) return;
    this.#unroute(connId, v);
  }

  routesOf(connId: string): string[] {
    return [...(this.#apps.get(connId)?.verbs ?? [])];
  }

  tagsOf(connId: string): readonly string[] {
    return this.#apps.get(connId)?.app.tags ?? [];
  }

  isConnected(connId: string): boolean {
    return this.#apps.has(connId);
  }

  backlogged(connId: string): boolean {
    return this.#apps.get(connId)?.app.backlogged?.() === true;
  }

  /** An app refused at authenticate because maxApps were connected: counted, logged (rate-limited). */
  countRefusedApp(remote: string, reason: string): void {
    this.#appsRefused++;
    this.#refusedLog.refused('ERR_ENGINE_APP_REFUSED', reason, remote, 'control', 'control: app refused at authenticate');
  }

  /** A control connection closed at accept because apps held every slot of the listener: counted, logged (rate-limited). */
  countRefusedConnection(remote: string, max: number): void {
    this.#controlConnectionsRefused++;
    this.#refusedLog.refused('ERR_ENGINE_CONTROL_CONN_LIMIT', `${max} control connections open`, remote, 'control', 'control: connection refused at accept');
  }

  /**
   * A control connection not yet authenticated closed because the listener held its most and a new one came:
   * counted, logged under the code and rate limit of a refused one (a connection opened in a loop makes one line).
   */
  countEvictedConnection(remote: string, max: number): void {
    this.#controlUnauthenticatedEvicted++;
    this.#refusedLog.refused('ERR_ENGINE_CONTROL_CONN_LIMIT', `${max} control connections open: the oldest not yet authenticated closed for a new one`,
      remote, 'control', 'control: connection not yet authenticated closed to make room');
  }

  /** An app connection closed because it let its send queue grow past the hard bound: counted, logged. */
  countSendBufferOverflow(remote: string, reason: string): void {
    this.#sendBufferOverflows++;
    this.#refusedLog.refused('ERR_ENGINE_SEND_BUFFER_FULL', reason, remote, 'control', 'control: app connection closed, it does not read');
  }

  /**
   * Something an app sent was refused (a command that does not parse, an unknown type, a frame too large, a wrong
   * secret): counted, and logged through the same rate limit, so an app, or anything that reaches the control
   * port, cannot flood the log.
   */
  controlError(code: string, reason: string, remote: string, msg: string): void {
    this.#controlErrors++;
    this.#refusedLog.refused(code, reason, remote, 'control', msg);
  }

  /** The bound control listener reported an error (an accept that failed): counted, logged (rate-limited). */
  countListenerError(e: NodeJS.ErrnoException, listener: string): void {
    this.#controlListenerErrors++;
    this.#refusedLog.refused('ERR_ENGINE_CONTROL_LISTENER', `${e.code ?? e.message} on ${listener}`, '-', 'control', 'control: listener error');
  }

  /**
   * An app authenticated (`address`: its IP, without the port): counted, and logged once a minute per address, so an
   * app that connects and drops in a loop is seen without a line per connection (EVT_ENGINE_APP_CONNECTED).
   */
  appConnected(address: string, fields: Record<string, unknown>): void {
    this.#appConnects++;
    this.#appLines.line('info', 'EVT_ENGINE_APP_CONNECTED', { address, ...fields }, 'control: app authenticated', address);
  }

  /** An authenticated app's connection closed: counted, and logged as its connect is (ERR_ENGINE_APP_GONE). */
  appDisconnected(address: string, fields: Record<string, unknown>): void {
    this.#appDisconnects++;
    this.#appLines.line('info', 'ERR_ENGINE_APP_GONE', { address, ...fields }, 'control: app disconnected', address);
  }

  /** Writes the pending summary lines of app connects and disconnects and stops their timers. Idempotent. */
  closeLog(): void {
    this.#appLines.close();
  }

  counters(): Record<string, number> {
    return { appsConnected: this.#apps.size, appConnects: this.#appConnects, appDisconnects: this.#appDisconnects, appsRefused: this.#appsRefused, appSendBufferOverflows: this.#sendBufferOverflows, controlErrors: this.#controlErrors,
      controlConnectionsRefused: this.#controlConnectionsRefused, controlUnauthenticatedEvicted: this.#controlUnauthenticatedEvicted,
      controlListenerErrors: this.#controlListenerErrors };
  }

  /**
   * The app a new request of `method` goes to: round-robin among the apps that routed it, passing over an app whose
   * control connection is backed up (app-connection.ts) while another is not, so one slow worker does not get its
   * share of new calls refused; when every app is backed up, the turn's app (its INVITE is then refused 503).
   */
  selectApp(method: string): string | undefined {
    const verb = method.toLowerCase();
    const list = this.#routes.get(verb) ?? [];
    for (let tries = 0; tries < list.length; tries++) {
      const connId = this.#pick(verb, list);
      if (connId !== undefined && !this.backlogged(connId)) return connId;
    }
    return this.#pick(verb, list);
  }

  /** The first connected app carrying `tag`, round-robin among several (outbound mode's `route {tag}`, §2.7). */
  selectAppByTag(tag: string): string | undefined {
    const withTag = [...this.#apps.values()].filter((e) => e.app.tags.includes(tag)).map((e) => e.app.connId);
    return this.#pick(`tag:${tag}`, withTag);
  }

  sendSip(connId: string, meta: SipFrameMeta, sip: string): void {
    this.#send(connId, () => buildSipFrame(this.#newMsgId(), meta, sip, this.#now()));
  }

  reply(connId: string, appMsgId: string, fields: string[], sip?: string): void {
    this.#send(connId, () => buildResponse(this.#newMsgId(), appMsgId, fields, sip));
  }

  sendCdr(kind: CdrKind, fields: string[], sip: string): void {
    const connId = this.#next(`cdr:${kind}`);
    if (connId === undefined) return;
    this.#send(connId, () => buildCdrFrame(this.#newMsgId(), kind, fields, sip));
  }

  wantsCdr(kind: CdrKind): boolean {
    return (this.#routes.get(`cdr:${kind}`)?.length ?? 0) > 0;
  }

  #send(connId: string, build: () => string): void {
    const entry = this.#apps.get(connId);
    if (!entry) {
      this.#log.debug({ connId }, 'control: frame for an app that is gone, dropped');
      return;
    }
    entry.app.send(build());
  }

  #next(verb: string): string | undefined {
    return this.#pick(verb, this.#routes.get(verb) ?? []);
  }

  #pick(key: string, list: readonly string[]): string | undefined {
    if (list.length === 0) return undefined;
    const i = (this.#cursor.get(key) ?? 0) % list.length;
    this.#cursor.set(key, i + 1);
    return list[i];
  }

  #unroute(connId: string, verb: string): void {
    const list = this.#routes.get(verb);
    if (!list) return;
    const i = list.indexOf(connId);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) {
      this.#routes.delete(verb);
      this.#cursor.delete(verb);
    }
  }
}
