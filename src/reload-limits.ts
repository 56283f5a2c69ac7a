import type { GatewayConfig } from './config/index.js';
import type { NeedsRestart } from './gateway-reload-types.js';

type Limits = GatewayConfig['gateway']['limits'];

/** What a configuration reload does with gateway.limits. */
export interface LimitsReload {
  /** The Retry-After to put in force now, when the new configuration's differs from the running one. */
  retryAfterSeconds?: number;
  /** The other keys that differ from the configuration the gateway started with: the engine's bounds are set then. */
  needsRestart?: NeedsRestart;
}

/**
 * The reload decision for gateway.limits. retryAfterSeconds is only a number written into 503s, so a reload applies
 * it to the running gateway (compared with the running value); every other key sizes a table, a socket or a timer
 * the engine made at start (compared with the start, so a change waiting for a restart is named by every later reload).
 */
export function limitsReload(started: Limits, running: Limits, next: Limits): LimitsReload {
  const keys = new Set([...Object.keys(started), ...Object.keys(next)] as (keyof Limits)[]);
  keys.delete('retryAfterSeconds');
  const waiting = [...keys].filter((k) => JSON.stringify(started[k]) !== JSON.stringify(next[k])).sort();
  return {
    ...(running.retryAfterSeconds !== next.retryAfterSeconds ? { retryAfterSeconds: next.retryAfterSeconds } : {}),
    ...(waiting.length > 0
      ? { needsRestart: { what: 'gateway.limits', reason: `the engine's bounds are set when it starts (changed: ${waiting.join(', ')})` } }
      : {}),
  };
}
