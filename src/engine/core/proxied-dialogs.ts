import type { Clock } from '../../common/clock.js';
import { ownString } from '../../sip/message/own-string.js';
import type { ProxiedEnds } from './proxy-hop.js';

interface Entry {
  at: number;
  ends: ProxiedEnds | undefined;
}

export interface ProxiedDialogsOptions {
  clock: Clock;
  /** Most dialogs remembered; the least recently used goes first (default 20,000). */
  max?: number;
  /** A dialog unused this long is forgotten (default 12 h). */
  idleMs?: number;
  /** The table was full and its least recently used dialog was forgotten (for the owner's rate-limited log line). */
  onEvicted?: (max: number) => void;
}

/**
 * The dialogs the engine record-routed for an app that proxied their INVITE (drachtio `proxy` with
 * remainInDialog): the only requests the engine relays by loose routing (RFC 3261 §16.4) without an app.
 * Keyed by Call-ID and the two tags in either order; bounded in count (least recently used evicted, counted)
 * and in idle time.
 */
export class ProxiedDialogs {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #idleMs: number;
  readonly #onEvicted: ((max: number) => void) | undefined;
  /** key → last use and where its requests may go; Map order is use order. */
  readonly #byKey = new Map<string, Entry>();
  evicted = 0;

  constructor(o: ProxiedDialogsOptions) {
    this.#clock = o.clock;
    this.#max = o.max ?? 20_000;
    this.#idleMs = o.idleMs ?? 12 * 3600_000;
    this.#onEvicted = o.onEvicted;
  }

  get size(): number {
    return this.#byKey.size;
  }

  add(callId: string, tagA: string, tagB: string, ends?: ProxiedEnds): void {
    // A copy: the key is kept for hours, and cut from a response's text it would keep that text alive (own-string.ts).
    const key = ownString(keyOf(callId, tagA, tagB));
    this.#byKey.delete(key);
    this.#byKey.set(key, { at: this.#clock.now(), ends });
    this.#sweep();
    while (this.#byKey.size > this.#max) {
      const oldest = this.#byKey.keys().next().value as string;
      this.#byKey.delete(oldest);
      this.evicted++;
      this.#onEvicted?.(this.#max);
    }
  }

  /** Whether the request's dialog is one we proxied; a hit counts as use. */
  has(callId: string, tagA: string, tagB: string): boolean {
    return this.find(callId, tagA, tagB) !== undefined;
  }

  /** The request's dialog if it is one we proxied, with where its requests may go; a hit counts as use. */
  find(callId: string, tagA: string, tagB: string): { ends: ProxiedEnds | undefined } | undefined {
    const key = keyOf(callId, tagA, tagB);
    const e = this.#byKey.get(key);
    if (e === undefined) return undefined;
    const now = this.#clock.now();
    this.#byKey.delete(key);
    if (now - e.at > this.#idleMs) return undefined;
    e.at = now;
    this.#byKey.set(key, e);
    return e;
  }

  remove(callId: string, tagA: string, tagB: string): void {
    this.#byKey.delete(keyOf(callId, tagA, tagB));
  }

  #sweep(): void {
    const limit = this.#clock.now() - this.#idleMs;
    for (const [key, e] of this.#byKey) {
      if (e.at >= limit) return;
      this.#byKey.delete(key);
    }
  }
}

function keyOf(callId: string, a: string, b: string): string {
  return a < b ? `${callId}\n${a}\n${b}` : `${callId}\n${b}\n${a}`;
}
