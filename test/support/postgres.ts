// A real PostgreSQL for the CDR tests, from Debian's `postgresql` package: a cluster made by initdb in a temporary
// folder, on a loopback port from freePort(), started and stopped with pg_ctl (as `nobody` when the tests run as
// root, which PostgreSQL refuses to be), removed after the test.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.js';

const run = promisify(execFile);
const NOBODY = 65534;

/** The folder of initdb, pg_ctl and postgres; throws naming the package when PostgreSQL is not installed. */
export function requirePostgres(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error('PostgreSQL (initdb, pg_ctl) not found under /usr/lib/postgresql: apt-get install -y postgresql');
}

export interface TestPostgres {
  host: string;
  port: number;
  database: string;
  user: string;
  /** pg_ctl stop -m fast: every connection is cut, as when the database goes down. */
  stop(): Promise<void>;
  /** pg_ctl start again on the same port and data. */
  start(): Promise<void>;
  /** One query on a fresh connection (the test's own view of the table). */
  query<R extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** The server's log, for a failure message. */
  log(): string;
}

/**
 * initdb, start, CREATE DATABASE; stopped and removed after the test. With `tls`, the server also takes TLS
 * (ssl=on with that certificate and key); pg_stat_ssl then tells which sessions use it.
 */
export async function startPostgres(t: Pick<TestContext, 'after'>, database = 'trunkgate', o: { tls?: { cert: string; key: string } } = {}): Promise<TestPostgres> {
  const bin = requirePostgres();
  const dir = mkdtempSync(join(tmpdir(), 'tg-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, NOBODY, NOBODY);
  // As root the server runs as nobody: PostgreSQL refuses to run as root.
  const cmd = (file: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'nobody', '--', join(bin, file), ...args], { cwd: dir }) : run(join(bin, file), args, { cwd: dir }));
  await cmd('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  let options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=50`;
  if (o.tls) {
    // The key must belong to the server's user and be readable by it alone, or PostgreSQL refuses to start.
    const cert = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    writeFileSync(cert, o.tls.cert);
    writeFileSync(key, o.tls.key, { mode: 0o600 });
    if (asRoot) for (const f of [cert, key]) chownSync(f, NOBODY, NOBODY);
    options += ` -c ssl=on -c ssl_cert_file=${cert} -c ssl_key_file=${key}`;
  }
  let running = false;
  const start = async () => {
    await cmd('pg_ctl', ['-D', data, '-l', logFile, '-o', options, '-w', '-t', '30', 'start']);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await cmd('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    running = false;
  };
  t.after(async () => {
    await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  return {
    host: '127.0.0.1', port, database, user: 'postgres', stop, start,
    async query(text, values) {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database });
      await c.connect();
      try {
        return (await c.query(text, values)).rows;
      } finally {
        await c.end();
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : ''),
  };
}
