import { format } from 'node:util';
import type { Logger } from 'pino';
import { RateLimitedLog, type NowSource } from './rate-limited-log.js';

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace';
const METHODS: readonly ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug', 'trace'];

/** Longest text kept of one console call (a raw SIP message or a stack can be large). */
const MAX_TEXT = 2_000;

/**
 * Sends whatever a library prints through `console` (drachtio-srf prints its parse errors and stack traces
 * with console.error) to the JSON log instead: one line with code `ERR_CONSOLE_OUTPUT` (warn for error/warn,
 * info otherwise), rate-limited per method, the text cut to a bound and the first Error kept as `err`. Returns
 * the function that puts the console back.
 */
export function routeConsoleToLog(log: Logger, clock: NowSource = { now: () => Date.now() }, intervalMs = 10_000): () => void {
  const limited = new RateLimitedLog(log.child({ component: 'console' }), clock, { intervalMs });
  const saved = new Map<ConsoleMethod, (...args: unknown[]) => void>();
  for (const m of METHODS) {
    saved.set(m, console[m] as (...args: unknown[]) => void);
    console[m] = (...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error) as Error | undefined;
      const text = format(...args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : a)));
      const level = m === 'error' || m === 'warn' || m === 'trace' ? 'warn' : 'info';
      limited.line(level, 'ERR_CONSOLE_OUTPUT', {
        method: m, text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text, ...(err ? { err } : {}),
      }, `console.${m} output from a library`, m);
    };
  }
  return () => {
    for (const [m, fn] of saved) console[m] = fn as never;
  };
}
