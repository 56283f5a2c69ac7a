import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';
import { cdrPlan } from '../../../src/startup.js';

const base = 'gateway: { listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }] }\n';

test('cdr: with nothing configured, the JSON-lines file is on, in ../cdr/ beside the profiles folder, with its rotation defaults', () => {
  const r = parseConfig([{ file: '/etc/tg/profiles/gateway.yaml', text: base }]);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.deepEqual(r.config.cdr, { file: { enabled: true, path: '/etc/tg/cdr/cdr.jsonl', rotateBytes: 104_857_600, rotateDaily: true, keep: 30 } });
  assert.deepEqual(cdrPlan(r.config, {}), { cdr: { file: { path: '/etc/tg/cdr/cdr.jsonl', rotateBytes: 104_857_600, rotateDaily: true, keep: 30 } } });
});

test('cdr: relative paths follow the file that names them; file off and no database means no sink at all', () => {
  const r = parseConfig([
    { file: '/srv/p/gateway.yaml', text: base },
    { file: '/srv/p/sub/cdr.yaml', text: 'cdr:\n  file: { path: out/calls.jsonl }\n  postgres: { host: 127.0.0.1, database: tg, user: tg }\n' },
  ]);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.equal(r.config.cdr.file.path, join('/srv/p/sub', 'out/calls.jsonl'));
  assert.equal(r.config.cdr.postgres?.queueDir, '/srv/p/cdr/queue');
  const off = parseConfig([{ file: '/srv/p/gateway.yaml', text: `${base}cdr: { file: { enabled: false } }\n` }]);
  assert.ok(off.ok);
  assert.deepEqual(cdrPlan(off.config, {}), {});
});

test('cdr.postgres: a URL is taken apart and the password comes from the variable passwordEnv names', () => {
  const r = parseConfig([{
    file: '/p/gateway.yaml',
    text: `${base}cdr:\n  postgres: { url: "postgres://bill%40ing@[::1]:6543/cdr_db", passwordEnv: CDR_PW, table: calls, batchSize: 250, flushMs: 200 }\n`,
  }], { env: { CDR_PW: 's3cret' } });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.equal(r.warnings.length, 0);
  const plan = cdrPlan(r.config, { CDR_PW: 's3cret' });
  assert.deepEqual(plan.cdr?.postgres, {
    connection: { host: '::1', port: 6543, database: 'cdr_db', user: 'bill@ing', password: 's3cret' }, table: 'calls', batchSize: 250, flushMs: 200,
    queueDir: '/cdr/queue', maxQueueBytes: 268_435_456,
  });
});

test('cdr.postgres: a password in the file or the URL, both url and host, neither, a table name that is not plain, and 1,001-row batches are refused', () => {
  const bad = [
    ['{ host: db, password: x }', 'cdr.postgres.password'],
    ['{ url: "postgres://u:pw@db/x" }', 'cdr.postgres.url'],
    ['{ url: "mysql://db/x" }', 'cdr.postgres.url'],
    ['{ url: "postgres://db/x", host: db }', 'cdr.postgres.url'],
    ['{ database: x }', 'cdr.postgres.url'],
    ['{ host: db, table: "Cdr; DROP" }', 'cdr.postgres.table'],
    ['{ host: db, batchSize: 1001 }', 'cdr.postgres.batchSize'],
  ] as const;
  for (const [pg, path] of bad) {
    const r = parseConfig([{ file: '/p/gateway.yaml', text: `${base}cdr:\n  postgres: ${pg}\n` }]);
    assert.equal(r.ok, false, pg);
    assert.ok(!r.ok && r.problems.some((p) => p.path === path && p.code === 'ERR_CONFIG_SCHEMA'), `${pg}: ${JSON.stringify(!r.ok && r.problems)}`);
  }
});

test('cdr.postgres: a passwordEnv that is not set is a warning naming it', () => {
  const r = parseConfig([{ file: '/p/gateway.yaml', text: `${base}cdr:\n  postgres: { host: db, passwordEnv: NOT_SET_HERE }\n` }], { env: {} });
  assert.ok(r.ok);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.path]), [['WARN_CONFIG_ENV', 'cdr.postgres.passwordEnv']]);
});

test('cdr.postgres.tls: CA and client files follow the file that names them and are read at start; verify ca skips the name check; a half client pair and a missing file are refused', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'tg-cdr-tls-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    writeFileSync(join(dir, 'c.pem'), 'CLIENT PEM');
    writeFileSync(join(dir, 'c.key'), 'CLIENT KEY');
    const text = (tls: string) => `${base}cdr:\n  postgres: { host: 127.0.0.1, database: tg, user: tg, tls: ${tls} }\n`;
    const full = parseConfig([{ file: join(dir, 'gateway.yaml'), text: text('{ ca: ca.pem, cert: c.pem, key: c.key, servername: db.test }') }]);
    assert.ok(full.ok, JSON.stringify(!full.ok && full.problems));
    assert.deepEqual(full.config.cdr.postgres?.tls, { verify: 'full', ca: join(dir, 'ca.pem'), cert: join(dir, 'c.pem'), key: join(dir, 'c.key'), servername: 'db.test' });
    const ssl = cdrPlan(full.config, {}).cdr?.postgres?.connection.ssl;
    assert.deepEqual(ssl, { rejectUnauthorized: true, ca: 'CA PEM', cert: 'CLIENT PEM', key: 'CLIENT KEY', servername: 'db.test' });

    const ca = parseConfig([{ file: join(dir, 'gateway.yaml'), text: text('{ verify: ca, ca: ca.pem }') }]);
    assert.ok(ca.ok);
    const caSsl = cdrPlan(ca.config, {}).cdr?.postgres?.connection.ssl;
    assert.equal(caSsl?.rejectUnauthorized, true);
    assert.equal(caSsl?.checkServerIdentity?.('other.name', {} as never), undefined, 'verify ca: any name');
    const none = parseConfig([{ file: join(dir, 'gateway.yaml'), text: text('{ verify: none }') }]);
    assert.ok(none.ok);
    assert.deepEqual(cdrPlan(none.config, {}).cdr?.postgres?.connection.ssl, { rejectUnauthorized: false });

    const half = parseConfig([{ file: join(dir, 'gateway.yaml'), text: text('{ cert: c.pem }') }]);
    assert.equal(half.ok, false);
    if (!half.ok) assert.ok(half.problems.some((p) => p.path === 'cdr.postgres.tls.cert'), JSON.stringify(half.problems));
    const missing = parseConfig([{ file: join(dir, 'gateway.yaml'), text: text('{ ca: nowhere.pem }') }]);
    assert.ok(missing.ok);
    assert.throws(() => cdrPlan(missing.config, {}), (e: Error & { code?: string }) => e.code === 'ERR_CONFIG_READ' && e.message.includes('cdr.postgres.tls.ca') && e.message.includes('nowhere.pem'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
