import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { RateLimitedLog } from '../../log/rate-limited-log.js';
import type { TransportSender } from '../transport/types.js';
import type { WaitingTransaction } from './final-waits.js';
import type { TimerSettings, TransactionCounters, TransactionKind, TransactionUser } from './types.js';

/** What a transaction gets from the layer that made it. Internal to this folder. */
export interface TransactionContext {
  readonly transport: TransportSender;
  readonly clock: Clock;
  readonly settings: TimerSettings;
  readonly stats: TransactionCounters;
  readonly log: Logger | undefined;
  /** The layer's rate-limited lines: what a peer or an app can make happen again and again is logged through it. */
  readonly lines: RateLimitedLog | undefined;
  /** The layer's TU (server transactions report errors and ACKs for 2xx to it). */
  tu(): TransactionUser | undefined;
  /** A transaction starts waiting out its final timer of `ms`: the layer ends the wait (final-waits.ts). */
  waiting(txn: WaitingTransaction, ms: number): void;
  /** Called once when a transaction enters Terminated; the layer forgets it. */
  terminated(kind: TransactionKind, key: string, txn: object): void;
}

/** Runs a callback into the TU so that its throw cannot break a state machine (STYLE habit 2); false when it threw. */
export function callUser(ctx: TransactionContext, what: string, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    ctx.stats.userErrors++;
    ctx.lines?.line('error', 'ERR_SIP_TRANSACTION_USER_FAILED', { err, what }, 'transaction user callback threw');
    return false;
  }
}
