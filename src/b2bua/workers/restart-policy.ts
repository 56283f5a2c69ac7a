/** Restarts a slot may make in a minute before its worker waits out a backoff. */
export const RESTARTS_PER_MINUTE = 5;
/** How soon a worker that stopped is started again, below the limit. */
export const RESTART_DELAY_MS = 1_000;
/** The first wait past the limit, doubled at each stop that follows it, up to BACKOFF_MAX_MS. */
export const BACKOFF_FIRST_MS = 60_000;
export const BACKOFF_MAX_MS = 600_000;
const WINDOW_MS = 60_000;

/** When a stopped app worker starts again: after RESTART_DELAY_MS, or past the limit after a backoff. */
export interface RestartDecision {
  delayMs: number;
  /** Past RESTARTS_PER_MINUTE: the slot waits `delayMs` with no worker (a backoff). */
  backoff: boolean;
}

/**
 * The restarts of one app worker slot (app-pool.ts): at most RESTARTS_PER_MINUTE a minute, each a second after the
 * stop; past that the slot waits a minute, then two, four, … up to ten, between tries, so a worker that cannot run
 * (a bad build, a resource gone) is neither given up on nor restarted in a loop. A worker that stays connected a whole
 * minute ends the backoff.
 */
export class RestartPolicy {
  #recent: number[] = [];
  #backoffMs = 0;
  #connectedAt: number | undefined;

  /** Its worker connected (ready) at `now`. */
  connected(now: number): void {
    this.#connectedAt = now;
  }

  /** Its worker stopped at `now`: when to start it again. */
  stopped(now: number): RestartDecision {
    const ranFor = this.#connectedAt === undefined ? 0 : now - this.#connectedAt;
    this.#connectedAt = undefined;
    if (this.#backoffMs > 0 && ranFor >= WINDOW_MS) {
      this.#backoffMs = 0;
      this.#recent = [];
    }
    this.#recent = this.#recent.filter((t) => now - t < WINDOW_MS && now >= t);
    if (this.#backoffMs === 0 && this.#recent.length < RESTARTS_PER_MINUTE) {
      this.#recent.push(now);
      return { delayMs: RESTART_DELAY_MS, backoff: false };
    }
    this.#backoffMs = this.#backoffMs === 0 ? BACKOFF_FIRST_MS : Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS);
    return { delayMs: this.#backoffMs, backoff: true };
  }
}
