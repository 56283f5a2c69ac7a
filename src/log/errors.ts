/** Stable codes of the log layer. */
export type LogErrorCode =
  /** A library wrote through console.*: the text became a JSON log line, rate-limited per console method. */
  'ERR_CONSOLE_OUTPUT';
