import { randomBytes } from 'node:crypto';
import { SlotMap, systemClock, type Clock } from '../common/index.js';
import { printableOrNull } from '../common/printable.js';
import { sipReason } from './reason.js';
import type { CallControl } from './supervise-legs.js';

export type { ActiveCallRow, CallChanges, CallFacts, CallList, CallSetup, CallState, HangUpResult, SetupFacts } from './active-call-types.js';
import type { ActiveCallRow, CallChanges, CallFacts, CallList, CallSetup, HangUpResult, SetupFacts } from './active-call-types.js';

/** The cause a CDR carries for a call the administrator cleared, and the Reason both legs' BYEs carry. */
export const ADMIN_CAUSE = 'admin';
export const ADMIN_REASON = sipReason(200, 'Call cleared by the administrator');

/**
 * The cause a CDR carries for a call up or ringing when the gateway process exits on a fatal error (its engine
 * gone, an uncaught error, a stop past its time; src/start-command.ts), and the Reason it records: nothing is left
 * to end its legs, whose far ends find out by their own timers.
 */
export const EXIT_CAUSE = 'gateway-exit';
export const EXIT_REASON = sipReason(503, 'gateway exited');

/** How long a hang-up waits for both legs to be released before it answers `ending`. */
const HANGUP_WAIT_MS = 2_000;

/** `<app>-<8 hex>`: the prefix says which app holds the call, so a hang-up goes to that app alone. */
export function callIdApp(id: string): number | undefined {
  const m = /^(\d{1,3})-[0-9a-f]{8}$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

/** The A leg's Call-ID, then the B leg's as drachtio-srf's Dialog holds it (`sip.callId`). */
export function legCallIds(aCallId: string | undefined, uac: object): string[] {
  const b = (uac as { sip?: { callId?: unknown } }).sip?.callId;
  return [...(aCallId ? [aCallId] : []), ...(typeof b === 'string' && b !== '' ? [b] : [])];
}

/**
 * The facts as the call list keeps them: the numbers a peer sent are printable text of bounded length
 * (src/common/printable.ts), whichever path (ringing, policy pipeline, plain bridge) listed the call.
 */
function kept<F extends SetupFacts>(facts: F): F {
  return { ...facts, callingNumber: printableOrNull(facts.callingNumber), calledNumber: printableOrNull(facts.calledNumber) };
}

interface Entry {
  call: CallControl;
  facts: CallFacts;
  asked: boolean;
}

interface RingingEntry {
  facts: SetupFacts;
  /** Stops the setup: the B-leg attempt is cancelled and the caller gets a final response with `reason`. */
  clear(cause: string, reason: string): void;
  /** This app is going away while the call rings: the call's CDR is written now (see abandonAll). */
  abandon?: ((cause: string, reason: string) => void) | undefined;
  asked: boolean;
  /** Hang-ups waiting for the setup to be done (made by the first one). */
  waiters?: Array<() => void>;
}

/**
 * The calls of one b2bua app, so a shutdown can end what is left of the connected ones and the admin API can list
 * them and end one, ringing or connected. A call leaves the table when it ends; `drained()` resolves when no connected
 * call is left.
 */
export class ActiveCalls {
  readonly #calls = new SlotMap<string, Entry>();
  readonly #ringing = new Map<string, RingingEntry>();
  readonly #app: number;
  readonly #clock: Clock;
  #waiters: Array<() => void> = [];
  /** With `journal`: the ids changed since the last takeChanges() (as many as calls changed in that time). */
  readonly #changed: Set<string> | undefined;
  readonly #onChanged: (() => void) | undefined;
  /**
   * The next id's number: random at start so ids differ across restarts, then counted, since a
   * `randomBytes` call per call measured about 12 µs of the b2bua thread's time under load.
   */
  #nextId = randomBytes(4).readUInt32BE(0);

  /**
   * `journal`: keep which calls changed, for `takeChanges()` (an app worker's copy of its calls in the pool);
   * `onChanged` is called at the first change after each takeChanges().
   */
  constructor(o: { app?: number; clock?: Clock; journal?: boolean; onChanged?: () => void } = {}) {
    this.#app = o.app ?? 0;
    this.#clock = o.clock ?? systemClock;
    if (o.journal === true) this.#changed = new Set();
    this.#onChanged = o.onChanged;
  }

  get size(): number {
    return this.#calls.size;
  }

  /**
   * Registers a call being set up (listed as ringing); `clear` is how a hang-up stops it, `abandon` how its CDR is
   * written when this app goes away while it rings.
   */
  setUp(facts: SetupFacts, clear: (cause: string, reason: string) => void, abandon?: (cause: string, reason: string) => void): CallSetup {
    const id = this.#newId();
    const e: RingingEntry = { facts: kept(facts), clear, abandon, asked: false };
    this.#ringing.set(id, e);
    this.#mark(id);
    return {
      id,
      done: () => {
        if (this.#ringing.get(id) !== e) return;
        this.#ringing.delete(id);
        this.#mark(id);
        for (const w of e.waiters?.splice(0) ?? []) w();
        this.#checkDrained();
      },
      trying: (dialPeer, tenantOut) => {
        if (this.#ringing.get(id) !== e) return;
        e.facts = { ...e.facts, dialPeer, tenantOut };
        this.#mark(id);
      },
    };
  }

  /** Registers a connected call (under the id of its setup, when it had one); its id, or undefined when it had already ended. */
  add(call: CallControl, facts: CallFacts, setupId?: string): string | undefined {
    if (call.ended) return undefined;
    const id = setupId !== undefined && !this.#calls.has(setupId) ? setupId : this.#newId();
    this.#calls.set(id, { call, facts: kept(facts), asked: false });
    this.#mark(id);
    call.onEnd(() => {
      this.#calls.delete(id);
      this.#mark(id);
      this.#checkDrained();
    });
    return id;
  }

  /** The first `limit` calls: the connected ones by answer time (oldest first), then the ringing ones; and how many there are. */
  list(limit: number): CallList {
    const rows: ActiveCallRow[] = [];
    for (const [id, e] of this.#calls) {
      if (rows.length >= limit) break;
      rows.push(this.#row(id, e));
    }
    for (const [id, e] of this.#ringing) {
      if (rows.length >= limit) break;
      rows.push(this.#ringingRow(id, e));
    }
    return { calls: rows, total: this.#calls.size + this.#ringing.size, unanswered: [] };
  }

  /**
   * Ends one call with a BYE carrying `reason` on each leg (its CDR gets `cause`), and waits a little for both legs
   * to be released: `ended` when they were, `ending` when a BYE is still out.
   */
  async hangUp(id: string, cause: string, reason: string): Promise<HangUpResult> {
    const r = this.#ringing.get(id);
    if (r) return this.#clearSetup(id, r, cause, reason);
    const e = this.#calls.get(id);
    if (!e) return { outcome: 'unknown' };
    if (e.asked || e.call.releasing) return { outcome: 'already-ending', call: this.#row(id, e) };
    e.asked = true;
    const row = this.#row(id, e);
    const ended = this.#endedWithin((done) => e.call.onEnd(done));
    e.call.end(cause, reason);
    return (await ended) ? { outcome: 'ended', call: row } : { outcome: 'ending', call: { ...row, state: 'ending' } };
  }

  /** Ends every call: a BYE carrying `reason` on each leg, and a ringing call's setup stopped with it. */
  endAll(cause: string, reason: string): number {
    const n = this.#calls.size + this.#ringing.size;
    for (const e of [...this.#calls.values()]) {
      e.asked = true;
      e.call.end(cause, reason);
    }
    for (const e of [...this.#ringing.values()]) {
      if (e.asked) continue;
      e.asked = true;
      e.clear(cause, reason);
    }
    return n;
  }

  /**
   * This app's thread is ending with calls up or ringing: each is recorded as ended now with `cause` (its CDR
   * written at once, see CallControl.abandon); the engine ends the connected calls' legs, answers the ringing
   * callers 503 and cancels their B legs. How many were recorded.
   */
  abandonAll(cause: string, reason: string): number {
    const calls = [...this.#calls.values()];
    for (const e of calls) e.call.abandon(cause, reason);
    let ringing = 0;
    for (const e of this.#ringing.values()) {
      if (!e.abandon) continue;
      e.abandon(cause, reason);
      ringing++;
    }
    return calls.length + ringing;
  }

  /** The calls that changed since the last call (see CallChanges); nothing without `journal`. */
  takeChanges(): CallChanges {
    const out: CallChanges = { rows: [], gone: [] };
    if (!this.#changed || this.#changed.size === 0) return out;
    for (const id of this.#changed) {
      const c = this.#calls.get(id);
      const r = c ? undefined : this.#ringing.get(id);
      if (c) out.rows.push(this.#row(id, c));
      else if (r) out.rows.push(this.#ringingRow(id, r));
      else out.gone.push(id);
    }
    this.#changed.clear();
    return out;
  }

  #mark(id: string): void {
    if (!this.#changed) return;
    if (this.#changed.size === 0) this.#onChanged?.();
    this.#changed.add(id);
  }

  /** Resolves when no call is up or ringing (at once when none is). */
  drained(): Promise<void> {
    if (this.#calls.size === 0 && this.#ringing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #checkDrained(): void {
    if (this.#calls.size === 0 && this.#ringing.size === 0) for (const w of this.#waiters.splice(0)) w();
  }

  /** A ringing call's hang-up: its setup is stopped (CANCEL towards B, a final response to the caller). */
  async #clearSetup(id: string, e: RingingEntry, cause: string, reason: string): Promise<HangUpResult> {
    if (e.asked) return { outcome: 'already-ending', call: this.#ringingRow(id, e) };
    e.asked = true;
    const row = this.#ringingRow(id, e);
    const ended = this.#endedWithin((done) => (e.waiters ??= []).push(done));
    e.clear(cause, reason);
    return (await ended) ? { outcome: 'ended', call: row } : { outcome: 'ending', call: row };
  }

  /** True once `onEnd` reports the end, false when HANGUP_WAIT_MS passed first. */
  #endedWithin(onEnd: (done: () => void) => void): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const t = this.#clock.setTimeout(() => resolve(false), HANGUP_WAIT_MS);
      onEnd(() => {
        t.cancel();
        resolve(true);
      });
    });
  }

  #newId(): string {
    let id: string;
    do {
      id = `${this.#app}-${this.#nextId.toString(16).padStart(8, '0')}`;
      this.#nextId = (this.#nextId + 1) >>> 0;
    } while (this.#calls.has(id) || this.#ringing.has(id));
    return id;
  }

  #ringingRow(id: string, e: RingingEntry): ActiveCallRow {
    return { id, app: this.#app, state: e.asked ? 'ending' : 'ringing', ...e.facts, callIds: [...e.facts.callIds], answerAt: null, durationMs: 0 };
  }

  #row(id: string, e: Entry): ActiveCallRow {
    return {
      id, app: this.#app, state: e.asked || e.call.releasing ? 'ending' : 'connected', ...e.facts, callIds: [...e.facts.callIds],
      durationMs: Math.max(0, this.#clock.now() - e.facts.answerAt),
    };
  }
}
