// The admin API's OpenAPI document: the committed copy (docs/admin-api.openapi.json) is what the API serves, redocly's
// recommended rules pass on it with no error and no warning, and it says what each route can answer: 401 on every
// route but /health (which asks no token), 403 on every route (no token configured: another site), 400 where a
// request part is validated, 404/409/422 where they happen.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildAdmin } from '../../src/admin/index.js';
import { repoRoot } from '../support/trunkgate-process.js';

interface Operation { security?: unknown[]; responses: Record<string, unknown>; operationId?: string; summary?: string }
interface Doc { servers?: Array<{ url: string }>; security?: unknown[]; paths: Record<string, Record<string, Operation>> }

const committedPath = join(repoRoot, 'docs/admin-api.openapi.json');
const committed = JSON.parse(readFileSync(committedPath, 'utf8')) as Doc;

test('GET /openapi.json serves the committed document, with or without a token, and asks no token for it', async (t) => {
  for (const token of [undefined, 'tok']) {
    const app = await buildAdmin({} as never, token ? { token } : {});
    t.after(() => app.close());
    const r = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), committed, 'regenerate: npm run openapi -- --write');
  }
});

test('every route\'s schemas compile with fastify\'s own compilers at ready(), as they are compiled lazily on first use', async (t) => {
  // The gateway compiles a route's schemas at its first request (src/admin/lazy-schema-compilers.ts); compiled all at
  // once here, a schema fastify cannot compile fails this test rather than a user's first request to that route.
  const app = await buildAdmin({} as never, { schemas: 'at-start' });
  t.after(() => app.close());
  await app.ready();
  const lazy = await buildAdmin({} as never);
  t.after(() => lazy.close());
  await lazy.ready();
  // A request the schema refuses is refused the same way when its validator was compiled lazily.
  const bad = await lazy.inject({ method: 'GET', url: '/calls?limit=nope' });
  const eager = await app.inject({ method: 'GET', url: '/calls?limit=nope' });
  assert.equal(bad.statusCode, 400, bad.body);
  assert.deepEqual(bad.json(), eager.json());
});

test('redocly lint (recommended rules) finds no error and no warning in the document', () => {
  const bin = join(repoRoot, 'node_modules/.bin/redocly');
  const r = spawnSync(bin, ['lint', committedPath, '--format=json'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.error, undefined, `redocly not installed (npm ci installs @redocly/cli): ${String(r.error)}`);
  const report = JSON.parse(r.stdout) as { totals: { errors: number; warnings: number; ignored: number }; problems: unknown[] };
  assert.deepEqual(report.problems, [], 'problems');
  // Nothing is ignored: every operation, /health included, describes its 4xx.
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
});

test('the document names a server, asks the bearer token everywhere but /health, and describes 401, 403, 400, 404, 409 and 422 where they apply', () => {
  assert.ok((committed.servers ?? []).length > 0, 'servers is not empty');
  assert.deepEqual(committed.security, [{ bearer: [] }]);
  const ops = Object.entries(committed.paths).flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => ({ path, m, op })));
  assert.ok(ops.length >= 20, `${ops.length} operations`);
  const codes = (path: string, m: string) => Object.keys(committed.paths[path]![m]!.responses);
  for (const { path, m, op } of ops) {
    if (path === '/health') {
      assert.deepEqual(op.security, [], '/health asks no token');
      assert.ok(!('401' in op.responses));
      assert.ok('403' in op.responses, '/health describes 403');
      continue;
    }
    assert.ok('401' in op.responses, `${m} ${path} describes 401`);
    assert.ok('403' in op.responses, `${m} ${path} describes 403`);
    assert.equal(op.security, undefined, `${m} ${path} takes the document's security`);
    assert.ok(op.operationId && op.summary, `${m} ${path} has an operationId and a summary`);
  }
  assert.deepEqual(codes('/calls/{id}', 'delete').sort(), ['200', '400', '401', '403', '404', '409']);
  // 501: a gateway running against drachtio-server has no connection table or listener list of its own.
  assert.deepEqual(codes('/connections/{id}', 'delete').sort(), ['200', '400', '401', '403', '404', '501']);
  assert.deepEqual(codes('/calls', 'get').sort(), ['200', '400', '401', '403']);
  assert.deepEqual(codes('/listeners', 'get').sort(), ['200', '401', '403', '501']);
  for (const p of ['/reload/tls', '/reload/config', '/tls/probe', '/pki/import']) assert.ok(codes(p, 'post').includes('422'), `${p} describes 422`);
  assert.ok(codes('/pki/trust', 'post').includes('409'));
});
