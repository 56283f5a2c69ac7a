import type { Clock } from '../../common/clock.js';
import { SlotMap } from '../../common/slot-map.js';
import type { SipRequest } from '../../sip/message/types.js';
import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import { branchOf, getHeader, tagOf } from '../../sip/message/index.js';
import type { RefusalReporter } from '../refusal-record.js';
import type { CoreGuard } from './core-guard.js';
import { mergedLine } from './core-lines.js';
import { cseqMethod, cseqNumber } from './core-util.js';
import type { ServerPending } from './engine-dialog.js';
import { refusalReason, type Refusal } from './reject.js';

/** A server transaction still going on that a new request may have been merged with, and its top Via branch. */
export interface Ongoing {
  readonly txn: ServerTransaction;
  readonly branch: string | undefined;
}

interface Ended extends Ongoing {
  /** Past this time (clock ms) its transaction has ended whatever its transport: it may be forgotten. */
  readonly until: number;
}

export interface MergedRequestsOptions {
  clock: Clock;
  /**
   * How long a server transaction lives at most after its final response: 64·T1 (Timers H, J, L) plus T4 (Timer I),
   * https://www.rfc-editor.org/rfc/rfc3261#section-17.2 and https://www.rfc-editor.org/rfc/rfc6026#section-7.1.
   */
  lingerMs: number;
  /** Ended requests kept at most (the cap on requests waiting for an app); past it the oldest is forgotten. */
  maxEnded: number;
  /** The oldest ended request was forgotten at `max` (counted and logged by the owner). */
  onForgotten(max: number): void;
}

/**
 * The new requests (no To tag) handed to apps, for merged requests (https://www.rfc-editor.org/rfc/rfc3261#section-8.2.2.2):
 * by Call-ID, From tag and CSeq while their server transaction lives, its Completed state included; a new INVITE
 * also by Call-ID and From tag alone until its final response (uas-core.ts `refuseMerged` says why). Those under
 * way are bounded by the cap on requests waiting for an app, those ended by `maxEnded`, and ended ones leave in
 * the order they ended, each once its transaction is over.
 */
export class MergedRequests {
  readonly #o: MergedRequestsOptions;
  /** New INVITEs without their final response, by Call-ID and From tag: the first one under way. */
  readonly #newInvites = new SlotMap<string, ServerPending>();
  /** Other new requests without their final response, by Call-ID, From tag and CSeq. */
  readonly #underWay = new SlotMap<string, ServerPending>();
  /** New requests past their final response whose transaction may still live, by Call-ID, From tag and CSeq. */
  readonly #ended = new SlotMap<string, Ended>();

  constructor(o: MergedRequestsOptions) {
    this.#o = o;
  }

  /** A new request handed to an app. */
  add(p: ServerPending): void {
    const map = p.method === 'INVITE' ? this.#newInvites : this.#underWay;
    const key = p.method === 'INVITE' ? dialogKey(p.request) : exactKey(p.request);
    if (!map.has(key)) map.set(key, p);
  }

  /**
   * `p` has its final response, or is given up: kept while its transaction may still live. Only the request `add`
   * indexed moves (once); another with its key was never indexed.
   */
  end(p: ServerPending): void {
    const map = p.method === 'INVITE' ? this.#newInvites : this.#underWay;
    const key = p.method === 'INVITE' ? dialogKey(p.request) : exactKey(p.request);
    if (map.get(key) !== p) return;
    map.delete(key);
    this.#sweep();
    if (p.txn.state === 'Terminated') return;
    const ended = this.#ended;
    if (ended.size >= this.#o.maxEnded) {
      const oldest = ended.keys().next();
      if (!oldest.done) ended.delete(oldest.value);
      this.#o.onForgotten(this.#o.maxEnded);
    }
    const exact = exactKey(p.request);
    ended.delete(exact);
    ended.set(exact, { txn: p.txn, branch: branchOf(p.request), until: this.#o.clock.now() + this.#o.lingerMs });
  }

  /** The request under way, or ended with its transaction still alive, that `request` may be a merged copy of. */
  find(request: SipRequest): Ongoing | undefined {
    if (request.method === 'INVITE' && this.#newInvites.size > 0) {
      const p = this.#newInvites.get(dialogKey(request));
      if (p !== undefined) return { txn: p.txn, branch: branchOf(p.request) };
    }
    if (this.#underWay.size + this.#ended.size === 0) return undefined;
    const exact = exactKey(request);
    const p = this.#underWay.get(exact);
    if (p !== undefined) return { txn: p.txn, branch: branchOf(p.request) };
    const e = this.#ended.get(exact);
    return e !== undefined && e.txn.state !== 'Terminated' && e.until > this.#o.clock.now() ? e : undefined;
  }

  /** Forgets, from the oldest on, the ended requests whose transaction is over. */
  #sweep(): void {
    const now = this.#o.clock.now();
    for (const [key, e] of this.#ended) {
      if (e.until > now && e.txn.state !== 'Terminated') return;
      this.#ended.delete(key);
    }
  }
}

function dialogKey(request: SipRequest): string {
  return `${getHeader(request, 'call-id') ?? ''}\n${tagOf(getHeader(request, 'from')) ?? ''}`;
}

function exactKey(request: SipRequest): string {
  return `${dialogKey(request)}\n${cseqNumber(request)} ${cseqMethod(request)}`;
}

/**
 * How a merged request is counted and logged, and told for the CDR of a refused call when no app saw it (`byApp`
 * false); one an app saw has its app's.
 */
export function mergedRefusals(guard: Pick<CoreGuard, 'counted'>, refusals: RefusalReporter | undefined) {
  return (request: SipRequest, flow: Flow, r: Refusal, byApp: boolean): void => {
    if (request.method === 'INVITE') mergedLine(guard, request, flow);
    else {
      guard.counted('mergedRequest', 'ERR_ENGINE_MERGED_REQUEST', 'merged request', flow,
        `${request.method} refused with 482: its Call-ID, From tag and CSeq are those of a request under way (RFC 3261 §8.2.2.2)`);
    }
    if (!byApp) refusals?.refused(request, flow, r.status, refusalReason(r), 'ERR_ENGINE_MERGED_REQUEST');
  };
}
