import type { AppHub } from '../types.js';
import type { CoreGuard } from './core-guard.js';

/**
 * Whose command it is (docs/control-protocol.md §2.4). A transaction or dialog belongs to the one app it was
 * offered to or that made it, and only that app may name it: the ids are a per-process prefix and a counter, so
 * another app could guess them. And nothing an app asked for leaves the gateway once that app is gone.
 */

/** The sender of a command: its control connection. */
interface Sender {
  readonly connId: string;
}

/**
 * True when `owner` is not the app that sent the command: counted (foreignIdRefused) with one rate-limited line
 * (ERR_ENGINE_FOREIGN_ID). The caller then answers as it answers an unknown id, so an app learns nothing of
 * another's transactions and dialogs, and touches none.
 */
export function foreignId(guard: Pick<CoreGuard, 'counted'>, cmd: Sender, owner: string, what: 'transaction' | 'dialog'): boolean {
  if (owner === cmd.connId) return false;
  guard.counted('foreignIdRefused', 'ERR_ENGINE_FOREIGN_ID', `a ${what} of another app`, undefined,
    `app command refused as naming an unknown ${what}: ${cmd.connId} named one of ${owner}`);
  return true;
}

/**
 * True when the app that sent a request is no longer connected by the time the request would leave (its target's
 * name was being looked up meanwhile): the request is dropped, counted (appGoneRequestsDropped) with one
 * rate-limited line (ERR_ENGINE_APP_GONE). Its disconnect could not end it: it had no transaction nor dialog yet.
 */
export function appGone(c: { readonly hub: Pick<AppHub, 'isConnected'>; readonly guard: Pick<CoreGuard, 'counted'> }, cmd: Sender, what: string): boolean {
  if (c.hub.isConnected(cmd.connId)) return false;
  c.guard.counted('appGoneRequestsDropped', 'ERR_ENGINE_APP_GONE', 'app disconnected during the name lookup', undefined,
    `${what} not sent: its app ${cmd.connId} disconnected while the name was looked up`);
  return true;
}
