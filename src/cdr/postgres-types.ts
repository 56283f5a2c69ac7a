import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Clock } from '../common/index.js';
import type { DiskQueueStats } from './disk-queue.js';
import type { Queryable } from './pg-schema.js';

// What the PostgreSQL CDR sink (postgres.ts) is given and what it reports.

/** How to reach the database: pg's own connection settings (a connection string, or host, port, database, user). */
export interface PgConnection {
  connectionString?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  /** TLS to the database (Node's tls options: ca, cert, key, rejectUnauthorized, checkServerIdentity, servername). */
  ssl?: ConnectionOptions;
}

export interface PostgresSinkOptions {
  connection: PgConnection;
  table: string;
  /** Rows per INSERT; a batch goes as soon as it is full, or `flushMs` after its first record. */
  batchSize: number;
  flushMs: number;
  /** The on-disk queue for records the database cannot take now, bounded by `maxQueueBytes`. */
  queueDir: string;
  maxQueueBytes: number;
  log: Logger;
  clock?: Clock;
  /** Waits between reconnection attempts: from `min`, doubling to `max` (default 250 ms to 5 s). */
  retryMs?: { min: number; max: number };
  /** Longest a query may take before the connection counts as broken (default 10 s). */
  queryTimeoutMs?: number;
  /** A client factory (tests); default pg.Client. */
  client?: (config: pg.ClientConfig) => PgClient;
}

/** What the sink uses of pg's Client. */
export interface PgClient extends Queryable {
  connect(): Promise<unknown>;
  end(): Promise<unknown>;
  on(event: 'error' | 'end', listener: (err?: Error) => void): unknown;
}

export interface PostgresSinkStats {
  table: string;
  connected: boolean;
  /** Rows the database took, and replays it already had (same id). */
  inserted: number;
  duplicates: number;
  batches: number;
  /** Records put in the on-disk queue, and taken from it into the database. */
  queued: number;
  /** Of those queued, records moved there because too many waited in memory for a slow database. */
  spilled: number;
  replayed: number;
  /** Records the queue could not take because it was full (they are in the JSON-lines file and the log line). */
  queueFull: number;
  /** Records the database refused for what they hold, one by one (in the file and the log line). */
  rejected: number;
  /** Records neither the database nor the queue took (the queue's disk failed), or queued in a segment that could not be read back. */
  lost: number;
  /** Connections that failed or broke. */
  dbErrors: number;
  /**
   * Records in memory not yet in the database or its on-disk queue: waiting for their batch, in an INSERT not yet
   * answered, or being written to the queue.
   */
  pending: number;
  queue: DiskQueueStats;
}
