import { randomBytes } from 'node:crypto';
import { SlotMap, systemClock, type Clock } from '../common/index.js';
import { sipReason } from './reason.js';
import type { CallControl } from './supervise-legs.js';

/** What the b2bua knows of a connected call, for the admin API's call list (CUBE's `show call active voice brief`). */
export interface CallFacts {
  /** The A leg's Call-ID first, then the B leg's when drachtio-srf reported it. */
  callIds: string[];
  tenantIn: string | null;
  tenantOut: string | null;
  dialPeer: string | null;
  callingNumber: string | null;
  calledNumber: string | null;
  /** When the A leg's INVITE arrived, and when the B leg answered (ms since the epoch). */
  startAt: number;
  answerAt: number;
}

/** `connected`: both legs up; `ending`: a BYE is under way on a leg (the far end's, ours or the engine's). */
export type CallState = 'connected' | 'ending';

/** One live call as the admin API lists it. */
export interface ActiveCallRow extends CallFacts {
  /** Stable for the call's life, unique across the apps: `<app>-<hex>`; `DELETE /calls/:id` takes it. */
  id: string;
  /** The b2bua app that holds the call: 0 is the main thread's, 1.. the workers (`gateway.workers`). */
  app: number;
  state: CallState;
  /** Connected time so far. */
  durationMs: number;
}

/** The calls of one app (or of every app, gathered), newest answer last, cut at the limit asked for. */
export interface CallList {
  calls: ActiveCallRow[];
  /** Live calls in all, whatever the limit. */
  total: number;
  /** Apps that did not answer in time (their calls are missing from `calls` and `total`). */
  unanswered: number[];
}

/** What a hang-up found: no such call, a call already being torn down, or a call it ended now. */
export type HangUpResult =
  | { outcome: 'unknown' }
  | { outcome: 'already-ending'; call: ActiveCallRow }
  | { outcome: 'ended' | 'ending'; call: ActiveCallRow };

/** The cause a CDR carries for a call the administrator cleared, and the Reason both legs' BYEs carry. */
export const ADMIN_CAUSE = 'admin';
export const ADMIN_REASON = sipReason(200, 'Call cleared by the administrator');

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

interface Entry {
  call: CallControl;
  facts: CallFacts;
  asked: boolean;
}

/**
 * The connected calls of one b2bua app, so a shutdown can end what is left of them and the admin API can list
 * them and end one. A call leaves the table when it ends; `drained()` resolves when none is left.
 */
export class ActiveCalls {
  readonly #calls = new SlotMap<string, Entry>();
  readonly #app: number;
  readonly #clock: Clock;
  #waiters: Array<() => void> = [];
  /**
   * The next id's number: random at start so ids differ across restarts, then counted, since a
   * `randomBytes` call per call measured about 12 µs of the b2bua thread's time under load.
   */
  #nextId = randomBytes(4).readUInt32BE(0);

  constructor(o: { app?: number; clock?: Clock } = {}) {
    this.#app = o.app ?? 0;
    this.#clock = o.clock ?? systemClock;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Registers a connected call; its id, or undefined when it had already ended. */
  add(call: CallControl, facts: CallFacts): string | undefined {
    if (call.ended) return undefined;
    let id: string;
    do {
      id = `${this.#app}-${this.#nextId.toString(16).padStart(8, '0')}`;
      this.#nextId = (this.#nextId + 1) >>> 0;
    } while (this.#calls.has(id));
    this.#calls.set(id, { call, facts, asked: false });
    call.onEnd(() => {
      this.#calls.delete(id);
      if (this.#calls.size === 0) for (const w of this.#waiters.splice(0)) w();
    });
    return id;
  }

  /** The first `limit` calls by answer time (oldest first), and how many there are. */
  list(limit: number): CallList {
    const rows: ActiveCallRow[] = [];
    for (const [id, e] of this.#calls) {
      if (rows.length >= limit) break;
      rows.push(this.#row(id, e));
    }
    return { calls: rows, total: this.#calls.size, unanswered: [] };
  }

  /**
   * Ends one call with a BYE carrying `reason` on each leg (its CDR gets `cause`), and waits a little for both legs
   * to be released: `ended` when they were, `ending` when a BYE is still out.
   */
  async hangUp(id: string, cause: string, reason: string): Promise<HangUpResult> {
    const e = this.#calls.get(id);
    if (!e) return { outcome: 'unknown' };
    if (e.asked || e.call.releasing) return { outcome: 'already-ending', call: this.#row(id, e) };
    e.asked = true;
    const row = this.#row(id, e);
    const ended = new Promise<boolean>((resolve) => {
      const t = this.#clock.setTimeout(() => resolve(false), HANGUP_WAIT_MS);
      e.call.onEnd(() => {
        t.cancel();
        resolve(true);
      });
    });
    e.call.end(cause, reason);
    return (await ended) ? { outcome: 'ended', call: row } : { outcome: 'ending', call: { ...row, state: 'ending' } };
  }

  /** Ends every call with a BYE carrying `reason` on each leg. */
  endAll(cause: string, reason: string): number {
    const n = this.#calls.size;
    for (const e of [...this.#calls.values()]) {
      e.asked = true;
      e.call.end(cause, reason);
    }
    return n;
  }

  /** Resolves when no call is up (at once when none is). */
  drained(): Promise<void> {
    if (this.#calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #row(id: string, e: Entry): ActiveCallRow {
    return {
      id, app: this.#app, state: e.asked || e.call.releasing ? 'ending' : 'connected', ...e.facts, callIds: [...e.facts.callIds],
      durationMs: Math.max(0, this.#clock.now() - e.facts.answerAt),
    };
  }
}
