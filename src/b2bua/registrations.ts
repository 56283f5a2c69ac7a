import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../common/index.js';
import { RateLimitedLog } from '../log/index.js';
import { parseServer } from './b-leg-target.js';
import { challengeJudge } from './digest-answer.js';
import type { RegisterSrf, RegistrationEntry as Entry, RegistrationSpec, RegistrationState, RegistrationStatus } from './register-types.js';
import { carriedOver, type Carried } from './register-handover.js';
import { flowOfAnswer, probeRegistrar } from './register-probe.js';
import { sendRegister } from './register-send.js';
import { registrarTarget, type ResolvedScreen } from './register-target.js';
import { grantedExpires, refreshDelayMs, retryDelayMs, type RegisterAnswer } from './register-timing.js';
import type { ResolvedAddressPolicy } from './resolved-address.js';
import type { SipServerResolver } from './rfc3263.js';

export { registrationSpecs } from './register-specs.js';

export type { RegisterSrf, RegistrationSpec, RegistrationState, RegistrationStatus } from './register-types.js';

const NO_POLICY: ResolvedAddressPolicy = {};

export interface RegistrationsOptions {
  srf: RegisterSrf;
  specs: RegistrationSpec[];
  log: Logger;
  clock?: Clock;
  resolve?: SipServerResolver;
  /**
   * gateway.outbound and the listeners: which addresses a `dns:` registrar may resolve to (absent: none that is
   * loopback, unspecified, link-local, multicast or broadcast, and no allowResolved).
   */
  policy?: ResolvedAddressPolicy;
  /** Longest wait for the registrar's final answer (default 10 s). */
  timeoutMs?: number;
  /** Where a registrar's repeated 423 and its refused addresses are logged, once a window per tenant (default: one of its own on `log`). */
  refusals?: RateLimitedLog;
  /** The registrations a policy reload replaces: each unchanged registration goes on from where it stood there. */
  previous?: Registrations;
}

/**
 * Registration trunks: each tenant with `register` keeps its contact bound at its registrar (RFC 3261 §10).
 * "UAs MUST NOT send a new registration (that is, containing new Contact header field values, as opposed to a
 * retransmission) until they have received a final response from the registrar for the previous one" — one
 * REGISTER at a time per tenant, the same Call-ID and a rising CSeq for its whole life (§10.2). A refresh goes
 * out before the binding runs out; a failure waits (doubling from retrySeconds.min to .max) and tries the next
 * address of the registrar; a binding that runs out unrefreshed is `failed`. Each change of state is logged once.
 * The Request-URI names the registration's domain, sent to the registrar's address (register-target.ts); its
 * challenge is answered here, once a REGISTER (register-send.ts).
 */
export class Registrations {
  readonly #o: RegistrationsOptions;
  readonly #clock: Clock;
  readonly #entries: Entry[];
  readonly #lines: RateLimitedLog;
  /** Registrations taken over from the ones a reload replaced, until they are resumed. */
  readonly #carried = new Map<Entry, Carried>();
  #running = false;

  constructor(o: RegistrationsOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#lines = o.refusals ?? new RateLimitedLog(o.log, this.#clock, { intervalMs: 60_000 });
    const previous = o.previous ? o.previous.#entries : [];
    this.#entries = o.specs.map((spec) => {
      const c = carriedOver(spec, previous);
      if (c) {
        this.#carried.set(c.entry, c.carried);
        return c.entry;
      }
      const domain = spec.domain ?? parseServer(spec.registrar)?.host ?? spec.registrar;
      return {
        spec, callId: `${randomUUID()}@trunkgate`, cseq: 0, next: 0, expires: spec.expires, seq: 0, probeSeq: 0, lost: false, busy: false, retried423: false,
        status: {
          tenant: spec.tenant, registrar: spec.registrar, aor: `${spec.scheme}:${spec.username}@${domain}`, contactUser: spec.contactUser, state: 'unregistered',
          failures: 0, registers: 0, intervalTooBrief: 0,
        },
      };
    });
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The tenant whose registered contact user this is (an INVITE to it is that tenant's call). */
  tenantForUser(user: string | undefined): string | undefined {
    if (user === undefined) return undefined;
    return this.#entries.find((e) => e.spec.contactUser === user)?.spec.tenant;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const e of this.#entries) {
      const c = this.#carried.get(e);
      this.#carried.delete(e);
      if (c) this.#resume(e, c);
      else this.#register(e);
    }
  }

  /**
   * A registration carried over a reload picks up where it stood: a binding runs out when it would have, the next
   * REGISTER goes when it was due. One was out: its answer went to the registrations replaced, so the next waits for
   * that one's timeout ("until they have received a final response [...] or the previous REGISTER request has timed
   * out", https://www.rfc-editor.org/rfc/rfc3261#section-10.2).
   */
  #resume(e: Entry, c: Carried): void {
    const now = this.#clock.now();
    const s = e.status;
    if (s.state === 'registered' && s.expiresAt !== undefined) {
      if (s.expiresAt <= now) this.#change(e, 'failed', 'the binding ran out before a refresh succeeded');
      else e.expiry = this.#clock.setTimeout(() => this.#change(e, 'failed', 'the binding ran out before a refresh succeeded'), s.expiresAt - now);
      this.#scheduleProbe(e);
    }
    if (c.busy) {
      // Still out as far as the registrar knows: the probe must not send another beside it.
      e.busy = true;
      return this.#schedule(e, this.#o.timeoutMs ?? 10_000);
    }
    if (c.dueAt === undefined) return this.#register(e);
    this.#schedule(e, Math.max(0, c.dueAt - now));
  }

  close(): void {
    this.#running = false;
    for (const e of this.#entries) {
      e.timer?.cancel();
      e.expiry?.cancel();
      e.probe?.cancel();
      e.seq++;
      e.probeSeq++;
    }
  }

  snapshot(): RegistrationStatus[] {
    return this.#entries.map((e) => ({ ...e.status }));
  }

  /** Sends one REGISTER: a new cycle, or (`retry423`) the one retry a cycle gets after a 423. */
  #register(e: Entry, retry423 = false): void {
    if (!this.#running) return;
    const seq = ++e.seq;
    delete e.dueAt;
    e.retried423 = retry423;
    let done = false;
    e.busy = true;
    const finish = (res: RegisterAnswer | undefined, why: string): void => {
      if (done || seq !== e.seq) return;
      done = true;
      e.busy = false;
      timeout.cancel();
      this.#answered(e, res, why);
    };
    const timeoutMs = this.#o.timeoutMs ?? 10_000;
    const timeout = this.#clock.setTimeout(() => finish(undefined, `no answer in ${timeoutMs} ms`), timeoutMs);
    void registrarTarget(e.spec, e.next, this.#o.resolve, this.#screen(e)).then((t) => {
      if (typeof t === 'string') return finish(undefined, t);
      if (done || seq !== e.seq) return;
      e.status.target = t.at;
      e.status.registers++;
      const s = e.spec;
      const aor = `<${e.status.aor}>`;
      sendRegister({
        srf: this.#o.srf, target: t, username: s.username, password: s.password,
        headers: { From: aor, To: aor, 'Call-ID': e.callId, Expires: String(e.expires), Contact: `<${s.scheme}:${s.contactUser}@localhost>`, ...t.headers },
        nextCSeq: () => ++e.cseq,
        judge: challengeJudge({ username: s.username, password: s.password, ...(s.realm !== undefined ? { realm: s.realm } : {}) }, this.#o.log, s.tenant, this.#lines),
        current: () => !done && seq === e.seq,
        done: finish,
      });
    });
  }

  #answered(e: Entry, res: RegisterAnswer | undefined, why: string): void {
    const s = e.status;
    if (res !== undefined) s.lastStatus = res.status;
    if (res !== undefined && res.status === 423) {
      // "the registrar MAY reject the request with a 423 [...] and include a Min-Expires" (§10.2.8): ask again with it,
      // once a cycle. A 423 to that retry too is a failure and waits like one: a registrar that raises Min-Expires
      // on every answer cannot make the gateway register back to back.
      const min = Number.parseInt(res.get?.('Min-Expires') ?? '', 10);
      const usable = Number.isInteger(min) && min > e.expires && min <= 86_400;
      const asked = e.expires;
      if (usable) e.expires = min;
      if (usable && !e.retried423) return this.#register(e, true);
      why = `answered 423 with Min-Expires ${Number.isInteger(min) ? min : 'missing'} to Expires ${asked}${e.retried423 ? ' again' : ''}`;
      s.intervalTooBrief++;
      this.#lines.line('warn', 'ERR_B2BUA_REGISTER_TOO_BRIEF', { tenant: s.tenant, registrar: s.registrar, minExpires: Number.isInteger(min) ? min : null, expires: asked, count: s.intervalTooBrief },
        `b2bua: the registrar of ${s.tenant} ${why}; registering again after the retry wait`, s.tenant);
    }
    if (res !== undefined && res.status >= 200 && res.status < 300) {
      const granted = grantedExpires(res, e.spec.contactUser, e.expires);
      s.failures = 0;
      delete s.lastError;
      s.granted = granted;
      e.flow = flowOfAnswer(res);
      e.lost = false;
      this.#scheduleProbe(e);
      s.expiresAt = this.#clock.now() + granted * 1000;
      this.#change(e, 'registered', why);
      e.expiry?.cancel();
      e.expiry = this.#clock.setTimeout(() => this.#change(e, 'failed', 'the binding ran out before a refresh succeeded'), granted * 1000);
      this.#schedule(e, refreshDelayMs(granted));
      return;
    }
    s.failures++;
    s.lastError = why;
    e.next++;
    // A binding still valid stays registered until it runs out; a tenant never registered (or run out) has failed.
    if (s.state !== 'registered') this.#change(e, 'failed', why);
    else this.#o.log.warn({ code: 'EVT_REGISTRATION_DOWN', tenant: s.tenant, registrar: s.registrar, why, failures: s.failures }, `b2bua: refreshing the registration of ${s.tenant} failed (${why}); the binding holds until it runs out`);
    this.#schedule(e, retryDelayMs(s.failures, e.spec.retrySeconds));
  }

  #change(e: Entry, to: RegistrationState, why: string): void {
    const s = e.status;
    if (s.state === to) return;
    const from = s.state;
    s.state = to;
    const fields = { tenant: s.tenant, registrar: s.registrar, aor: s.aor, from, target: s.target, granted: s.granted, status: s.lastStatus };
    if (to === 'registered') this.#o.log.info({ code: 'EVT_REGISTRATION_UP', ...fields }, `b2bua: ${s.tenant} registered at ${s.target ?? s.registrar} (${why}, ${s.granted ?? '?'} s)`);
    else this.#o.log.warn({ code: 'EVT_REGISTRATION_DOWN', ...fields, why }, `b2bua: ${s.tenant} not registered at ${s.registrar} (${why})`);
  }

  #scheduleProbe(e: Entry): void {
    e.probe?.cancel();
    const every = e.spec.probeSeconds ?? 0;
    if (!this.#running || every <= 0) return;
    const seq = ++e.probeSeq;
    e.probe = this.#clock.setTimeout(() => void this.#probe(e, seq), every * 1000);
  }

  /**
   * A probe of a registered trunk's registrar. RFC 5626 §4.4.1 has a UA whose flow failed form a new one and
   * register again: an answer over a new connection, or the first one after the registrar was unreachable, means
   * the binding may be gone (a registrar restart loses it, a flow-bound binding dies with
   * its connection), so the trunk registers again now instead of at the next refresh.
   */
  async #probe(e: Entry, seq: number): Promise<void> {
    if (!this.#running || seq !== e.probeSeq) return;
    if (e.busy || e.status.state !== 'registered') return this.#scheduleProbe(e);
    const t = await registrarTarget(e.spec, e.next, this.#o.resolve, this.#screen(e));
    if (typeof t === 'string' || seq !== e.probeSeq || e.busy) return this.#scheduleProbe(e);
    const o = await probeRegistrar(this.#o.srf, t, this.#clock, Math.min(this.#o.timeoutMs ?? 10_000, (e.spec.probeSeconds ?? 30) * 1000));
    if (!this.#running || seq !== e.probeSeq) return;
    // A REGISTER that went out while the probe waited: it is the one in progress (RFC 3261 §10.2, one at a time).
    if (e.busy) return this.#scheduleProbe(e);
    if (!o.reached) {
      if (!e.lost) this.#o.log.info({ code: 'EVT_REGISTRATION_RENEW', tenant: e.spec.tenant, registrar: e.spec.registrar, why: o.why }, `b2bua: the registrar of ${e.spec.tenant} is not answering (${o.why}); registering again once it does`);
      e.lost = true;
      return this.#scheduleProbe(e);
    }
    const moved = e.flow !== undefined && o.flow !== undefined && o.flow !== e.flow;
    if (!e.lost && !moved) return this.#scheduleProbe(e);
    const why = moved ? `the registrar answered over another connection (${e.flow} → ${o.flow})` : 'the registrar answers again';
    this.#o.log.info({ code: 'EVT_REGISTRATION_RENEW', tenant: e.spec.tenant, registrar: e.spec.registrar, why }, `b2bua: registering ${e.spec.tenant} again: ${why}`);
    e.timer?.cancel();
    this.#register(e);
  }

  /** A registrar address refused as a call's would be: skipped, counted and logged once a window per tenant. */
  #screen(e: Entry): ResolvedScreen {
    return {
      policy: this.#o.policy ?? NO_POLICY,
      refused: (a, why) => {
        const s = e.status;
        s.resolvedRefused = (s.resolvedRefused ?? 0) + 1;
        this.#lines.line('warn', 'ERR_B2BUA_TARGET_REFUSED', { tenant: s.tenant, registrar: s.registrar, address: a.address, port: a.port, why },
          `b2bua: REGISTER of ${s.tenant} not sent to ${a.address}:${a.port}: ${why} (gateway.outbound.allowResolved)`, `register ${s.tenant}`);
      },
    };
  }

  #schedule(e: Entry, ms: number): void {
    e.timer?.cancel();
    if (!this.#running) return;
    e.dueAt = this.#clock.now() + ms;
    e.timer = this.#clock.setTimeout(() => this.#register(e), ms);
  }
}
