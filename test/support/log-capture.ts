import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface LogCapture {
  /** A pino logger at `level` whose JSON lines are kept here. */
  log: Logger;
  /** The `cdr` object of every `cdr` line, in order. */
  cdrs: Array<Record<string, unknown>>;
  /** Every line's level and message, in order. */
  lines: Array<{ level: number; msg: string }>;
  /** Messages at warn or above, in order. */
  warnings: string[];
  /** Every line whole, as parsed from its JSON, in order. */
  records: Array<Record<string, unknown>>;
}

/** Captures what a logger is given, so a test can assert on CDRs, warnings and whole lines. */
export function captureLog(level = 'info'): LogCapture {
  const cdrs: LogCapture['cdrs'] = [];
  const lines: LogCapture['lines'] = [];
  const warnings: string[] = [];
  const records: LogCapture['records'] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) {
        if (!l) continue;
        const o = JSON.parse(l) as { msg?: string; level?: number; cdr?: Record<string, unknown> };
        records.push(o);
        if (o.msg === 'cdr' && o.cdr) cdrs.push(o.cdr);
        lines.push({ level: o.level ?? 0, msg: o.msg ?? '' });
        if ((o.level ?? 0) >= 40 && o.msg) warnings.push(o.msg);
      }
      cb();
    },
  });
  return { log: pino({ level }, dest), cdrs, lines, warnings, records };
}
