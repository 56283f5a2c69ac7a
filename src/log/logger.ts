import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths whose values are never written to a log: key material and secrets. */
export const redactPaths = [
  'privateKey', '*.privateKey', 'key', '*.key', 'passphrase', '*.passphrase',
  'secret', '*.secret', 'token', '*.token', 'password', '*.password',
];

export interface LoggerSetup {
  level?: string;
  /** Where lines go; defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(setup: LoggerSetup = {}): Logger {
  const opts: LoggerOptions = {
    name: 'trunkgate',
    level: setup.level ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return setup.destination ? pino(opts, setup.destination) : pino(opts);
}

/** A logger that writes nothing; for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
