// The /config routes over a fake store (inject, no socket): each refusal code becomes its status (429 with
// Retry-After, 413 for a body over the bound, 400 for a dial peer without its id, 409 and 500 with the files named), the kinds the routes take are the
// kinds the store edits, and the OpenAPI document describes what each route can answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin } from '../../../src/admin/index.js';
import { CONFIG_BODY_LIMIT, CONFIG_KIND_NAMES } from '../../../src/admin/config-schemas.js';
import type { AdminServices } from '../../../src/admin/index.js';
import { CONFIG_KINDS, ConfigWriteError } from '../../../src/config/write/index.js';

type Store = NonNullable<AdminServices['configStore']>;

async function app(store: Partial<Store>) {
  const a = await buildAdmin({ configStore: store as Store } as unknown as AdminServices, { token: 'tok' });
  return a;
}
const auth = { authorization: 'Bearer tok' };

test('the routes take exactly the kinds the store edits', () => {
  assert.deepEqual([...CONFIG_KIND_NAMES].sort(), [...CONFIG_KINDS].sort());
});

test('refusals of the store become their statuses, with the code and what the editor needs to go on', async (t) => {
  const refusing = (code: string, details?: Record<string, unknown>) => async () => { throw new ConfigWriteError(code as never, `refused ${code}`, details); };
  const a = await app({
    create: refusing('ERR_CONFIG_WRITE_BUSY'),
    replace: refusing('ERR_CONFIG_ETAG_MISMATCH', { etag: '"now"' }),
    remove: refusing('ERR_CONFIG_IN_USE', { referencedBy: [{ code: 'ERR_CONFIG_REFERENCE', message: 'x', path: 'dialPeers[0].tenant' }] }),
    get: () => { throw new ConfigWriteError('ERR_CONFIG_WRITE', 'disk full'); },
  });
  const failed = await a.inject({ method: 'GET', url: '/config/tenants/a', headers: auth });
  assert.deepEqual([failed.statusCode, failed.json().code], [500, 'ERR_CONFIG_WRITE']);
  t.after(() => a.close());
  const busy = await a.inject({ method: 'POST', url: '/config/tenants', headers: auth, payload: { name: 'a', value: {} } });
  assert.deepEqual([busy.statusCode, busy.headers['retry-after'], busy.json().code], [429, '1', 'ERR_CONFIG_WRITE_BUSY']);
  const stale = await a.inject({ method: 'PUT', url: '/config/tenants/a', headers: { ...auth, 'if-match': '"old"' }, payload: { value: {} } });
  assert.deepEqual([stale.statusCode, stale.json().etag], [409, '"now"']);
  const inUse = await a.inject({ method: 'DELETE', url: '/config/tenants/a', headers: { ...auth, 'if-match': '"x"' } });
  assert.deepEqual([inUse.statusCode, inUse.json().referencedBy[0].path], [409, 'dialPeers[0].tenant']);
  const big = await a.inject({ method: 'POST', url: '/config/tenants', headers: auth, payload: { name: 'a', value: { description: 'x'.repeat(CONFIG_BODY_LIMIT) } } });
  assert.equal(big.statusCode, 413);
  const noId = await a.inject({ method: 'POST', url: '/config/dialPeers', headers: auth, payload: { value: { tenant: 'pbx' } } });
  assert.deepEqual([noId.statusCode, noId.json().code], [400, 'ERR_ADMIN_REQUEST']);
  const renamed = await a.inject({ method: 'PUT', url: '/config/dialPeers/1', headers: { ...auth, 'if-match': '*' }, payload: { value: { id: 2 } } });
  assert.equal(renamed.statusCode, 400);
  const noName = await a.inject({ method: 'POST', url: '/config/tenants', headers: auth, payload: { value: {} } });
  assert.equal(noName.statusCode, 400);
});

test('a file the gateway could not read is 409 naming it; a write that could not be put back is 500 naming the file and its backup', async (t) => {
  const a = await app({
    create: async () => { throw new ConfigWriteError('ERR_CONFIG_FILE_UNREADABLE', 'permissions.yaml does not parse', { file: 'permissions.yaml' }); },
    replace: async () => {
      throw new ConfigWriteError('ERR_CONFIG_RESTORE', 'tenants.yaml was not put back', { file: 'tenants.yaml', backup: '.tenants.yaml.0a1b2c.prev', problems: [{ code: 'ERR_TLS_PROFILE_INVALID', message: 'no' }] });
    },
  });
  t.after(() => a.close());
  const unreadable = await a.inject({ method: 'POST', url: '/config/tlsPeers', headers: auth, payload: { name: 'b.example', value: {} } });
  assert.deepEqual([unreadable.statusCode, unreadable.json()], [409, { code: 'ERR_CONFIG_FILE_UNREADABLE', message: 'permissions.yaml does not parse', file: 'permissions.yaml' }]);
  const stuck = await a.inject({ method: 'PUT', url: '/config/tenants/pbx', headers: { ...auth, 'if-match': '*' }, payload: { value: {} } });
  assert.equal(stuck.statusCode, 500);
  assert.deepEqual(stuck.json(), {
    code: 'ERR_CONFIG_RESTORE', message: 'tenants.yaml was not put back', file: 'tenants.yaml', backup: '.tenants.yaml.0a1b2c.prev',
    problems: [{ code: 'ERR_TLS_PROFILE_INVALID', message: 'no' }],
  });
});

test('a dial peer replaced without its id gets the id of the URL; unwired, the routes answer 501', async (t) => {
  let seen: unknown;
  const a = await app({ replace: async (_k, _n, v) => { seen = v; return { op: 'replace', kind: 'dialPeers', name: '7', file: 'd.yaml', collectionEtag: '"c"', method: 'in-place', reload: { changed: [], applied: [], needsRestart: [], warnings: [] } }; } });
  t.after(() => a.close());
  const r = await a.inject({ method: 'PUT', url: '/config/dialPeers/7', headers: { ...auth, 'if-match': '*' }, payload: { value: { tenant: 'pbx', destinationPattern: '^7' } } });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(seen, { id: 7, tenant: 'pbx', destinationPattern: '^7' });
  const bare = await buildAdmin({} as never);
  t.after(() => bare.close());
  assert.equal((await bare.inject({ method: 'GET', url: '/config/tenants' })).statusCode, 501);
});

test('the OpenAPI document describes 401 on every /config route, and 404, 409, 422, 428 where they happen', async (t) => {
  const a = await buildAdmin({} as never);
  t.after(() => a.close());
  await a.ready();
  const doc = a.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown>; tags: string[] }>> };
  const codes = (p: string, m: string) => Object.keys(doc.paths[p]![m]!.responses).sort();
  assert.deepEqual(codes('/config', 'get'), ['200', '401', '403']);
  assert.deepEqual(codes('/config/{kind}', 'get'), ['200', '400', '401', '403']);
  assert.deepEqual(codes('/config/{kind}/{name}', 'get'), ['200', '400', '401', '403', '404']);
  assert.deepEqual(codes('/config/{kind}', 'post'), ['201', '400', '401', '403', '409', '413', '422', '429']);
  assert.deepEqual(codes('/config/{kind}/{name}', 'put'), ['200', '400', '401', '403', '404', '409', '413', '422', '428', '429']);
  assert.deepEqual(codes('/config/{kind}/{name}', 'delete'), ['200', '400', '401', '403', '404', '409', '422', '428', '429']);
});
