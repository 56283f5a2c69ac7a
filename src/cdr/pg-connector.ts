import type pg from 'pg';
import type { Clock, TimerHandle } from '../common/index.js';
import type { RateLimitedLog } from '../log/index.js';
import type { CdrErrorCode } from './errors.js';
import { loadPg } from './pg-driver.js';
import { migrate } from './pg-schema.js';
import type { PgClient, PostgresSinkOptions } from './postgres-types.js';

export interface PgConnectorOptions extends Pick<PostgresSinkOptions, 'connection' | 'table' | 'log' | 'retryMs' | 'queryTimeoutMs' | 'client'> {
  clock: Clock;
  /** The sink's rate-limited log: its ERR_CDR_DB lines share one window with the sink's own. */
  limited: RateLimitedLog;
  /** The on-disk queue, for the size the "connected" line reports. */
  queue: { readonly bytes: number };
  /** Connected and the table migrated: the sink may send what waits. */
  onUp: () => void;
}

/**
 * The CDR sink's one connection to PostgreSQL: connects (migrating the table first), and when it fails or breaks,
 * connects again after a wait that doubles from `retryMs.min` to `retryMs.max`, back to `min` once connected.
 * `client` is there only while the connection is up; whoever finds it broken calls `down()`.
 */
export class PgConnector {
  readonly #o: PgConnectorOptions;
  #client: PgClient | undefined;
  #connecting = false;
  #stopped = false;
  #retryTimer: TimerHandle | undefined;
  #retryMs: number;
  #dbErrors = 0;

  constructor(o: PgConnectorOptions) {
    this.#o = o;
    this.#retryMs = o.retryMs?.min ?? 250;
  }

  /** The connection while it is up, else undefined. */
  get client(): PgClient | undefined {
    return this.#client;
  }

  get up(): boolean {
    return this.#client !== undefined;
  }

  /** Connections that failed or broke. */
  get dbErrors(): number {
    return this.#dbErrors;
  }

  /** Starts connecting; does not wait for the database. */
  start(): void {
    void this.#connect();
  }

  /** A close began: no new connection from now on; the one up stays for the last batches until `end()`. */
  stop(): void {
    this.#stopped = true;
    this.#retryTimer?.cancel();
  }

  /** Ends the connection (after `stop()`). */
  async end(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }

  /** The connection is broken (`err` says how): it is dropped, counted, logged, and a new one tried after the back-off. */
  down(err: unknown): void {
    const c = this.#client;
    if (!c) return;
    this.#client = undefined;
    this.#dbErrors++;
    void c.end().catch(() => undefined);
    this.#o.limited.line('error', 'ERR_CDR_DB' satisfies CdrErrorCode, { err, table: this.#o.table },
      'cdr: lost the database; records go to the on-disk queue until it is back');
    this.#scheduleConnect();
  }

  #scheduleConnect(): void {
    if (this.#stopped || this.#retryTimer) return;
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.#o.retryMs?.max ?? 5_000);
    this.#retryTimer = this.#o.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, wait);
  }

  async #connect(): Promise<void> {
    if (this.#stopped || this.#connecting || this.#client) return;
    this.#connecting = true;
    const config: pg.ClientConfig = {
      ...this.#o.connection, connectionTimeoutMillis: 5_000, query_timeout: this.#o.queryTimeoutMs ?? 10_000, keepAlive: true,
      application_name: 'trunkgate-cdr',
    };
    let c: PgClient | undefined;
    try {
      // pg is loaded on the first connection only: a gateway that keeps its CDRs in files never pays for loading it.
      const client = this.#o.client ? this.#o.client(config) : (new (await loadPg()).Client(config) as unknown as PgClient);
      c = client;
      client.on('error', (err) => {
        if (this.#client === client) this.down(err);
      });
      client.on('end', () => {
        if (this.#client === client) this.down(new Error('connection ended'));
      });
      await client.connect();
      const m = await migrate(client, this.#o.table);
      if (this.#stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#client = client;
      this.#retryMs = this.#o.retryMs?.min ?? 250;
      this.#o.log.info({ table: this.#o.table, schemaVersion: m.to, ...(m.from !== m.to ? { migratedFrom: m.from } : {}), queuedBytes: this.#o.queue.bytes },
        'cdr: database connected');
      this.#o.onUp();
    } catch (err) {
      this.#dbErrors++;
      await c?.end().catch(() => undefined);
      this.#o.limited.line('error', 'ERR_CDR_DB' satisfies CdrErrorCode, { err, table: this.#o.table },
        'cdr: cannot reach the database (or migrate its table); records go to the on-disk queue until it answers');
      this.#scheduleConnect();
    } finally {
      this.#connecting = false;
    }
  }
}
