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
