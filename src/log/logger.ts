import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Paths whose values are never written to a log: key material and secrets. */
export const redactPaths = [
  'privateKey', '*.privateKey', 'key', '*.key', 'passphrase', '*.passphrase',
  'secret', '*.secret', 'token', '*.token', 'password', '*.password',
];

/** JSON lines for machines (the default), or one readable line per event for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** How every thread of one gateway writes: the main thread decides, the worker threads are told. */
export interface LogStyle {
  format: LogFormat;
  colour: boolean;
}

export interface LoggerSetup {
  level?: string;
  /** Where lines go; defaults to stdout. */
  destination?: NodeJS.WritableStream;
  /** Default json. */
  format?: LogFormat;
  /** Pretty lines in colour (a terminal); default false. */
  colour?: boolean;
}

/**
 * The readable form: local time, level, the event's code before its message, then the other fields on the lines
 * under it (pino-pretty, written synchronously like pino's own stdout, so a crash loses no line).
 */
function prettyStream(setup: LoggerSetup): NodeJS.WritableStream {
  return pretty({
    sync: true, colorize: setup.colour ?? false, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname,name,code',
    messageFormat: '{if code}[{code}] {end}{msg}', singleLine: false,
    ...(setup.destination ? { destination: setup.destination } : {}),
  });
}

export function createLogger(setup: LoggerSetup = {}): Logger {
  const opts: LoggerOptions = {
    name: 'trunkgate',
    level: setup.level ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (setup.format === 'pretty') return pino(opts, prettyStream(setup));
  return setup.destination ? pino(opts, setup.destination) : pino(opts);
}

/**
 * The format a process logs in: TRUNKGATE_LOG_FORMAT when set, else pretty on a terminal and JSON lines otherwise
 * (a pipe, a file, a service manager's journal).
 */
export function logFormatFor(explicit: LogFormat | undefined, stdoutIsTty: boolean): LogFormat {
  return explicit ?? (stdoutIsTty ? 'pretty' : 'json');
}

/** A logger that writes nothing; for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
