/** What the administrator did through the API, by action and result: /stats shows them, /metrics exports them. */
export type AdminAction = 'clear-call' | 'clear-connection';
export type AdminActionResult = 'done' | 'not-found' | 'conflict';

export type AdminActionCounts = Record<AdminAction, Record<AdminActionResult, number>>;

/** Counters of the admin API's actions (one instance per admin server). */
export class AdminActions {
  readonly #counts: AdminActionCounts = {
    'clear-call': { done: 0, 'not-found': 0, conflict: 0 },
    'clear-connection': { done: 0, 'not-found': 0, conflict: 0 },
  };

  count(action: AdminAction, result: AdminActionResult): void {
    this.#counts[action][result]++;
  }

  snapshot(): AdminActionCounts {
    return { 'clear-call': { ...this.#counts['clear-call'] }, 'clear-connection': { ...this.#counts['clear-connection'] } };
  }
}
