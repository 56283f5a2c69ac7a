/**
 * The B-leg INVITE of one createB2BUA call, as drachtio-srf reports it sent (`onSent` is its cbRequest). `cancel()`
 * sends the CANCEL at once when the INVITE is out, else as soon as it is: an attempt given up before that (no answer
 * in time, the call cleared) is still cancelled. A CANCEL that fails (the INVITE completed meanwhile) is ignored.
 */
export class OutgoingInvite {
  sent = false;
  #req: { cancel?(): void } | undefined;
  #wanted = false;

  readonly onSent = (err: unknown, req?: { cancel?(): void }): void => {
    if (err) return;
    this.sent = true;
    this.#req = req;
    if (this.#wanted) this.#send();
  };

  cancel(): void {
    this.#wanted = true;
    this.#send();
  }

  #send(): void {
    try {
      this.#req?.cancel?.();
    } catch {
      // the INVITE already completed: nothing to cancel
    }
  }
}
