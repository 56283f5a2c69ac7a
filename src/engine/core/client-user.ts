import type { SipResponse } from '../../sip/message/types.js';
import type { ClientTransactionUser } from '../../sip/transaction/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { ClientPending } from './engine-dialog.js';
import { tlsFailureReason } from './internal-headers.js';
import type { ForkMemo } from './uac-forks.js';

/** What a client transaction's user hands back to the UAC side (uac-core.ts), made once per UAC side. */
export interface ClientUserHost {
  response(p: ClientPending, res: SipResponse, flow: Flow): void;
  failure(p: ClientPending, status: number, reason: string, reasonValue?: string): void;
  /**
   * A 2xx after the one that made dialog `dialogId`: retransmitted, its ACK again (RFC 3261 §13.2.2.4); from
   * another fork (`forks` given: a dialog-creating INVITE's), ACKed and ended (uac-forks.ts).
   */
  answerAgain(dialogId: string, res: SipResponse, flow: Flow, forks: ForkMemo | undefined): void;
}

/**
 * The user of one client transaction the UAC side started. An INVITE client transaction keeps its user through
 * Timer M (32 s), since a retransmitted 2xx still comes up (RFC 6026 §8.4); from the first 2xx on, the user holds
 * only the dialog's id, so the request and the dialog of a call that has ended are not kept alive that long. A 2xx
 * retransmitted after the dialog ended gets no ACK: the BYE that ended the dialog already told the far end.
 * One object with methods, not a slot and three closures: tens of thousands of these wait out Timer M under load,
 * and every object they keep is copied by each young collection until it is promoted.
 */
export class ClientUser implements ClientTransactionUser, ForkMemo {
  #p: ClientPending | undefined;
  #dialogId = '';
  /** The INVITE made its dialog (not a re-INVITE): a 2xx with another To tag is another fork's. */
  #creating = false;
  extraForks: ForkMemo['extraForks'];
  readonly #host: ClientUserHost;

  constructor(host: ClientUserHost, p: ClientPending) {
    this.#host = host;
    this.#p = p;
  }

  onResponse(res: SipResponse, flow: Flow): void {
    const live = this.#p;
    if (live === undefined) {
      if (res.status >= 200 && res.status < 300) this.#host.answerAgain(this.#dialogId, res, flow, this.#creating ? this : undefined);
      return;
    }
    this.#host.response(live, res, flow);
    if (live.method === 'INVITE' && live.final && live.dialog && res.status >= 200 && res.status < 300) {
      this.#dialogId = live.dialog.id;
      this.#creating = !live.inDialog;
      this.#p = undefined;
    }
  }

  onTimeout(): void {
    if (this.#p) this.#host.failure(this.#p, 408, 'Request Timeout');
  }

  onTransportError(err: Error): void {
    if (this.#p) this.#host.failure(this.#p, 503, 'Service Unavailable', tlsFailureReason(err));
  }
}
