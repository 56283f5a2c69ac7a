// The call list's shapes: a call's facts, its row in the admin API's list, a list, its changes, a hang-up's result.

/** What the b2bua knows of a connected call, for the admin API's call list (CUBE's `show call active voice brief`). */
export interface CallFacts {
  /** The A leg's Call-ID first, then the B leg's when drachtio-srf reported it. */
  callIds: string[];
  tenantIn: string | null;
  tenantOut: string | null;
  dialPeer: string | null;
  callingNumber: string | null;
  calledNumber: string | null;
  /** When the A leg's INVITE arrived, and when the B leg answered (ms since the epoch). */
  startAt: number;
  answerAt: number;
}

/**
 * `ringing`: the B leg is being placed (no final answer yet); `connected`: both legs up; `ending`: a BYE (or, for a call
 * not answered yet, a CANCEL) is under way on a leg, the far end's, ours or the engine's.
 */
export type CallState = 'ringing' | 'connected' | 'ending';

/** What the b2bua knows of a call still being set up: what a connected call has but its answer time. */
export type SetupFacts = Omit<CallFacts, 'answerAt'>;

/** A call still being set up, as the call list holds it until it is answered or has failed. */
export interface CallSetup {
  /** The call's id in the list; it keeps it once connected (pass it to `add`). */
  readonly id: string;
  /** It was answered (now under `id` as a connected call) or failed: it leaves the ringing calls. */
  done(): void;
  /** A B leg is being placed through this dial peer to this tenant: the ringing call lists them. */
  trying(dialPeer: string, tenantOut: string): void;
}

/** One live call as the admin API lists it. */
export interface ActiveCallRow extends SetupFacts {
  /** When the B leg answered; null while ringing. */
  answerAt: number | null;
  /** Stable for the call's life, unique across the apps: `<app>-<hex>`; `DELETE /calls/:id` takes it. */
  id: string;
  /** The b2bua app that holds the call: 0 is the main thread's, 1.. the workers (`gateway.workers`). */
  app: number;
  state: CallState;
  /** Connected time so far (0 while ringing). */
  durationMs: number;
}

/**
 * What changed in the call list since the last `takeChanges()`: each call that began, was answered or changed its
 * facts, as it stands now, and the ids of those that left the list.
 */
export interface CallChanges {
  rows: ActiveCallRow[];
  gone: string[];
}

/** The calls of one app (or of every app, gathered), newest answer last, cut at the limit asked for. */
export interface CallList {
  calls: ActiveCallRow[];
  /** Live calls in all, whatever the limit. */
  total: number;
  /** Apps that did not answer in time (their calls are missing from `calls` and `total`). */
  unanswered: number[];
}

/** What a hang-up found: no such call, a call already being torn down, or a call it ended now. */
export type HangUpResult =
  | { outcome: 'unknown' }
  | { outcome: 'already-ending'; call: ActiveCallRow }
  | { outcome: 'ended' | 'ending'; call: ActiveCallRow };
