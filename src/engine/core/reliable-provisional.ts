import type { Clock, TimerHandle } from '../../common/clock.js';
import type { SipRequest, SipResponse } from '../../sip/message/types.js';
import { getHeader } from '../../sip/message/index.js';
import { cseqNumber } from './core-util.js';
import type { ServerPending } from './engine-dialog.js';

/** Reliable provisionals an app may have waiting behind the one in flight; past it the app gets NOK. */
export const MAX_QUEUED_RELIABLE = 4;

/** What reliable provisionals need from the UAS side. */
export interface ReliableHost {
  readonly clock: Clock;
  readonly T1: number;
  readonly T2: number;
  /** No PRACK came for the reliable provisional of `p` within 64·T1: the engine answers the request. */
  noPrack(p: ServerPending): void;
}

/**
 * The reliable provisional of `p` in flight (RFC 3262 §3), held in `p.reliable` (ServerPending), with the later
 * ones the app sent, queued until the PRACK of this one. `timer` is the retransmission timer over UDP and the
 * 64·T1 deadline on every transport; the owner of `p` cancels it when `p` ends (server-requests.ts `clear`).
 */
export class ReliableProvisional {
  readonly rseq: number;
  readonly response: SipResponse;
  timer: TimerHandle | undefined = undefined;
  interval: number;
  elapsed = 0;
  readonly #host: ReliableHost;
  readonly #p: ServerPending;
  readonly #queue: { response: SipResponse; rseq: number }[];

  private constructor(host: ReliableHost, p: ServerPending, response: SipResponse, rseq: number, queue: { response: SipResponse; rseq: number }[]) {
    this.#host = host;
    this.#p = p;
    this.response = response;
    this.rseq = rseq;
    this.interval = host.T1;
    this.#queue = queue;
  }

  /** Whether `p` can take another reliable provisional now or behind the one in flight. */
  static hasRoom(p: ServerPending): boolean {
    const r = p.reliable;
    return !(r instanceof ReliableProvisional) || r.#queue.length < MAX_QUEUED_RELIABLE;
  }

  /**
   * Sends `response` (carrying RSeq `rseq`) reliably, or queues it behind the one in flight: "The UAS MUST NOT send
   * a second reliable provisional response until the first is acknowledged."
   * https://www.rfc-editor.org/rfc/rfc3262#section-3
   * The caller checked `hasRoom` first.
   */
  static send(host: ReliableHost, p: ServerPending, response: SipResponse, rseq: number): void {
    const r = p.reliable;
    if (r instanceof ReliableProvisional) {
      r.#queue.push({ response, rseq });
      return;
    }
    p.txn.respond(response);
    new ReliableProvisional(host, p, response, rseq, []).#start();
  }

  /**
   * Whether `prack` acknowledges this provisional: "the RAck header field [...] contains two numbers and a method
   * tag. The first number is the value from the RSeq header in the provisional response that is being acknowledged.
   * The next number, and the method, are copied from the CSeq of the response that is being acknowledged."
   * https://www.rfc-editor.org/rfc/rfc3262#section-7.2
   * Words after the method are not read: drachtio-srf's own PRACK tests send the CSeq's method twice.
   */
  matches(prack: SipRequest): boolean {
    const m = /^\s*(\d{1,10})\s+(\d{1,10})\s+([!-~]+)(?:\s|$)/.exec(getHeader(prack, 'rack') ?? '');
    const request = this.#p.request;
    return m !== null && Number(m[1]) === this.rseq && Number(m[2]) === cseqNumber(request) && m[3] === request.method;
  }

  /** Its PRACK came: "Retransmissions cease when a matching PRACK is received"; the next queued one goes out. */
  acknowledged(): void {
    const p = this.#p;
    this.timer?.cancel();
    this.timer = undefined;
    if (p.reliable !== this) return;
    p.reliable = undefined;
    const next = this.#queue.shift();
    if (next === undefined || p.final) return;
    p.txn.respond(next.response);
    new ReliableProvisional(this.#host, p, next.response, next.rseq, this.#queue).#start();
  }

  #start(): void {
    const p = this.#p;
    const host = this.#host;
    p.reliable = this;
    const deadline = 64 * host.T1;
    if (p.flow.protocol !== 'udp') {
      this.timer = host.clock.setTimeout(() => this.#expired(), deadline);
      return;
    }
    // "The UAS MUST send a reliable provisional response [...] retransmitted with an exponential backoff that
    // starts at T1 seconds and doubles each time until it reaches T2 [...] Retransmissions cease when a matching
    // PRACK is received" https://www.rfc-editor.org/rfc/rfc3262#section-3
    let wait = this.interval;
    const tick = (): void => {
      if (p.reliable !== this || p.final) return;
      this.elapsed += wait;
      if (this.elapsed >= deadline) {
        this.#expired();
        return;
      }
      p.txn.respond(this.response);
      this.interval = Math.min(2 * this.interval, host.T2);
      wait = Math.min(this.interval, deadline - this.elapsed);
      this.timer = host.clock.setTimeout(tick, wait);
    };
    this.timer = host.clock.setTimeout(tick, wait);
  }

  /**
   * "If a reliable provisional response is retransmitted for 64*T1 seconds without reception of a corresponding
   * PRACK, the UAS SHOULD reject the original request with a 5xx response."
   * https://www.rfc-editor.org/rfc/rfc3262#section-3
   */
  #expired(): void {
    const p = this.#p;
    this.timer = undefined;
    if (p.reliable !== this || p.final) return;
    p.reliable = undefined;
    this.#queue.length = 0;
    this.#host.noPrack(p);
  }
}
