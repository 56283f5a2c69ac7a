import { z } from 'zod';
import { EnvNameSchema, PortSchema } from './common-schema.js';

/**
 * The JSON-lines CDR file, one record per call per line: on by default. Paths are relative to the folder of the
 * file that names them; the defaults, to the profiles folder (so `../cdr/` beside `profiles/`).
 */
export const CdrFileSchema = z.strictObject({
  enabled: z.boolean().default(true),
  path: z.string().min(1).default('../cdr/cdr.jsonl'),
  /** Rotate before the file would pass this many bytes; 0: never by size. */
  rotateBytes: z.number().int().min(0).max(1_099_511_627_776).default(104_857_600),
  /** Rotate at the first record of each UTC day. */
  rotateDaily: z.boolean().default(true),
  /** Rotated files kept beside the current one; older ones are deleted. */
  keep: z.number().int().min(1).max(100_000).default(30),
});

/** A `postgres://` or `postgresql://` URL without a password in it (that comes from passwordEnv). */
const PgUrlSchema = z.string().refine((u) => {
  try {
    const url = new URL(u);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.password === '';
  } catch {
    return false;
  }
}, { error: 'a postgres:// or postgresql:// URL with no password in it (name the variable that holds it in passwordEnv)' });

/**
 * TLS to the CDR database (PostgreSQL's sslmode verify-full / verify-ca, or encryption without a check): `ca` is
 * the CA file the server's certificate must lead to (default: Node's public roots), `cert` and `key` a client
 * certificate for a server that asks one. Paths are relative to the file that names them.
 */
export const CdrDbTlsSchema = z.strictObject({
  verify: z.enum(['full', 'ca', 'none']).default('full'),
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** The name the server's certificate must carry with verify full, when it is not the host. */
  servername: z.string().min(1).optional(),
}).refine((t) => (t.cert === undefined) === (t.key === undefined), { error: 'a client certificate needs both cert and key', path: ['cert'] });

/**
 * CDRs into PostgreSQL: batched INSERTs into `table` (created and migrated by the gateway); while the database
 * is away, batches wait in a bounded on-disk queue under `queueDir` and are replayed in order when it is back.
 */
export const CdrPostgresSchema = z.strictObject({
  url: PgUrlSchema.optional(),
  host: z.string().min(1).optional(),
  port: PortSchema.optional(),
  database: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  /** The environment variable holding the database password (never the password itself). */
  passwordEnv: EnvNameSchema.optional(),
  password: z.never({ error: 'inline passwords are refused: put it in an environment variable and name that in passwordEnv' }).optional(),
  table: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'a table name: lower-case letters, digits and "_", not starting with a digit' }).default('cdr'),
  /** Rows per INSERT (at most 1,000: PostgreSQL takes 65,535 parameters per statement). */
  batchSize: z.number().int().min(1).max(1_000).default(100),
  /** A batch that is not full goes this long after its first record. */
  flushMs: z.number().int().min(10).max(60_000).default(1_000),
  queueDir: z.string().min(1).default('../cdr/queue'),
  /** The most the on-disk queue holds; past it records are counted (they are still in the JSON-lines file). */
  maxQueueBytes: z.number().int().min(65_536).max(1_099_511_627_776).default(268_435_456),
  /** TLS to the database; absent: a plain connection (a database on loopback or a private network). */
  tls: CdrDbTlsSchema.optional(),
}).refine((p) => (p.url !== undefined) !== (p.host !== undefined), { error: 'name the database either by url or by host (with port, database, user), not both', path: ['url'] });

/** Call detail records: the JSON-lines file (default on) and PostgreSQL (when configured), besides the `cdr` log line. */
export const CdrSchema = z.strictObject({
  file: CdrFileSchema.prefault({}),
  postgres: CdrPostgresSchema.optional(),
});
