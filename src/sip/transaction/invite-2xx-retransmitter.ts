import type { Clock, TimerHandle } from '../../common/clock.js';
import { resolveTimerSettings } from './timers.js';
import type { TimerSettings } from './types.js';

export interface Invite2xxRetransmitterOptions {
  clock: Clock;
  timers?: Partial<TimerSettings>;
  /** Reliable transports (TCP, TLS) send the 2xx once and only wait for the ACK. */
  reliable: boolean;
  /** Passes the 2xx to the transport again (the bytes kept from its first send). */
  retransmit(): void;
  /** No ACK within 64*T1: the UAS core ends the session with a BYE (§13.3.1.4). */
  onTimeout(): void;
  /** Called once when it stops for any reason (acked, timed out, stopped). */
  onEnd?(state: Invite2xxRetransmitterState): void;
}

export type Invite2xxRetransmitterState = 'waiting' | 'acked' | 'timedOut' | 'stopped';

/**
 * The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4, kept in the TU by RFC 6026 §8.1). The first copy of
 * the 2xx is sent by the INVITE server transaction; this object sends the further copies.
 */
export class Invite2xxRetransmitter {
  readonly #opts: Invite2xxRetransmitterOptions;
  readonly #T1: number;
  readonly #T2: number;
  #interval: number;
  #state: Invite2xxRetransmitterState = 'waiting';
  #retransmit: TimerHandle | undefined;
  #timeout: TimerHandle | undefined;
  #count = 0;
  #started = false;

  constructor(opts: Invite2xxRetransmitterOptions) {
    this.#opts = opts;
    const s = resolveTimerSettings(opts.timers);
    this.#T1 = s.T1;
    this.#T2 = s.T2;
    this.#interval = s.T1;
  }

  get state(): Invite2xxRetransmitterState {
    return this.#state;
  }

  /** How many copies were sent after the first. */
  get retransmissions(): number {
    return this.#count;
  }

  /** Starts the clock; call right after the first copy of the 2xx left. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    if (!this.#opts.reliable) {
      // "The 2xx response is passed to the transport with an interval that starts at T1 seconds and doubles for
      // each retransmission until it reaches T2 seconds." https://www.rfc-editor.org/rfc/rfc3261#section-13.3.1.4
      this.#schedule();
    }
    // "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog is
    // confirmed, but the session SHOULD be terminated. This is accomplished with a BYE"
    this.#timeout = this.#opts.clock.setTimeout(() => {
      if (this.#state !== 'waiting') return;
      this.#end('timedOut');
      this.#opts.onTimeout();
    }, 64 * this.#T1);
    return this;
  }

  /** The ACK arrived. "Response retransmissions cease when an ACK request for the response is received." */
  ack(): void {
    if (this.#state === 'waiting') this.#end('acked');
  }

  /** Stops without an ACK (the dialog ended some other way, or the layer closed). */
  stop(): void {
    if (this.#state === 'waiting') this.#end('stopped');
  }

  #schedule(): void {
    this.#retransmit = this.#opts.clock.setTimeout(() => {
      if (this.#state !== 'waiting') return;
      this.#count++;
      this.#opts.retransmit();
      this.#interval = Math.min(2 * this.#interval, this.#T2);
      this.#schedule();
    }, this.#interval);
  }

  #end(state: Invite2xxRetransmitterState): void {
    this.#state = state;
    this.#retransmit?.cancel();
    this.#timeout?.cancel();
    this.#retransmit = undefined;
    this.#timeout = undefined;
    this.#opts.onEnd?.(state);
  }
}
