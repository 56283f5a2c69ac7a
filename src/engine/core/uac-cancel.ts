import type { Logger } from '../../log/logger.js';
import type { SipRequest } from '../../sip/message/types.js';
import { buildCancel } from '../../sip/transaction/index.js';
import type { SendTarget } from '../../sip/transport/types.js';
import type { AppSipCommand } from '../types.js';
import type { AppNotify } from './app-notify.js';
import { NOOP_USER } from './core-util.js';
import type { ClientPending } from './engine-dialog.js';
import type { RequestGate } from './request-gate.js';

/** What cancelling a pending INVITE client transaction needs: where requests go out, and how to refuse a command. */
export interface CancelDeps {
  readonly send: Pick<RequestGate, 'cancel'>;
  readonly notify: Pick<AppNotify, 'nok'>;
  readonly log: Logger | undefined;
}

/**
 * An app's CANCEL (a `sip` command with the INVITE's transactionId, docs/control-protocol.md §2.2) for its pending
 * request `p`: built from the INVITE (RFC 3261 §9.1) and sent on the INVITE's connection by the transaction layer
 * (TransactionLayer.cancel, src/sip/transaction/transaction-layer.ts). Returns the CANCEL for the app's echo, or
 * undefined when the app was told NOK (no pending INVITE, already cancelled, or its final response is in).
 */
export function sendAppCancel(c: CancelDeps, cmd: AppSipCommand, p: ClientPending | undefined): { request: SipRequest; target: SendTarget } | undefined {
  const unknown = (): undefined => {
    c.notify.nok(cmd, `unable to find transaction ${cmd.transactionId} to cancel`);
    return undefined;
  };
  if (!p || p.method !== 'INVITE' || p.final || p.canceled || !p.txn) return unknown();
  // "If no provisional response has been received, the CANCEL request MUST NOT be sent; rather, the client MUST wait
  // for the arrival of a provisional response before sending the request." The layer holds it back until then; the
  // app is echoed the CANCEL either way. https://www.rfc-editor.org/rfc/rfc3261#section-9.1
  try {
    if (c.send.cancel(p.txn, NOOP_USER) === 'too-late') return unknown();
  } catch (err) {
    c.notify.nok(cmd, err instanceof Error ? err.message : 'CANCEL not sent');
    return undefined;
  }
  p.canceled = true;
  return { request: buildCancel(p.request), target: p.target };
}

/** CANCELs the INVITE client transaction of `p` on the engine's own account (its app is gone). */
export function cancelForEngine(c: CancelDeps, p: ClientPending | undefined): void {
  if (!p || p.final || p.canceled || !p.txn) return;
  p.canceled = true;
  try {
    c.send.cancel(p.txn, NOOP_USER);
  } catch (err) {
    c.log?.debug({ err }, 'engine CANCEL not sent');
  }
}
