import type { Logger } from 'pino';
import type { CdrRecord } from '../b2bua/cdr-record.js';
import { systemClock, type Clock } from '../common/index.js';
import { RateLimitedLog } from '../log/index.js';
import type { CdrErrorCode } from './errors.js';
import { JsonLinesFile, type JsonLinesFileStats } from './jsonl-file.js';
import { PostgresSink, type PostgresSinkOptions, type PostgresSinkStats } from './postgres.js';

/** Where the gateway's CDRs go besides the `cdr` log line (config `cdr:`, paths already absolute). */
export interface CdrSinkOptions {
  file?: { path: string; rotateBytes: number; rotateDaily: boolean; keep: number };
  postgres?: Omit<PostgresSinkOptions, 'log' | 'clock'>;
}

export interface CdrSinkStats {
  /** Records handed to the sink. */
  records: number;
  file?: JsonLinesFileStats;
  postgres?: PostgresSinkStats;
}

/** The one writer of the gateway's CDR file and database: every b2bua app hands its records here. */
export interface CdrSink {
  write(record: CdrRecord): void;
  /** Resolves when every record so far is in the file and in the database or its on-disk queue. */
  flush(): Promise<void>;
  /** Flushes, then closes the file and the database connection. Idempotent. */
  close(): Promise<void>;
  stats(): CdrSinkStats;
}

/**
 * The CDR sink the configuration asks for: the JSON-lines file (the record of truth) and PostgreSQL, each
 * record to both. Resolves once the file is ready and the database's queue is read; the database itself may
 * still be connecting (records queue on disk until it answers).
 */
export async function createCdrSink(o: CdrSinkOptions, deps: { log: Logger; clock?: Clock }): Promise<CdrSink> {
  const log = deps.log.child({ component: 'cdr' });
  const clock = deps.clock !== undefined ? { clock: deps.clock } : {};
  const file = o.file ? new JsonLinesFile({ ...o.file, log, ...clock }) : undefined;
  const db = o.postgres ? new PostgresSink({ ...o.postgres, log, ...clock }) : undefined;
  file?.start();
  await db?.start();
  const limited = new RateLimitedLog(log, deps.clock ?? systemClock, { intervalMs: 60_000, perCode: 1 });
  // Each sink on its own: one that throws never costs the other its record.
  const each = (code: CdrErrorCode, write: () => void): void => {
    try {
      write();
    } catch (err) {
      limited.line('error', code, { err }, `cdr: the ${code === 'ERR_CDR_FILE' ? 'JSON-lines file' : 'database sink'} failed to take a record`);
    }
  };
  let records = 0;
  let closing: Promise<void> | undefined;
  return {
    write(record) {
      records++;
      if (file) each('ERR_CDR_FILE', () => file.write(record));
      if (db) each('ERR_CDR_DB', () => db.write(record));
    },
    async flush() {
      await Promise.all([file?.flush(), db?.flush()]);
    },
    close() {
      closing ??= (async () => {
        await Promise.all([file?.close(), db?.close()]);
      })();
      return closing;
    },
    stats: () => ({ records, ...(file ? { file: file.stats() } : {}), ...(db ? { postgres: db.stats() } : {}) }),
  };
}
