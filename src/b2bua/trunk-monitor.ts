import type { Logger } from 'pino';
import { systemClock, TypedEmitter, type Clock, type TimerHandle } from '../common/index.js';
import { RateLimitedLog } from '../log/index.js';
import { bLegUri, parseServer } from './b-leg-target.js';
import { ROUTE_HEADER, type B2buaPolicy, type SipTransport } from './policy-types.js';
import { outboundBounds } from './middleware/resolve-target.js';
import { allowedAddresses } from './resolved-address.js';
import type { SipServerResolver } from './rfc3263.js';

/** What the monitor needs from drachtio-srf: `srf.request` for an out-of-dialog OPTIONS. */
export interface PingSrf {
  request(uri: string, opts: { method: string; headers?: Record<string, string> },
    callback: (err: unknown, req?: { on(event: 'response', fn: (res: { status: number }) => void): unknown }) => void): unknown;
}

export type TrunkState = 'unknown' | 'up' | 'down';

/** One pinged target: a tenant's sipServer (or a dial peer's own), as configured. */
export interface TrunkStatus {
  tenant: string;
  server: string;
  state: TrunkState;
  /** Unanswered (or 408/503) pings in a row. */
  failures: number;
  /** The last ping's response status, if it got one. */
  lastStatus?: number;
}

export interface TrunkMonitorSnapshot {
  trunks: TrunkStatus[];
  /** Transitions to down. */
  wentDown: number;
  /** Transitions from down back to up. */
  cameUp: number;
  pings: number;
  pingFailures: number;
  /** Addresses `dns:` targets resolved to that were not pinged (resolved-address.ts), once there were any. */
  resolvedRefused?: number;
}

export type TrunkMonitorEvents = {
  /** A target changed state (unknown → up/down, up ⇄ down). */
  change: [status: TrunkStatus, from: TrunkState];
};

export interface TrunkMonitorOptions {
  srf: PingSrf;
  policy: B2buaPolicy;
  log: Logger;
  clock?: Clock;
  /** For `dns:` targets: every resolved address the gateway may send to is pinged (at most maxTargetsPerCall). */
  resolve?: SipServerResolver;
  /** Where a refused resolved address is logged, once a window per target (default: one of its own on `log`). */
  refusals?: RateLimitedLog;
  /** Longest wait for a ping's response (default: the interval, at most 5 s). */
  timeoutMs?: number;
  /**
   * The state a previous monitor found (a policy reload): targets still pinged keep their state, so a trunk
   * known down stays skipped until it answers again.
   */
  previous?: TrunkMonitorSnapshot;
}

interface Entry {
  status: TrunkStatus;
  intervalMs: number;
  downAfter: number;
  transport: SipTransport;
  scheme: 'sip' | 'sips';
  headers: Record<string, string>;
  timer?: TimerHandle;
  /** Increments per ping, so a late answer to an old ping is ignored. */
  seq: number;
}

/**
 * OPTIONS keepalive (CUBE `voice class sip-options-keepalive`): each target of a tenant with `optionsPing` is
 * sent an OPTIONS every `intervalSeconds`. Any response but 408 and 503 means it is up; `downAfter` pings in
 * a row without an answer (or answered 408/503, or not sendable) mark it down, and the next answer marks it up
 * again. A `dns:` target's ping goes to each address its name resolves to and counts as answered when any of them
 * answers, so a name is down only while every one of its addresses is. Each change is logged once and counted; `isDown` lets dial-peer selection skip down targets.
 *
 * RFC 3261 §11: "The response to an OPTIONS is constructed using the standard rules for a SIP response"; a
 * UAS that answers at all is reachable, whatever the status.
 * https://www.rfc-editor.org/rfc/rfc3261#section-11
 */
export class TrunkMonitor extends TypedEmitter<TrunkMonitorEvents> {
  readonly #opts: TrunkMonitorOptions;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #lines: RateLimitedLog;
  #running = false;
  #wentDown = 0;
  #cameUp = 0;
  #pings = 0;
  #pingFailures = 0;
  #resolvedRefused = 0;

  constructor(opts: TrunkMonitorOptions) {
    super();
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#lines = opts.refusals ?? new RateLimitedLog(opts.log, this.#clock, { intervalMs: 60_000 });
    const { policy } = opts;
    for (const [name, t] of Object.entries(policy.tenants)) {
      if (!t.optionsPing) continue;
      const servers = new Set<string>(t.sipServer === undefined ? [] : typeof t.sipServer === 'string' ? [t.sipServer] : t.sipServer);
      for (const d of policy.dialPeers) if (d.tenant === name && d.sipServer !== undefined) servers.add(d.sipServer);
      const scheme = t.url === 'sips' ? 'sips' : 'sip';
      const transport: SipTransport = scheme === 'sips' ? 'tls' : t.transport ?? 'udp';
      const headers: Record<string, string> = {};
      if (transport === 'tls' && t.tlsProfile !== undefined) headers[ROUTE_HEADER] = `tenant=${name};profile=${t.tlsProfile}`;
      for (const server of servers) {
        const was = opts.previous?.trunks.find((x) => x.tenant === name && x.server === server);
        this.#entries.set(key(name, server), {
          status: was ? { ...was } : { tenant: name, server, state: 'unknown', failures: 0 },
          intervalMs: t.optionsPing.intervalSeconds * 1000,
          downAfter: t.optionsPing.downAfter ?? 1,
          transport, scheme, headers, seq: 0,
        });
      }
    }
  }

  /** Number of targets pinged. */
  get size(): number {
    return this.#entries.size;
  }

  /** True only for a target pinged and found down; unknown targets and targets not pinged count as up. */
  isDown(tenant: string, server: string): boolean {
    return this.#entries.get(key(tenant, server))?.status.state === 'down';
  }

  /** Sends the first ping to every target now, then one per interval. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const e of this.#entries.values()) this.#ping(e);
  }

  /** Stops pinging. Idempotent. */
  close(): void {
    this.#running = false;
    for (const e of this.#entries.values()) {
      e.timer?.cancel();
      delete e.timer;
      e.seq++;
    }
  }

  snapshot(): TrunkMonitorSnapshot {
    return {
      trunks: [...this.#entries.values()].map((e) => ({ ...e.status })),
      wentDown: this.#wentDown, cameUp: this.#cameUp, pings: this.#pings, pingFailures: this.#pingFailures,
      ...(this.#resolvedRefused > 0 ? { resolvedRefused: this.#resolvedRefused } : {}),
    };
  }

  #ping(e: Entry): void {
    if (!this.#running) return;
    const seq = ++e.seq;
    const startedAt = this.#clock.now();
    this.#pings++;
    let done = false;
    const finish = (status: number | undefined, why: string) => {
      if (done || seq !== e.seq) return;
      done = true;
      timeout.cancel();
      this.#result(e, status, why);
      if (!this.#running) return;
      const wait = Math.max(0, e.intervalMs - (this.#clock.now() - startedAt));
      e.timer = this.#clock.setTimeout(() => this.#ping(e), wait);
    };
    const timeoutMs = this.#opts.timeoutMs ?? Math.min(e.intervalMs, 5000);
    const timeout = this.#clock.setTimeout(() => finish(undefined, `no answer in ${timeoutMs} ms`), timeoutMs);
    void this.#targets(e).then((targets) => {
      if (typeof targets === 'string') return finish(undefined, targets);
      if (done || seq !== e.seq) return;
      // A `dns:` name is up while any of its addresses answers: the round ends at the first answer that says so, or
      // when every address has failed (the last failure's status stands for the round).
      let left = targets.length;
      for (const target of targets) {
        let settled = false;
        const one = (status: number | undefined, why: string): void => {
          if (settled) return;
          settled = true;
          left--;
          const at = targets.length > 1 ? ` at ${target.address}` : '';
          if (answeredUp(status)) finish(status, `answered ${status}${at}`);
          else if (left === 0) finish(status, targets.length > 1 ? `none of its ${targets.length} addresses answered (last: ${why}${at})` : why);
        };
        try {
          this.#opts.srf.request(target.uri, { method: 'OPTIONS', headers: target.headers }, (err, req) => {
            if (err || !req) return one(undefined, `not sent: ${err instanceof Error ? err.message : String(err)}`);
            req.on('response', (res) => one(res.status, `answered ${res.status}`));
          });
        } catch (err) {
          one(undefined, `not sent: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    });
  }

  /**
   * Where the ping goes and with which headers, or why it goes nowhere. A `dns:` target is pinged at every resolved
   * address the gateway may send to (as many as a call may try, gateway.outbound.maxTargetsPerCall), since a call
   * tries each in turn: the name is down only when none of them answers. Over TLS the resolved name goes to the engine as X-Trunkgate-Route
   * `domain=`: the identity the server's certificate must carry and the SNI (RFC 5922 §4.1), as for a call, never the
   * address. An address refused as a call's would be (loopback, link-local, the gateway's own: resolved-address.ts)
   * is skipped, counted and logged once a window per target; with none left the ping fails.
   */
  async #targets(e: Entry): Promise<PingTarget[] | string> {
    const server = e.status.server;
    const parsed = parseServer(server);
    if (!parsed) return 'no address';
    const headers = { ...e.headers };
    if (server.startsWith('dns:') && this.#opts.resolve) {
      const r = await this.#opts.resolve(parsed.host, parsed.port, e.transport);
      if (!r.ok || r.targets.length === 0) return 'no address';
      const allowed = allowedAddresses(r.targets, this.#opts.policy, (a, why) => {
        this.#resolvedRefused++;
        const { tenant } = e.status;
        this.#lines.line('warn', 'ERR_B2BUA_TARGET_REFUSED', { tenant, server, address: a.address, port: a.port, why },
          `b2bua: OPTIONS ping of ${tenant} ${server} not sent to ${a.address}:${a.port}: ${why} (gateway.outbound.allowResolved)`, `ping ${tenant} ${server}`);
      });
      if (allowed.length === 0) return 'resolves to no address the gateway may ping';
      return allowed.slice(0, outboundBounds(this.#opts.policy).maxTargetsPerCall).map((a) => {
        const host = a.address.includes(':') ? `[${a.address}]` : a.address;
        const own = { ...headers };
        if (own[ROUTE_HEADER] !== undefined) own[ROUTE_HEADER] += `;domain=${a.domain}`;
        return { uri: bLegUri('', { host, port: a.port }, a.transport, e.scheme), headers: own, address: `${host}:${a.port}` };
      });
    }
    return [{ uri: bLegUri('', parsed, e.transport, e.scheme), headers, address: server }];
  }

  #result(e: Entry, status: number | undefined, why: string): void {
    const s = e.status;
    const ok = answeredUp(status);
    if (status !== undefined) s.lastStatus = status;
    const from = s.state;
    if (ok) {
      s.failures = 0;
      if (from === 'up') return;
      s.state = 'up';
      if (from === 'down') this.#cameUp++;
      this.#opts.log.info({ code: 'EVT_TRUNK_UP', tenant: s.tenant, server: s.server, from, status }, `b2bua: trunk ${s.tenant} ${s.server} is up (${why})`);
    } else {
      this.#pingFailures++;
      s.failures++;
      if (from === 'down' || s.failures < e.downAfter) return;
      s.state = 'down';
      this.#wentDown++;
      this.#opts.log.warn({ code: 'EVT_TRUNK_DOWN', tenant: s.tenant, server: s.server, from, failures: s.failures, status }, `b2bua: trunk ${s.tenant} ${s.server} is down (${why})`);
    }
    this.safeEmit('change', { ...s }, from);
  }
}

/** One OPTIONS of a ping: a configured target, or one address its `dns:` name resolved to. */
interface PingTarget {
  uri: string;
  headers: Record<string, string>;
  address: string;
}

/** Any answer but 408 and 503 shows the target up. */
function answeredUp(status: number | undefined): status is number {
  return status !== undefined && status !== 408 && status !== 503;
}

function key(tenant: string, server: string): string {
  return `${tenant}\u0000${server}`;
}
