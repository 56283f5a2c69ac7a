import { DialogTable } from '../../sip/dialog/dialog-table.js';
import type { EngineDialog } from './engine-dialog.js';

/**
 * The engine's dialogs, owned here: looked up by id, by (Call-ID, local tag, remote tag) and by Call-ID; ended
 * (timers stopped, out of every index) through `end` only, so no side can drop a dialog and leave its timers.
 */
export class DialogStore {
  readonly #table = new DialogTable<EngineDialog>();

  get size(): number {
    return this.#table.size;
  }

  add(d: EngineDialog): void {
    this.#table.add(d);
  }

  /** After the remote tag became known or changed (`previousKey`: the key the dialog had before). */
  rekey(d: EngineDialog, previousKey?: string): void {
    this.#table.rekey(d, previousKey);
  }

  get(id: string): EngineDialog | undefined {
    return this.#table.get(id);
  }

  match(callId: string, localTag: string, remoteTag: string): EngineDialog | undefined {
    return this.#table.match(callId, localTag, remoteTag);
  }

  byCallId(callId: string): EngineDialog | undefined {
    return this.#table.byCallId(callId);
  }

  /** A copy, so a dialog may be ended while the caller walks the list. */
  list(): EngineDialog[] {
    return [...this.#table.values()];
  }

  /** Ends a dialog: terminated (its ACK wait and expiry timers stopped), and it leaves the table. */
  end(d: EngineDialog): void {
    d.terminate();
    this.#table.remove(d);
  }

  /** The engine closes: every dialog's timers stop (the dialogs stay for a last look at the counters). */
  stopTimers(): void {
    for (const d of this.#table.values()) {
      const ph = d.phase;
      if (ph.kind === 'confirmed') ph.awaitingAck?.stop();
      else if (ph.kind === 'terminating') ph.expiry.cancel();
    }
  }
}
