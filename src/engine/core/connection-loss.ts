import type { DialogStore } from './dialog-store.js';
import type { EngineDialog } from './engine-dialog.js';
import type { UacCore } from './uac-core.js';

type Dialogs = Pick<DialogStore, 'list'>;

/** The confirmed dialogs that live on TCP/TLS connection `connectionId`. */
function confirmedOn(dialogs: Dialogs, connectionId: string): EngineDialog[] {
  return dialogs.list().filter((d) => d.phase.kind === 'confirmed' && d.flow?.connectionId === connectionId);
}

/**
 * A TCP/TLS connection was reset or failed: the confirmed dialogs that lived on it have lost their peer. Each
 * is ended as for an ACK timeout: a BYE (best effort) and an unsolicited BYE to the app with Reason
 * "Connection lost", so the app can end the other leg at once. A connection the peer closed cleanly is not a
 * loss (RFC 3261 §18 lets a later request open a new one).
 */
export function connectionLost(dialogs: Dialogs, uac: Pick<UacCore, 'byeFromEngine'>, connectionId: string, reason: string): void {
  for (const d of confirmedOn(dialogs, connectionId)) uac.byeFromEngine(d, `Connection lost (${reason})`, { cause: 503, cdrCause: 'connection-lost' });
}

/** The peer closed a connection we opened: the confirmed dialogs on it are probed (UacCore.probeDialog). */
export function connectionClosedByPeer(dialogs: Dialogs, uac: Pick<UacCore, 'probeDialog'>, connectionId: string): void {
  for (const d of confirmedOn(dialogs, connectionId)) uac.probeDialog(d);
}
