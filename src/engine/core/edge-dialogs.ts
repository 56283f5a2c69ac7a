import { getHeader, tagOf } from '../../sip/message/index.js';
import type { SipRequest } from '../../sip/message/types.js';
import type { TransactionLayer } from '../../sip/transaction/index.js';
import type { Flow } from '../../sip/transport/types.js';
import type { CoreGuard } from './core-guard.js';
import { peerOfDialog, peerOfProxied, type DialogPeer } from './dialog-peer.js';
import type { DialogStore } from './dialog-store.js';
import type { ProxiedDialogs } from './proxied-dialogs.js';

export interface EdgeDialogsDeps {
  readonly dialogs: Pick<DialogStore, 'match'>;
  readonly proxied: Pick<ProxiedDialogs, 'find'>;
  readonly tl: Pick<TransactionLayer, 'findInviteServerTransaction'>;
  readonly guard: Pick<CoreGuard, 'counted'>;
  /** A CANCEL the edge found stray because its INVITE came from elsewhere. */
  readonly cancelFromOtherSource: (request: SipRequest, flow: Flow) => void;
}

/**
 * What the edge (src/engine/edge-guard.ts) asks the core about in-dialog requests before any transaction is made:
 * the dialog a request names and who may send in it, and the counters of the requests it answered itself.
 */
export class EdgeDialogs {
  readonly #c: EdgeDialogsDeps;

  constructor(deps: EdgeDialogsDeps) {
    this.#c = deps;
  }

  /**
   * The peer of the engine's dialog, or the two ends of a dialog an app proxied, that an in-dialog request (To tag)
   * names by Call-ID and tags; undefined when it names none.
   */
  peer(request: SipRequest): DialogPeer | undefined {
    const callId = getHeader(request, 'call-id') ?? '';
    const toTag = tagOf(getHeader(request, 'to')) ?? '';
    const fromTag = tagOf(getHeader(request, 'from')) ?? '';
    const d = this.#c.dialogs.match(callId, toTag, fromTag);
    if (d !== undefined) return peerOfDialog(d);
    const p = this.#c.proxied.find(callId, fromTag, toTag);
    return p === undefined ? undefined : peerOfProxied(p.ends);
  }

  /** Counts (and logs, rate-limited) an in-dialog request the edge answered 481 because it matched no dialog. */
  stray(request: SipRequest, flow: Flow): void {
    // A CANCEL the edge found stray because its INVITE came from elsewhere (the edge matches with the flow).
    if (request.method === 'CANCEL' && this.#c.tl.findInviteServerTransaction(request) !== undefined) {
      this.#c.cancelFromOtherSource(request, flow);
      return;
    }
    this.#c.guard.counted(request.method === 'CANCEL' ? 'unmatchedCancel' : 'noDialog', 'ERR_ENGINE_NO_DIALOG', 'no such dialog', flow,
      `${request.method} for no dialog: 481 without a transaction`);
  }

  /** Counts (and logs, rate-limited) an in-dialog request or ACK the edge refused: not from its dialog's peer. */
  sourceRefused(request: SipRequest, flow: Flow, tenant: string | undefined): void {
    this.#c.guard.counted('dialogSourceRefused', 'ERR_ENGINE_DIALOG_SOURCE', 'not from the dialog\'s peer', flow,
      `${request.method} in a dialog from ${flow.remoteAddress}, neither its peer nor trusted by its tenant ${tenant ?? '-'}: `
      + (request.method === 'ACK' ? 'dropped' : '403 without a transaction'));
  }
}
