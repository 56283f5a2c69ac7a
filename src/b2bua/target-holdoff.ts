import { dialPeerServers } from './b-leg-target.js';
import { outboundBounds } from './middleware/resolve-target.js';
import type { B2buaPolicy } from './policy-types.js';

/** The longest Retry-After honoured (seconds): a longer one is cut to it, so no answer keeps a trunk away for hours. */
export const MAX_HOLD_OFF_SECONDS = 300;

/** What kept calls from trying the next target, since the policy took effect. */
export interface FailoverCounters {
  /** 503s with a usable Retry-After that held a target off. */
  held: number;
  /** Targets passed over for a call because they were held off. */
  skipped: number;
  /** Retry-After values cut to MAX_HOLD_OFF_SECONDS. */
  capped: number;
  /** Holds not kept because the table was full (a `dns:` name answering from more addresses than a call may try). */
  full: number;
  /** Failures that ended the call instead of failing over, because the B leg's early media had reached the caller. */
  earlyMediaFinal: number;
}

/** What names one target: its tenant, its configured server, and for a `dns:` server the Request-URI it resolved to. */
export interface HeldTarget {
  tenant: string;
  server: string;
  uri: string;
}

/**
 * Retry-After's delta-seconds (its comment and parameters ignored), or undefined when it names none or zero.
 *
 * RFC 3261 §20.33: "Retry-After = "Retry-After" HCOLON delta-seconds [ comment ] *( SEMI retry-param )".
 * https://www.rfc-editor.org/rfc/rfc3261#section-20.33
 */
export function retryAfterSeconds(value: string | undefined): number | undefined {
  const m = /^\s*(\d{1,10})(?:\s|;|\(|$)/.exec(value ?? '');
  const n = m ? Number(m[1]) : 0;
  return n > 0 ? n : undefined;
}

/**
 * The targets a trunk asked, with a 503 and Retry-After, not to be sent requests for a while. A configured `host:port`
 * target is held off as itself; a `dns:` name only at the address that answered, since another address of the name is
 * another server. Only configured targets are kept, the table holding one entry for each `host:port` and
 * maxTargetsPerCall for each `dns:` name (counted together), so it is bounded by the configuration whatever the
 * network answers; an entry goes when its time is over.
 *
 * RFC 3261 §21.5.4: "If the server can provide a Retry-After header field, the client SHOULD NOT forward any other
 * requests to that server for the duration specified in the Retry-After header field."
 * https://www.rfc-editor.org/rfc/rfc3261#section-21.5.4
 */
/** The hold-off and failover counters of this app over every policy it ran (a reload starts a table, not the counts). */
const failoverCounters: FailoverCounters = { held: 0, skipped: 0, capped: 0, full: 0, earlyMediaFinal: 0 };

/** A copy of the app's failover counters, for its stats. */
export function failoverCounts(): FailoverCounters {
  return { ...failoverCounters };
}

export class TargetHoldOffs {
  readonly counters: FailoverCounters = failoverCounters;
  readonly #until = new Map<string, number>();
  readonly #configured = new Set<string>();
  readonly #max: number;

  constructor(policy: B2buaPolicy) {
    const perName = outboundBounds(policy).maxTargetsPerCall;
    let max = 0;
    for (const dp of policy.dialPeers) {
      for (const s of dialPeerServers(dp, policy.tenants[dp.tenant])) {
        const k = `${dp.tenant}\u0000${s}`;
        if (this.#configured.has(k)) continue;
        this.#configured.add(k);
        max += s.startsWith('dns:') ? perName : 1;
      }
    }
    this.#max = max;
  }

  /** Holds `t` off for `seconds` (at most MAX_HOLD_OFF_SECONDS) from `now` (ms); the seconds held, or undefined when not kept. */
  hold(t: HeldTarget, seconds: number, now: number): number | undefined {
    if (!this.#configured.has(`${t.tenant}\u0000${t.server}`)) return undefined;
    const s = Math.min(seconds, MAX_HOLD_OFF_SECONDS);
    if (s < seconds) this.counters.capped++;
    const k = key(t);
    if (!this.#until.has(k) && this.#until.size >= this.#max) {
      for (const [old, until] of this.#until) if (until <= now) this.#until.delete(old);
      if (this.#until.size >= this.#max) {
        this.counters.full++;
        return undefined;
      }
    }
    this.#until.set(k, Math.max(this.#until.get(k) ?? 0, now + s * 1000));
    this.counters.held++;
    return s;
  }

  /** Whether a configured `host:port` server is held off now (a `dns:` name is judged per address: `isHeld`). */
  isServerHeld(tenant: string, server: string, now: number): boolean {
    return !server.startsWith('dns:') && this.isHeld({ tenant, server, uri: '' }, now);
  }

  /** Whether this target (for a `dns:` server, this address of it) is held off now. */
  isHeld(t: HeldTarget, now: number): boolean {
    if (this.#until.size === 0) return false;
    const k = key(t);
    const until = this.#until.get(k);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#until.delete(k);
    return false;
  }

  get size(): number {
    return this.#until.size;
  }
}

/** A `dns:` target's address is its Request-URI's host and port; a configured one is its server. */
function key(t: HeldTarget): string {
  if (!t.server.startsWith('dns:')) return `${t.tenant}\u0000${t.server}`;
  const hostport = /^[a-z]+:(?:[^@;]*@)?([^;?]+)/i.exec(t.uri)?.[1] ?? t.uri;
  return `${t.tenant}\u0000${t.server}\u0000${hostport}`;
}

const tables = new WeakMap<B2buaPolicy, TargetHoldOffs>();

/** The hold-offs of one policy's calls (built at its first use; a reload's new policy starts with none). */
export function holdOffsOf(policy: B2buaPolicy): TargetHoldOffs {
  let t = tables.get(policy);
  if (t === undefined) {
    t = new TargetHoldOffs(policy);
    tables.set(policy, t);
  }
  return t;
}
