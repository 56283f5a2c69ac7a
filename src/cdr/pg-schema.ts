import type { CdrRecord } from '../b2bua/cdr-record.js';

/** What the migration and the inserts need of a PostgreSQL client (pg's Client, or a fake). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>;
}

/** A table name the gateway may create: lower-case letters, digits and `_`, as PostgreSQL folds unquoted names. */
export const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The table of schema versions, one row per CDR table the gateway manages. */
export const VERSION_TABLE = 'trunkgate_schema_version';

/**
 * PostgreSQL's text, text[] and jsonb refuse U+0000 (22021 `invalid byte sequence for encoding "UTF8": 0x00`, and
 * jsonb's `unsupported Unicode escape sequence` for `\u0000`): one NUL would lose the whole batch's rows. The records
 * keep network text without control characters (src/common/printable.ts); whatever still holds a NUL (a record
 * queued on disk by an earlier version, a field that came another way) loses it here, so no row is refused for it.
 */
function withoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  if (Array.isArray(value)) return value.map(withoutNul);
  return value;
}

/** A jsonb cell: the value as JSON, with NUL dropped from every string in it (its keys are the record's own names). */
function jsonCell(value: unknown): string {
  return JSON.stringify(value, (_key: string, v: unknown) => (typeof v === 'string' ? withoutNul(v) : v));
}

/** Every column, in insert order, with how a record fills it. */
const FILLED_BY: ReadonlyArray<readonly [string, (r: CdrRecord) => unknown]> = [
  ['id', (r) => r.id],
  ['call_id', (r) => r.callId],
  ['calling_number', (r) => r.callingNumber],
  ['called_number', (r) => r.calledNumber],
  ['source_address', (r) => r.sourceAddress],
  ['source_port', (r) => r.sourcePort],
  ['transport_in', (r) => r.transportIn],
  ['listener', (r) => r.listener],
  ['tenant_in', (r) => r.tenantIn],
  ['identities', (r) => r.identities ?? []],
  ['peer_identity', (r) => r.peerIdentity],
  ['tls_peer', (r) => r.tlsPeer],
  ['tls_version', (r) => r.tlsVersion],
  ['tls_cipher', (r) => r.tlsCipher],
  ['category', (r) => r.category],
  ['dial_peer', (r) => r.dialPeer],
  ['tenant_out', (r) => r.tenantOut],
  ['transport_out', (r) => r.transportOut],
  ['destination', (r) => r.destination],
  ['tls_version_out', (r) => r.tlsVersionOut],
  ['tls_cipher_out', (r) => r.tlsCipherOut],
  ['identities_out', (r) => r.identitiesOut ?? []],
  ['attempts', (r) => r.attempts],
  ['targets', (r) => jsonCell(r.targets ?? [])],
  ['setup_at', (r) => new Date(r.setupAt)],
  ['answer_at', (r) => (r.answerAt === null ? null : new Date(r.answerAt))],
  ['end_at', (r) => new Date(r.endAt)],
  ['setup_ms', (r) => r.setupMs],
  ['duration_ms', (r) => r.durationMs],
  ['status', (r) => r.status],
  ['cause', (r) => r.cause],
  ['released_by', (r) => r.releasedBy],
  ['reason', (r) => r.reason],
  ['reason_in', (r) => r.reasonIn],
  ['reason_out', (r) => r.reasonOut],
  ['bye_failed', (r) => r.byeFailed],
  ['media', (r) => (r.media ? jsonCell(r.media) : null)],
  ['media_lost_a', (r) => r.media?.a.lost ?? null],
  ['media_lost_b', (r) => r.media?.b.lost ?? null],
  ['media_jitter_a_ms', (r) => r.media?.a.jitterMs ?? null],
  ['media_jitter_b_ms', (r) => r.media?.b.jitterMs ?? null],
  ['identity_origin', (r) => r.identityOrigin ?? null],
];

/** The columns as the inserts fill them: FILLED_BY, with NUL dropped from every text (withoutNul). */
export const COLUMNS: ReadonlyArray<readonly [string, (r: CdrRecord) => unknown]> = FILLED_BY.map(([name, get]) => [name, (r: CdrRecord) => withoutNul(get(r))] as const);

/** The most rows one INSERT may carry: PostgreSQL takes at most 65,535 parameters per statement. */
export const MAX_BATCH = Math.floor(65_535 / COLUMNS.length);

/** Migrations of a CDR table, in order; each runs once, in the transaction that records its version. */
export const MIGRATIONS: ReadonlyArray<{ version: number; sql: (table: string) => string[] }> = [
  {
    version: 1,
    sql: (t) => [
      `CREATE TABLE IF NOT EXISTS "${t}" (
        id uuid PRIMARY KEY,
        call_id text NOT NULL,
        calling_number text,
        called_number text,
        source_address text,
        source_port integer,
        transport_in text,
        listener text,
        tenant_in text,
        identities text[] NOT NULL DEFAULT '{}',
        peer_identity text,
        tls_peer text,
        tls_version text,
        tls_cipher text,
        category text,
        dial_peer text,
        tenant_out text,
        transport_out text,
        destination text,
        tls_version_out text,
        tls_cipher_out text,
        identities_out text[] NOT NULL DEFAULT '{}',
        attempts integer NOT NULL,
        targets jsonb NOT NULL DEFAULT '[]',
        setup_at timestamptz NOT NULL,
        answer_at timestamptz,
        end_at timestamptz NOT NULL,
        setup_ms bigint NOT NULL,
        duration_ms bigint NOT NULL,
        status integer NOT NULL,
        cause text NOT NULL,
        released_by text,
        reason text,
        reason_in text,
        reason_out text,
        bye_failed integer NOT NULL DEFAULT 0,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX IF NOT EXISTS "${t}_call_id" ON "${t}" (call_id)`,
      `CREATE INDEX IF NOT EXISTS "${t}_setup_at" ON "${t}" (setup_at)`,
    ],
  },
  {
    // rtpengine's per-leg figures of a call whose media was anchored (null otherwise).
    version: 2,
    sql: (t) => [`ALTER TABLE "${t}" ADD COLUMN IF NOT EXISTS media jsonb`],
  },
  {
    // The loss and jitter each leg's endpoint reported (RTCP, through rtpengine) as columns of their own, for
    // queries over many calls; null when the call was not anchored or the leg sent no usable report.
    version: 3,
    sql: (t) => [`ALTER TABLE "${t}" ADD COLUMN IF NOT EXISTS media_lost_a integer, ADD COLUMN IF NOT EXISTS media_lost_b integer,
      ADD COLUMN IF NOT EXISTS media_jitter_a_ms integer, ADD COLUMN IF NOT EXISTS media_jitter_b_ms integer`],
  },
  {
    // Who verified the caller's identities: `tls` (this gateway's own handshake) or `proxy` (a trusted proxy's
    // header, tenants' proxyIdentity); null when none were verified. Billing and audits tell the two apart.
    version: 4,
    sql: (t) => [`ALTER TABLE "${t}" ADD COLUMN IF NOT EXISTS identity_origin text`],
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/**
 * Brings `table` to SCHEMA_VERSION: under an advisory lock (two gateways starting together migrate once), in one
 * transaction per run, recording the version reached in trunkgate_schema_version. A table at a newer version than
 * this gateway knows is refused (thrown), so an older gateway never writes rows a newer schema does not expect.
 */
export async function migrate(client: Queryable, table: string): Promise<{ from: number; to: number }> {
  if (!TABLE_NAME.test(table)) throw new Error(`CDR table name ${JSON.stringify(table)} is not a plain lower-case name`);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(7426, hashtext($1))', [table]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (
      table_name text PRIMARY KEY,
      version integer NOT NULL,
      migrated_at timestamptz NOT NULL DEFAULT now()
    )`);
    const r = await client.query(`SELECT version FROM ${VERSION_TABLE} WHERE table_name = $1`, [table]);
    const from = r.rows.length > 0 ? Number(r.rows[0]!.version) : 0;
    if (from > SCHEMA_VERSION) {
      throw new Error(`CDR table ${table} is at schema version ${from}; this gateway knows up to ${SCHEMA_VERSION}`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      for (const statement of m.sql(table)) await client.query(statement);
    }
    if (from < SCHEMA_VERSION) {
      await client.query(`INSERT INTO ${VERSION_TABLE} (table_name, version) VALUES ($1, $2)
        ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()`, [table, SCHEMA_VERSION]);
    }
    await client.query('COMMIT');
    return { from, to: SCHEMA_VERSION };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** One multi-row INSERT of `records`; a record already there (same id: a replay) is skipped. */
export function insertStatement(table: string, records: readonly CdrRecord[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const rows = records.map((r) => {
    const cells = COLUMNS.map(([, get]) => {
      values.push(get(r));
      return `$${values.length}`;
    });
    return `(${cells.join(',')})`;
  });
  const text = `INSERT INTO "${table}" (${COLUMNS.map(([c]) => c).join(',')}) VALUES ${rows.join(',')} ON CONFLICT (id) DO NOTHING`;
  return { text, values };
}
