import type pg from 'pg';

/**
 * SQLSTATE class 22 (data) or 23 (integrity): the rows' fault. Anything else (read-only standby, revoked grant, lock
 * timeout, changed column, lost connection, no code) is the database's: the rows wait in the queue until it is back.
 */
export function rowTrouble(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

let pgModule: Promise<typeof pg> | undefined;
/** The pg driver, imported once (about 60 ms of a start when imported with the rest). */
export function loadPg(): Promise<typeof pg> {
  pgModule ??= import('pg').then((m) => m.default);
  return pgModule;
}
