import type { TimerHandle } from '../../common/clock.js';
import type { SipRequest, SipResponse } from '../../sip/message/types.js';
import type { ClientTransaction, ServerTransaction } from '../../sip/transaction/types.js';
import { Dialog, type DialogInit } from '../../sip/dialog/dialog.js';
import type { Flow, SendTarget } from '../../sip/transport/types.js';

/** The INVITE transactions in progress inside a dialog: at most one each way (RFC 3261 §14). */
export interface InviteSlots {
  /** UAS: the INVITE (initial or re-INVITE) the app is still answering. */
  serverInvite: ServerPending | undefined;
  /** UAC: an INVITE we sent in or for this dialog is in progress (its transaction id). */
  clientInvite: string | undefined;
}

/** The dialog-creating request has a provisional answer with a To tag (or, UAC, is still in progress). */
export interface EarlyPhase extends InviteSlots {
  readonly kind: 'early';
}

/** A 2xx went out (UAS) or came in (UAC). */
export interface ConfirmedPhase extends InviteSlots {
  readonly kind: 'confirmed';
  /** UAS: a 2xx we sent waits for its ACK; the ACK goes up with this transaction id. */
  awaitingAck: { txnId: string; stop(): void } | undefined;
  /** UAC: CSeq number of the INVITE whose 2xx the app must ACK, while the ACK is owed. */
  ackSeq: number | undefined;
  /** UAC: the ACK we sent for the last 2xx, re-sent when the peer retransmits that 2xx. */
  lastAck: { request: SipRequest; target: SendTarget } | undefined;
}

/**
 * UAC: the dialog-creating INVITE failed. The dialog only waits for the ACK drachtio-srf still sends (answered
 * NOK), then goes at `expiry` at the latest.
 */
export interface TerminatingPhase {
  readonly kind: 'terminating';
  readonly failedStatus: number;
  readonly expiry: TimerHandle;
}

/** Out of the dialog store: nothing more happens in it. */
export interface TerminatedPhase {
  readonly kind: 'terminated';
}

/** A dialog's state and what only that state has, so that, say, an owed ACK on a failed dialog cannot be written. */
export type DialogPhase = EarlyPhase | ConfirmedPhase | TerminatingPhase | TerminatedPhase;

const TERMINATED: TerminatedPhase = Object.freeze({ kind: 'terminated' });

/** A dialog plus what the engine keeps about it for the app that owns it. */
export class EngineDialog extends Dialog {
  /** The app connection that answered (UAS) or sent (UAC) the dialog-creating request. */
  readonly owner: string;
  /** The request that created the dialog (for CDRs). */
  readonly createdBy: 'network' | 'application';
  /** UAC over TLS: the profile, name and tenant a new connection for this dialog is made with. */
  tlsTarget: Pick<SendTarget, 'tlsProfile' | 'servername' | 'tenant'> | undefined;
  /** UAS: the INVITE server transaction whose answer made the dialog; only a CANCEL of that one may end it. */
  serverTxnId: string | undefined;
  /**
   * A next hop of this dialog broke the rule of hop-check.ts: `hop` and `why`. From then on its requests go to the
   * peer's source (uac-dialog.ts `dialogTarget`); `counted` once the refusal was counted and logged.
   */
  unsafeHop: { readonly hop: string; readonly why: string; counted: boolean } | undefined;
  #phase: DialogPhase;

  constructor(init: DialogInit, owner: string, createdBy: 'network' | 'application') {
    super(init);
    this.owner = owner;
    this.createdBy = createdBy;
    this.tlsTarget = undefined;
    this.serverTxnId = undefined;
    this.unsafeHop = undefined;
    this.#phase = { kind: 'early', serverInvite: undefined, clientInvite: undefined };
  }

  get phase(): DialogPhase {
    return this.#phase;
  }

  /** Its INVITE slots while early or confirmed; undefined once it is failing or gone. */
  get invites(): InviteSlots | undefined {
    const ph = this.#phase;
    return ph.kind === 'early' || ph.kind === 'confirmed' ? ph : undefined;
  }

  /** The confirmed state, or undefined in any other. */
  get confirmed(): ConfirmedPhase | undefined {
    return this.#phase.kind === 'confirmed' ? this.#phase : undefined;
  }

  /** early → confirmed (the INVITE slots carried over); the confirmed state as it is when already there. */
  confirm(): ConfirmedPhase | undefined {
    const ph = this.#phase;
    if (ph.kind === 'confirmed') return ph;
    if (ph.kind !== 'early') return undefined;
    const next: ConfirmedPhase = {
      kind: 'confirmed', serverInvite: ph.serverInvite, clientInvite: ph.clientInvite, awaitingAck: undefined, ackSeq: undefined, lastAck: undefined,
    };
    this.#phase = next;
    return next;
  }

  /** early → terminating: the dialog-creating INVITE failed with `status`; `expiry` ends it. */
  fail(status: number, expiry: TimerHandle): void {
    if (this.#phase.kind === 'early') this.#phase = { kind: 'terminating', failedStatus: status, expiry };
    else expiry.cancel();
  }

  /** Any state → terminated, its timers stopped. Only the dialog store calls this, as it drops the dialog. */
  terminate(): void {
    const ph = this.#phase;
    if (ph.kind === 'confirmed') ph.awaitingAck?.stop();
    if (ph.kind === 'terminating') ph.expiry.cancel();
    this.#phase = TERMINATED;
  }
}

/** A request from the network that an app has to answer, keyed by the transactionId the app was given. */
export interface ServerPending {
  txnId: string;
  connId: string;
  txn: ServerTransaction;
  request: SipRequest;
  flow: Flow;
  method: string;
  callId: string;
  /** The dialog id the app sees for this request ('' until one exists for out-of-dialog requests). */
  dialogId: string;
  /** Inside an existing dialog. */
  dialog: EngineDialog | undefined;
  inDialog: boolean;
  /** To tag chosen for this request's responses. */
  toTag: string | undefined;
  /** A provisional other than 100 has been sent. */
  provisional: boolean;
  /** The app sent a provisional (100 included): it has the final-answer time instead of the first-answer time. */
  answering?: boolean;
  /** A new INVITE the app has not answered at all yet (no response, no proxy): the overload guard counts these. */
  unanswered?: boolean;
  /**
   * A new INVITE or SUBSCRIBE whose dialog does not exist yet: it holds a place under maxDialogs until its dialog
   * is made, it is proxied, or it ends (ServerRequests.dialogsUnderWay).
   */
  dialogSlot: boolean;
  /** When it was handed to the app (performance.now()), for the `app` stage timing. */
  handedAt?: number;
  final: boolean;
  cap: TimerHandle | undefined;
  /** RFC 3262 reliable provisional in flight. */
  reliable: { rseq: number; response: SipResponse; timer: TimerHandle | undefined; interval: number; elapsed: number } | undefined;
  lastRseq: number;
  /** The app had the engine proxy this request (§2.5): a CANCEL goes to the proxy's branches. */
  proxied?: { cancel(): void };
}

/** A request an app sent to the network, keyed by its transactionId. */
export interface ClientPending {
  txnId: string;
  connId: string;
  request: SipRequest;
  method: string;
  target: SendTarget;
  txn: ClientTransaction | undefined;
  dialog: EngineDialog | undefined;
  inDialog: boolean;
  canceled: boolean;
  final: boolean;
}
