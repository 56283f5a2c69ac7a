/** Stable codes of the CDR sinks' log lines (each rate-limited per code). */
export type CdrErrorCode =
  /** The JSON-lines file could not be opened, written or rotated: records go on to the log line and the database. */
  | 'ERR_CDR_FILE'
  /** The JSON-lines file's path no longer names the file being written (deleted, renamed away, replaced): it is opened again. */
  | 'ERR_CDR_FILE_GONE'
  /** The database refused a connection, a query or the schema migration: records wait in the on-disk queue. */
  | 'ERR_CDR_DB'
  /** The database refused some rows for what they hold: those records are only in the file and the log line. */
  | 'ERR_CDR_DB_REJECTED'
  /** The on-disk queue is at maxQueueBytes: records not queued are counted, and are in the file and the log line. */
  | 'ERR_CDR_QUEUE_FULL'
  /** A queued line that does not parse (a write cut short by a crash): skipped and counted. */
  | 'ERR_CDR_QUEUE_CORRUPT'
  /** The on-disk queue's folder or files could not be written or read. */
  | 'ERR_CDR_QUEUE_IO'
  /** The process exits with records neither in the file nor in the database or its queue: how many, per sink. */
  | 'ERR_CDR_EXIT_UNSAFE';
