import type { TimerSettings } from './types.js';

/** RFC 3261 Table 4 defaults: "T1 500ms default", "T2 4s", "T4 5s". https://www.rfc-editor.org/rfc/rfc3261#appendix-A */
export const DEFAULT_TIMER_SETTINGS: Readonly<TimerSettings> = Object.freeze({ T1: 500, T2: 4000, T4: 5000 });

/** Every §17 timer value, derived once from T1/T2/T4 for a transport kind. */
export interface TimerValues {
  T1: number;
  T2: number;
  T4: number;
  /** Timer A initial value (INVITE request retransmit), T1; doubles without a cap. */
  A: number;
  /** Timer B, INVITE transaction timeout, 64*T1. */
  B: number;
  /** Timer D, wait for response retransmits: >32 s unreliable, 0 reliable. */
  D: number;
  /** Timer E initial value (non-INVITE request retransmit), T1; doubles up to T2. */
  E: number;
  /** Timer F, non-INVITE transaction timeout, 64*T1. */
  F: number;
  /** Timer G initial value (INVITE response retransmit), T1; doubles up to T2. */
  G: number;
  /** Timer H, wait for ACK receipt, 64*T1. */
  H: number;
  /** Timer I, wait for ACK retransmits: T4 unreliable, 0 reliable. */
  I: number;
  /** Timer J, wait for non-INVITE request retransmits: 64*T1 unreliable, 0 reliable. */
  J: number;
  /** Timer K, wait for response retransmits: T4 unreliable, 0 reliable. */
  K: number;
  /** RFC 6026 Timer L, wait for INVITE retransmits after a 2xx, 64*T1. */
  L: number;
  /** RFC 6026 Timer M, wait for 2xx retransmits, 64*T1. */
  M: number;
}

export function resolveTimerSettings(partial: Partial<TimerSettings> = {}): TimerSettings {
  const s: TimerSettings = { ...DEFAULT_TIMER_SETTINGS, ...partial };
  for (const k of ['T1', 'T2', 'T4'] as const) {
    if (!Number.isFinite(s[k]) || s[k] <= 0) throw new TypeError(`timer ${k} must be a positive number of ms`);
  }
  if (s.T2 < s.T1) throw new TypeError('timer T2 must not be below T1');
  return s;
}

/** The values per settings object and transport kind, made once: every transaction of a layer shares them. */
const computed = new WeakMap<TimerSettings, { reliable: Readonly<TimerValues>; unreliable: Readonly<TimerValues> }>();

/** Every timer value for settings `s` on a reliable or an unreliable transport (one frozen object, shared). */
export function timerValues(s: TimerSettings, reliable: boolean): Readonly<TimerValues> {
  let both = computed.get(s);
  if (!both) {
    both = { reliable: Object.freeze(deriveTimerValues(s, true)), unreliable: Object.freeze(deriveTimerValues(s, false)) };
    computed.set(s, both);
  }
  return reliable ? both.reliable : both.unreliable;
}

function deriveTimerValues(s: TimerSettings, reliable: boolean): TimerValues {
  const t64 = 64 * s.T1;
  return {
    T1: s.T1,
    T2: s.T2,
    T4: s.T4,
    A: s.T1,
    B: t64,
    // "a value of at least 32 seconds for unreliable transports, and a value of zero seconds for reliable transports"
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
    D: reliable ? 0 : Math.max(32_000, t64),
    E: s.T1,
    F: t64,
    G: s.T1,
    H: t64,
    I: reliable ? 0 : s.T4,
    J: reliable ? 0 : t64,
    K: reliable ? 0 : s.T4,
    L: t64,
    M: t64,
  };
}
