import type { ActiveCallRow, CallChanges } from '../active-calls.js';
import { buildCdr, type CdrRecord } from '../cdr.js';

/** Most calls copied from one worker (its own list is bounded by the engine's dialogs); past it a call is counted, not copied. */
export const HELD_COPY_MAX = 100_000;

/**
 * The pool's copy of one app worker's call list: brought up to date from the changes the worker posts (within
 * 100 ms of each, and with its counters), and a call dropped from it as soon as the worker hands over that call's
 * CDR. A worker that ends without handing over (terminated, out of memory) leaves here the calls it held, whose
 * records the pool then writes from what the list knew of them. A call begun in the last 100 ms before such an end
 * is not here yet.
 */
export class HeldCalls {
  readonly #rows = new Map<string, ActiveCallRow>();
  /** The A leg's Call-ID → the call's id in the list, so a handed-over CDR finds its call. */
  readonly #byCallId = new Map<string, string>();
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
    for (const id of changes.gone) this.#drop(id);
    for (const row of changes.rows) {
      if (!this.#rows.has(row.id) && this.#rows.size >= this.#max) {
        this.#notCopied++;
        continue;
      }
      this.#rows.set(row.id, row);
      const callId = row.callIds[0];
      if (callId !== undefined) this.#byCallId.set(callId, row.id);
    }
  }

  /** The worker wrote this call's CDR (by its A leg's Call-ID): the pool has none to write for it. */
  recorded(callId: string): void {
    const id = this.#byCallId.get(callId);
    if (id !== undefined) this.#drop(id);
  }

  /**
   * The records of the calls left, ended now by the gateway with `cause` and `reason`: 200 for a call that was up,
   * 503 for one still ringing (the engine answers its caller so). The copy is emptied, its count of calls not copied
   * set back to 0.
   */
  takeLost(endAt: number, cause: string, reason: string): CdrRecord[] {
    const out = [...this.#rows.values()].map((r) => lostRecord(r, endAt, cause, reason));
    this.#rows.clear();
    this.#byCallId.clear();
    this.#notCopied = 0;
    return out;
  }

  #drop(id: string): void {
    const row = this.#rows.get(id);
    if (!row) return;
    this.#rows.delete(id);
    const callId = row.callIds[0];
    if (callId !== undefined && this.#byCallId.get(callId) === id) this.#byCallId.delete(callId);
  }
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
