import type { OrphanStats } from './orphan-sessions.js';

/** One instance of an RtpenginePool, as its stats show it. */
export interface InstanceStats {
  address: string;
  up: boolean;
  /** Sessions of calls anchored on it now (a split-key call has two). */
  sessions: number;
  /** Sessions it may hold that no call uses, whose delete it has not answered yet. */
  orphans: number;
}

/** Counters of the media layer; exact whatever the log shows. */
export interface MediaStats {
  requests: Record<'offer' | 'answer' | 'delete' | 'query' | 'ping', number>;
  /**
   * Requests that failed, by kind (`unavailable`: a new call found no live instance; `send`: the socket would not send
   * it; `tooLarge`: an SDP body over what one request can carry, refused before it was sent).
   */
  failures: { timeout: number; refused: number; unavailable: number; send: number; tooLarge: number };
  /** Calls whose anchoring went on to the next instance after one failed (timeout, no dictionary, load limit). */
  failovers: number;
  /** Replies dropped: undecodable, or late after their request timed out. */
  strayReplies: number;
  sessionsOpened: number;
  sessionsOpen: number;
  orphans: OrphanStats;
  instances: InstanceStats[];
}
