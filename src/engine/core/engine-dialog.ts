import type { TimerHandle } from '../../common/clock.js';
import type { SipRequest, SipResponse } from '../../sip/message/types.js';
import type { ClientTransaction, ServerTransaction } from '../../sip/transaction/types.js';
import { Dialog, type DialogInit } from '../../sip/dialog/dialog.js';
import type { Flow, SendTarget } from '../../sip/transport/types.js';

/** A dialog plus what the engine keeps about it for the app that owns it. */
export class EngineDialog extends Dialog {
  /** The app connection that answered (UAS) or sent (UAC) the dialog-creating request. */
  owner: string;
  /** UAS: a 2xx we sent waits for its ACK; the ACK goes up with this transaction id. */
  awaitingAck: { txnId: string; stop(): void } | undefined;
  /** UAS: the INVITE (initial or re-INVITE) the app is still answering. */
  serverInvite: ServerPending | undefined;
  /** UAC: an INVITE we sent in or for this dialog is in progress (its transaction id). */
  clientInvite: string | undefined;
  /** UAC: CSeq number of the INVITE whose 2xx the app must ACK, while the ACK is owed. */
  ackSeq: number | undefined;
  /** UAC: the ACK we sent for the last 2xx, re-sent when the peer retransmits that 2xx. */
  lastAck: { request: SipRequest; target: SendTarget } | undefined;
  /** UAC: the final status of the dialog-creating INVITE when it failed (the dialog only waits for srf's ACK). */
  failedStatus: number | undefined;
  expiry: TimerHandle | undefined;
  /** The request that created the dialog (for CDRs). */
  createdBy: 'network' | 'application';
  /** UAC over TLS: the profile, name and tenant a new connection for this dialog is made with. */
  tlsTarget: Pick<SendTarget, 'tlsProfile' | 'servername' | 'tenant'> | undefined;

  constructor(init: DialogInit, owner: string, createdBy: 'network' | 'application') {
    super(init);
    this.owner = owner;
    this.createdBy = createdBy;
    this.awaitingAck = undefined;
    this.serverInvite = undefined;
    this.clientInvite = undefined;
    this.ackSeq = undefined;
    this.lastAck = undefined;
    this.failedStatus = undefined;
    this.expiry = undefined;
    this.tlsTarget = undefined;
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
