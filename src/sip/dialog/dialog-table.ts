import { SlotMap } from '../../common/slot-map.js';
import type { Dialog } from './dialog.js';

/** The live dialogs, indexed by drachtio dialog id, by (Call-ID, local tag, remote tag) and by Call-ID. */
export class DialogTable<D extends Dialog = Dialog> {
  readonly #byId = new SlotMap<string, D>();
  readonly #byKey = new SlotMap<string, D>();
  readonly #byCallId = new SlotMap<string, D>();

  get size(): number {
    return this.#byId.size;
  }

  add(d: D): void {
    this.#byId.set(d.id, d);
    if (!this.#byCallId.has(d.callId)) this.#byCallId.set(d.callId, d);
    const k = d.key;
    if (k !== undefined) this.#byKey.set(k, d);
  }

  /**
   * Indexes a dialog again after its remote tag became known or changed (`previousKey`, its key before: a UAC's
   * early dialog with one fork, confirmed by another fork's 2xx); the old key no longer finds it.
   */
  rekey(d: D, previousKey?: string): void {
    if (this.#byId.get(d.id) !== d) return;
    if (previousKey !== undefined && this.#byKey.get(previousKey) === d) this.#byKey.delete(previousKey);
    const k = d.key;
    if (k !== undefined) this.#byKey.set(k, d);
  }

  get(id: string): D | undefined {
    return this.#byId.get(id);
  }

  match(callId: string, localTag: string, remoteTag: string): D | undefined {
    return this.#byKey.get(`${callId}|${localTag}|${remoteTag}`);
  }

  byCallId(callId: string): D | undefined {
    return this.#byCallId.get(callId);
  }

  remove(d: D): void {
    if (this.#byId.get(d.id) !== d) return;
    this.#byId.delete(d.id);
    const k = d.key;
    if (k !== undefined && this.#byKey.get(k) === d) this.#byKey.delete(k);
    if (this.#byCallId.get(d.callId) === d) this.#byCallId.delete(d.callId);
  }

  values(): IterableIterator<D> {
    return this.#byId.values();
  }
}
