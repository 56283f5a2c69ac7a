import type { AppHub } from '../types.js';
import type { CoreGuard } from './core-guard.js';

/**
 * Whose command it is (docs/control-protocol.md §3.1): nothing an app asked for leaves the gateway once that app is
 * gone.
 */

/** The sender of a command: its control connection. */
interface Sender {
  readonly connId: string;
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
