/** A point-in-time copy of the call counters. */
export interface CallStatsSnapshot {
  /** INVITEs that reached the call policy; each is also counted once as connected or under its failure status. */
  attempted: number;
  /** Calls where both legs answered. */
  connected: number;
  /** Calls that ended with both legs released. */
  completed: number;
  /** Failed calls, by the final status sent to the A leg (0: no status, an unexpected error). */
  failed: Record<string, number>;
  failedTotal: number;
  /** Calls set up and not yet ended. */
  active: number;
  /** Legs (either side) that are up: created by createB2BUA and neither released by BYE nor destroyed. */
  legsUp: number;
  /** Legs found already released when createB2BUA resolved: the BYE beat the await. */
  racedLegs: number;
  /** BYEs of ours that failed (not sent, or the engine had no dialog); the leg was released anyway. */
  byeFailed: number;
  /** Calls the gateway ended, by cause: session-expired, session-refresh-failed, max-duration, b-leg-lost, shutdown. */
  endedByGateway: Record<string, number>;
  /** Calls whose leg the engine ended by itself (ACK timeout, connection lost), the other leg then told. */
  endedByEngine: number;
  /** B-leg attempts given up after the dial peer's no-answer timeout. */
  noAnswerTimeouts: number;
  /** New calls refused while the gateway drains for shutdown (503). */
  refusedDraining: number;
  /**
   * Re-INVITEs, UPDATEs and INFOs of connected calls the gateway refused itself, by the status it sent: 488 (no SRTP
   * suite left), 503 (the media relay failed on it), 500 (it could not be sent to the other leg).
   */
  inDialogRefused: Record<string, number>;
}

/** Counters for the calls the b2bua bridges. */
export class CallStats {
  attempted = 0;
  connected = 0;
  completed = 0;
  active = 0;
  legsUp = 0;
  racedLegs = 0;
  byeFailed = 0;
  endedByEngine = 0;
  noAnswerTimeouts = 0;
  refusedDraining = 0;
  readonly #endedByGateway = new Map<string, number>();
  readonly #failed = new Map<number, number>();
  readonly #inDialogRefused = new Map<number, number>();

  fail(status: number): void {
    this.#failed.set(status, (this.#failed.get(status) ?? 0) + 1);
  }

  /** Counts an in-dialog request the gateway refused itself, by the status it sent. */
  refusedInDialog(status: number): void {
    this.#inDialogRefused.set(status, (this.#inDialogRefused.get(status) ?? 0) + 1);
  }

  /** Counts a call the gateway ended, by cause. */
  endedBy(cause: string): void {
    this.#endedByGateway.set(cause, (this.#endedByGateway.get(cause) ?? 0) + 1);
  }

  snapshot(): CallStatsSnapshot {
    const failed = byStatus(this.#failed);
    const failedTotal = Object.values(failed).reduce((a, n) => a + n, 0);
    return {
      attempted: this.attempted, connected: this.connected, completed: this.completed, failed, failedTotal,
      active: this.active, legsUp: this.legsUp, racedLegs: this.racedLegs, byeFailed: this.byeFailed,
      endedByGateway: Object.fromEntries(this.#endedByGateway), endedByEngine: this.endedByEngine,
      noAnswerTimeouts: this.noAnswerTimeouts, refusedDraining: this.refusedDraining,
      inDialogRefused: byStatus(this.#inDialogRefused),
    };
  }
}

function byStatus(counts: ReadonlyMap<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [status, n] of [...counts].sort((a, b) => a[0] - b[0])) out[String(status)] = n;
  return out;
}
