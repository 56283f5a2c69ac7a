import type { TlsDirection, TlsFailureReason } from './failure.js';

export interface TlsFailureCount {
  tenant: string;
  direction: TlsDirection;
  reason: TlsFailureReason;
  count: number;
}

/** Handshake counters per (tenant, direction, reason), as CUBE's client/server handshake failure counts. */
export class TlsStats {
  readonly #failures = new Map<string, TlsFailureCount>();
  readonly #successes = new Map<string, number>();

  recordFailure(tenant: string | undefined, direction: TlsDirection, reason: TlsFailureReason): void {
    const t = tenant ?? '-';
    const key = `${t}\u0000${direction}\u0000${reason}`;
    const cur = this.#failures.get(key);
    if (cur) cur.count++;
    else this.#failures.set(key, { tenant: t, direction, reason, count: 1 });
  }

  recordSuccess(tenant: string | undefined, direction: TlsDirection): void {
    const key = `${tenant ?? '-'}\u0000${direction}`;
    this.#successes.set(key, (this.#successes.get(key) ?? 0) + 1);
  }

  failures(tenant: string | undefined, direction: TlsDirection, reason: TlsFailureReason): number {
    return this.#failures.get(`${tenant ?? '-'}\u0000${direction}\u0000${reason}`)?.count ?? 0;
  }

  successes(tenant: string | undefined, direction: TlsDirection): number {
    return this.#successes.get(`${tenant ?? '-'}\u0000${direction}`) ?? 0;
  }

  /** Every non-zero failure counter, sorted for stable output. */
  snapshot(): TlsFailureCount[] {
    return [...this.#failures.values()]
      .map((c) => ({ ...c }))
      .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.direction.localeCompare(b.direction) || a.reason.localeCompare(b.reason));
  }
}
