import { newLocalId } from '../../common/local-id.js';
import { SlotMap } from '../../common/slot-map.js';
import type { Clock } from '../../common/clock.js';
import type { SipRequest } from '../../sip/message/types.js';
import type { ServerTransaction } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { EngineDialog, ServerPending } from './engine-dialog.js';
import { getHeader } from '../../sip/message/index.js';
import { MergedRequests, type MergedRequestsOptions, type Ongoing } from './merged-requests.js';

export interface ServerRequestsOptions {
  clock: Clock;
  /** How long an app may take to answer a request at all (limits.appAnswerTimeoutMs). */
  answerTimeoutMs: number;
  /** An app let its time pass without a final answer: the engine answers for it. */
  onNoAnswer(p: ServerPending, ms: number): void;
  /** The index of new requests for merged requests (merged-requests.ts); its clock is the one above. */
  merged: Omit<MergedRequestsOptions, 'clock'>;
}

/**
 * Requests from the network waiting for an app's answer, owned here: by the transactionId the app knows, and
 * INVITEs also by server transaction (to match a CANCEL). Each has the time its app has left to answer; a new
 * INVITE the app has not answered at all counts in `unanswered` (the overload guard's queue depth), and a new
 * INVITE or SUBSCRIBE without its dialog yet in `dialogsUnderWay` (held against maxDialogs).
 */
export class ServerRequests {
  readonly #opts: ServerRequestsOptions;
  readonly #byTxnId = new SlotMap<string, ServerPending>();
  readonly #invites = new SlotMap<string, ServerPending>();
  /** New requests by Call-ID, From tag (and CSeq), for merged requests (§8.2.2.2). */
  readonly #merged: MergedRequests;
  #unanswered = 0;
  #dialogsUnderWay = 0;

  constructor(opts: ServerRequestsOptions) {
    this.#opts = opts;
    this.#merged = new MergedRequests({ ...opts.merged, clock: opts.clock });
  }

  get size(): number {
    return this.#byTxnId.size;
  }

  get invites(): number {
    return this.#invites.size;
  }

  get unanswered(): number {
    return this.#unanswered;
  }

  /** New INVITEs and SUBSCRIBEs that may still make a dialog and have none yet. */
  get dialogsUnderWay(): number {
    return this.#dialogsUnderWay;
  }

  /** A request handed to app `connId` (inside dialog `d`, or none): registered, with its answer time running. */
  create(connId: string, txn: ServerTransaction, request: SipRequest, flow: Flow, d: EngineDialog | undefined): ServerPending {
    const method = request.method;
    const dialogSlot = !d && (method === 'INVITE' || method === 'SUBSCRIBE');
    const p: ServerPending = {
      txnId: newLocalId(), connId, txn, request, flow, method, callId: getHeader(request, 'call-id') ?? '',
      dialogId: d ? d.id : '', dialog: d, inDialog: d !== undefined,
      toTag: d ? d.localTag : undefined, provisional: false, final: false, cap: undefined, reliable: undefined, lastRseq: 0,
      dialogSlot,
    };
    this.#byTxnId.set(p.txnId, p);
    if (dialogSlot) this.#dialogsUnderWay++;
    if (!d) this.#merged.add(p);
    if (method === 'INVITE') {
      this.#invites.set(txn.id, p);
      if (!d) {
        p.unanswered = true;
        this.#unanswered++;
      }
    }
    this.armCap(p, this.#opts.answerTimeoutMs);
    return p;
  }

  get(txnId: string): ServerPending | undefined {
    return this.#byTxnId.get(txnId);
  }

  /** The pending INVITE of a server transaction (CANCEL matching, RFC 3261 §9.2). */
  inviteOf(serverTxnId: string): ServerPending | undefined {
    return this.#invites.get(serverTxnId);
  }

  /**
   * The transaction a new request may be a merged copy of: a new INVITE with its Call-ID and From tag still under
   * way (no final response yet), or a new request with its Call-ID, From tag and CSeq whose transaction still lives.
   */
  ongoing(request: SipRequest): Ongoing | undefined {
    return this.#merged.find(request);
  }

  /** A copy, so requests may be cleared while the caller walks the list. */
  list(): ServerPending[] {
    return [...this.#byTxnId.values()];
  }

  /** The time the app has left to answer `p`, from now; past it `onNoAnswer` runs. */
  armCap(p: ServerPending, ms: number): void {
    p.cap?.cancel();
    p.cap = this.#opts.clock.setTimeout(() => {
      p.cap = undefined;
      if (p.final || p.proxied) return;
      this.#opts.onNoAnswer(p, ms);
    }, ms);
  }

  /** The app answered `p` (any response, or a proxy): it no longer counts as unanswered. */
  settle(p: ServerPending): void {
    if (!p.unanswered) return;
    p.unanswered = false;
    this.#unanswered--;
  }

  /** `p` no longer waits to make a dialog: it made one, it is proxied, or it ended. */
  releaseDialogSlot(p: ServerPending): void {
    if (!p.dialogSlot) return;
    p.dialogSlot = false;
    this.#dialogsUnderWay--;
  }

  /** `p` is done: its timers stopped, and it leaves every index (and its dialog's `serverInvite`). */
  clear(p: ServerPending): void {
    this.settle(p);
    this.releaseDialogSlot(p);
    p.cap?.cancel();
    p.cap = undefined;
    if (p.reliable) {
      p.reliable.timer?.cancel();
      p.reliable = undefined;
    }
    if (this.#byTxnId.get(p.txnId) === p) this.#byTxnId.delete(p.txnId);
    if (this.#invites.get(p.txn.id) === p) this.#invites.delete(p.txn.id);
    if (!p.inDialog) this.#merged.end(p);
    const slots = p.dialog?.invites;
    if (slots?.serverInvite === p) slots.serverInvite = undefined;
  }
}
