import type { Clock } from '../../common/clock.js';
import type { AppHub, AppSipCommand } from '../types.js';
import { formatStackTime, nokFields } from '../wire/server-messages.js';

/** What the core tells apps besides SIP: the stack time it stamps frames with, a refused command, and CDRs. */
export class AppNotify {
  readonly #hub: AppHub;
  readonly #clock: Clock;

  constructor(hub: AppHub, clock: Clock) {
    this.#hub = hub;
    this.#clock = clock;
  }

  #lastMs = -1;
  #lastTime = '';

  /**
   * The time field of a frame (docs/control-protocol.md §2.3). It has millisecond resolution, so the text is made
   * once per millisecond: under load a dozen frames share one.
   */
  now(): string {
    const ms = this.#clock.now();
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#lastTime = formatStackTime(new Date(ms));
    }
    return this.#lastTime;
  }

  /** `NOK` to an app's command, with the reason. */
  nok(cmd: AppSipCommand, reason: string): void {
    this.#hub.reply(cmd.connId, cmd.msgId, nokFields(reason));
  }

  /** A CDR to the app that routed it; the SIP text is only built when some app did. */
  cdr(kind: 'attempt' | 'start' | 'stop', fields: string[], sip: string | (() => string)): void {
    if (this.#hub.wantsCdr?.(kind) === false) return;
    this.#hub.sendCdr(kind, fields, typeof sip === 'function' ? sip() : sip);
  }
}
