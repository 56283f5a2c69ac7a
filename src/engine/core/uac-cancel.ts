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
  readonly send: Pick<RequestGate, 'sendRequest' | 'cancel'>;
  readonly notify: Pick<AppNotify, 'nok'>;
  readonly log: Logger | undefined;
}

/**
 * An app's CANCEL (a `sip` command with the INVITE's transactionId, docs/control-protocol.md §2.2) for its pending
 * request `p`: built from the INVITE (RFC 3261 §9.1) and sent on the INVITE's connection. Returns what was sent, or
 * undefined when the app was told NOK (no pending INVITE, or the CANCEL could not be sent).
 */
export function sendAppCancel(c: CancelDeps, cmd: AppSipCommand, p: ClientPending | undefined): { request: SipRequest; target: SendTarget } | undefined {
  if (!p || p.method !== 'INVITE' || p.final) {
    c.notify.nok(cmd, `unable to find transaction ${cmd.transactionId} to cancel`);
    return undefined;
  }
  const cancel = buildCancel(p.request);
  const target = p.txn?.flow?.connectionId !== undefined ? { ...p.target, connectionId: p.txn.flow.connectionId } : p.target;
  try {
    c.send.sendRequest(cancel, { target, user: NOOP_USER });
  } catch (err) {
    c.notify.nok(cmd, err instanceof Error ? err.message : 'CANCEL not sent');
    return undefined;
  }
  p.canceled = true;
  return { request: cancel, target };
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
