// The refusals fastify makes before a handler runs are the API's own: a body over its route's limit is 413
// ERR_ADMIN_BODY_TOO_LARGE, counted as body-too-large; a request its schema refuses (or a body that is not JSON) is
// 400 ERR_ADMIN_REQUEST, counted as bad-request; each logged once a minute per code and source, never with the body.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin } from '../../../src/admin/index.js';
import { minimalAdminServices } from '../../support/admin-services.js';
import { captureLog } from '../../support/log-capture.js';
import { parsePromText } from '../../support/prom-text.js';

type App = Awaited<ReturnType<typeof buildAdmin>>;

async function counted(app: App, cause: string): Promise<[number | undefined, number | undefined]> {
  const stats = (await app.inject({ method: 'GET', url: '/stats' })).json() as { adminRefused: Record<string, number> };
  const prom = parsePromText((await app.inject({ method: 'GET', url: '/metrics' })).body);
  return [stats.adminRefused[cause], prom.value('trunkgate_admin_refused_total', { cause })];
}

test('a body over its route\'s limit is 413 ERR_ADMIN_BODY_TOO_LARGE, counted as body-too-large and logged once', async (t) => {
  const { log, records } = captureLog();
  const app = await buildAdmin(minimalAdminServices(), { log, processMetrics: false });
  t.after(() => app.close());
  const secret = 'SECRET-KEY-MATERIAL';
  const big = JSON.stringify({ trustpoint: 'gw', certificate: secret + 'x'.repeat(300 * 1024) });
  for (let i = 0; i < 3; i++) {
    const r = await app.inject({ method: 'POST', url: '/pki/import', headers: { 'content-type': 'application/json' }, payload: big });
    assert.equal(r.statusCode, 413);
    assert.equal((r.json() as { code: string }).code, 'ERR_ADMIN_BODY_TOO_LARGE');
    assert.match((r.json() as { message: string }).message, /262144 bytes/);
  }
  assert.deepEqual(await counted(app, 'body-too-large'), [3, 3]);
  assert.deepEqual(await counted(app, 'bad-request'), [0, 0]);
  const lines = records.filter((l) => l.code === 'ERR_ADMIN_BODY_TOO_LARGE');
  assert.equal(lines.length, 1, 'one line a minute per code and source');
  assert.equal(lines[0]!.source, '127.0.0.1');
  assert.equal(lines[0]!.url, '/pki/import');
  assert.ok(!JSON.stringify(records).includes(secret), 'the body is never logged');
});

test('a request its schema refuses, or a body that is not JSON, is 400 ERR_ADMIN_REQUEST counted as bad-request', async (t) => {
  const { log, records } = captureLog();
  const app = await buildAdmin(minimalAdminServices(), { log, processMetrics: false });
  t.after(() => app.close());
  // The body that is not JSON goes first, so that its line is the one written for this source this minute. Its secret
  // is at the body's very start: a JSON.parse message (which fastify's parser error may carry in another version)
  // quotes only the start of what it could not read.
  const secret = 'SECRET-IN-A-BROKEN-BODY';
  const notJson = await app.inject({ method: 'POST', url: '/pki/inspect', headers: { 'content-type': 'application/json' }, payload: `${secret} {"pem": 1}` });
  assert.equal(notJson.statusCode, 400);
  assert.equal((notJson.json() as { code: string }).code, 'ERR_ADMIN_REQUEST');
  const bad = await app.inject({ method: 'GET', url: '/calls?limit=nope', remoteAddress: '127.0.0.2' });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json(), { code: 'ERR_ADMIN_REQUEST', message: 'querystring/limit must be integer' });
  const again = await app.inject({ method: 'GET', url: '/calls?limit=nope' });
  assert.equal(again.statusCode, 400);
  assert.deepEqual(await counted(app, 'bad-request'), [3, 3]);
  const lines = records.filter((l) => l.code === 'ERR_ADMIN_REQUEST');
  assert.deepEqual(lines.map((l) => l.source), ['127.0.0.1', '127.0.0.2'], 'one line a minute per code and source');
  assert.equal(lines[0]!.url, '/pki/inspect');
  assert.equal(lines[0]!.why, 'FST_ERR_CTP_INVALID_JSON_BODY', 'the reason is the parser\'s code, not a message that may quote the body');
  assert.equal(lines[1]!.why, 'querystring/limit must be integer');
  assert.doesNotMatch(JSON.stringify(records), /SECRET/, 'the body is never logged, not even the start JSON.parse quotes');
});

test('a handler\'s 4xx is not counted as bad-request: with a code of its own it goes out as it is, without one as ERR_ADMIN_REQUEST', async (t) => {
  const app = await buildAdmin(minimalAdminServices(), { processMetrics: false });
  t.after(() => app.close());
  app.get('/own-refusal', async () => {
    throw Object.assign(new Error('another write is under way'), { statusCode: 429, code: 'ERR_CONFIG_WRITE_BUSY' });
  });
  app.get('/bare-refusal', async () => {
    throw Object.assign(new Error('no such thing'), { statusCode: 404 });
  });
  const r = await app.inject({ method: 'GET', url: '/own-refusal' });
  assert.equal(r.statusCode, 429);
  assert.deepEqual(r.json(), { code: 'ERR_CONFIG_WRITE_BUSY', message: 'another write is under way' });
  const bare = await app.inject({ method: 'GET', url: '/bare-refusal' });
  assert.deepEqual([bare.statusCode, bare.json()], [404, { code: 'ERR_ADMIN_REQUEST', message: 'no such thing' }]);
  assert.deepEqual(await counted(app, 'bad-request'), [0, 0], 'a handler\'s refusal is not fastify\'s');
});
