import type { ActiveCallRow, CallChanges } from '../active-calls.js';
import { buildCdr, type CdrRecord } from '../cdr.js';

/** Most calls copied from one worker (its own list is bounded by the engine's dialogs); past it a call is counted, not copied. */
export const HELD_COPY_MAX = 100_000;

/**
 * The pool's copy of one app worker's call list: brought up to date from the changes the worker posts (within
 * 100 ms of each, and with its counters), and a call dropped from it as soon as the worker hands over that call's
 * CDR, which names the call by its id in the list (PostedCalls). A worker that ends without handing over
 * (terminated, out of memory) leaves here the calls it held, whose records the pool then writes from what the list
 * knew of them. A call begun in the last 100 ms before such an end is not here yet.
 */
export class HeldCalls {
  readonly #rows = new Map<string, ActiveCallRow>();
  readonly #max: number;
  #notCopied = 0;

  constructor(max = HELD_COPY_MAX) {
    this.#max = max;
  }

  get size(): number {
    return this.#rows.size;
  }

  /** Calls refused a copy because the copy was full. */
  get notCopied(): number {
    return this.#notCopied;
  }

  apply(changes: CallChanges): void {
    for (const id of changes.gone) this.#rows.delete(id);
    for (const row of changes.rows) {
      if (!this.#rows.has(row.id) && this.#rows.size >= this.#max) {
        this.#notCopied++;
        continue;
      }
      this.#rows.set(row.id, row);
    }
  }

  /** The worker wrote the CDR of the call with this id in its list: the pool has none to write for it. */
  recorded(id: string): void {
    this.#rows.delete(id);
  }

  /**
   * The records of the calls left, ended now by the gateway with `cause` and `reason`: 200 for a call that was up,
   * 503 for one still ringing (the engine answers its caller so). The copy is emptied, its count of calls not copied
   * set back to 0.
   */
  takeLost(endAt: number, cause: string, reason: string): CdrRecord[] {
    const out = [...this.#rows.values()].map((r) => lostRecord(r, endAt, cause, reason));
    this.#rows.clear();
    this.#notCopied = 0;
    return out;
  }
}

/**
 * The worker's side of the copy: the calls it posted to the pool, so that each CDR it hands over names its call by
 * the call's id in the list. The record's Call-ID alone cannot say which: a record keeps the Call-ID bounded and
 * without control characters (buildCdr, src/b2bua/cdr.ts), so a long one never equals its call's, and two calls may
 * share one. A record is matched to a posted call by its start time and the Call-ID as the call's record keeps it.
 * Bounded as the pool's copy is: a call the pool did not copy has no row for the pool to drop.
 */
export class PostedCalls {
  /** Start time and recorded Call-ID → the ids of the calls posted with them (more than one only for twins). */
  readonly #byKey = new Map<string, string[]>();
  readonly #keyOf = new Map<string, string>();
  readonly #max: number;

  constructor(max = HELD_COPY_MAX) {
    this.#max = max;
  }

  get size(): number {
    return this.#keyOf.size;
  }

  apply(changes: CallChanges): void {
    for (const id of changes.gone) this.#drop(id);
    for (const row of changes.rows) {
      if (this.#keyOf.has(row.id) || this.#keyOf.size >= this.#max) continue;
      const key = keyOf(row.startAt, recordedCallId(row.callIds[0] ?? ''));
      this.#keyOf.set(row.id, key);
      const ids = this.#byKey.get(key);
      if (ids) ids.push(row.id);
      else this.#byKey.set(key, [row.id]);
    }
  }

  /** The id of the posted call this record ends, taken out; undefined for a call never posted (refused before it was listed). */
  take(record: Pick<CdrRecord, 'callId' | 'setupAt'>): string | undefined {
    const id = this.#byKey.get(keyOf(record.setupAt, record.callId))?.[0];
    if (id !== undefined) this.#drop(id);
    return id;
  }

  #drop(id: string): void {
    const key = this.#keyOf.get(id);
    if (key === undefined) return;
    this.#keyOf.delete(id);
    const ids = this.#byKey.get(key)!;
    ids.splice(ids.indexOf(id), 1);
    if (ids.length === 0) this.#byKey.delete(key);
  }
}

const keyOf = (startAt: number, callId: string): string => `${startAt}\u0000${callId}`;

/** A Call-ID as the call's record keeps it: what buildCdr makes of it, whatever that is. */
function recordedCallId(callId: string): string {
  return buildCdr({ callId, startedAt: 0, identities: [] }, { status: 0, cause: '', endAt: 0 }).callId;
}

/** A call's record from its row in the call list: what the list holds is filled in, the rest is unknown (null). */
function lostRecord(r: ActiveCallRow, endAt: number, cause: string, reason: string): CdrRecord {
  const answerAt = r.answerAt ?? undefined;
  return buildCdr({
    callId: r.callIds[0] ?? '', startedAt: r.startAt, identities: [],
    ...(r.callingNumber !== null ? { callingNumber: r.callingNumber } : {}), ...(r.calledNumber !== null ? { calledNumber: r.calledNumber } : {}),
    ...(r.tenantIn !== null ? { tenantIn: r.tenantIn } : {}),
  }, {
    status: answerAt !== undefined ? 200 : 503, cause, reason, endAt, releasedBy: 'gateway', attempts: answerAt !== undefined ? 1 : 0,
    ...(answerAt !== undefined ? { answerAt } : {}), ...(r.dialPeer !== null ? { dialPeer: r.dialPeer } : {}), ...(r.tenantOut !== null ? { tenantOut: r.tenantOut } : {}),
  });
}
