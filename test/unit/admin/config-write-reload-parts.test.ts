// A configuration write answers with the reload's trusted-source and listener parts, as POST /reload does: the
// store carries them from the reload path, and the route's response schema lets them through (fastify drops what a
// schema does not name).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { ConfigStore, type ApplyReport, type WriteResult } from '../../../src/config/write/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { validateCipherName } from '../../../src/tls/cipher-names.js';

const GATEWAY = 'gateway:\n  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]\n  defaultTenant: pbx\n  admin: { enabled: false }\n';
const TENANTS = 'tenants:\n  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }\n';

const trust = { ok: false, tenants: 2, hosts: 1, unresolved: ['pbx.example'], problems: [{ code: 'ERR_ENGINE_WORKER', message: 'engine worker did not answer' }] };
const listeners = { bound: ['pbx-udp'], stillFailed: [{ id: 'far-tcp', error: 'EADDRINUSE' }] };

function store(t: TestContext, report: ApplyReport): ConfigStore {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-store-parts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY);
  writeFileSync(join(dir, 'tenants.yaml'), TENANTS);
  return new ConfigStore({ profilesDir: dir, loadOptions: { validateCipherName, env: {} }, log: silentLogger(), apply: async () => report });
}

const base: ApplyReport = { ok: true, changed: ['tenants'], applied: ['routing', 'listeners'], needsRestart: [], problems: [], warnings: [] };

test('the store\'s answer carries the reload\'s trust and listeners parts, and leaves them out when the reload had none', async (t) => {
  const r = await store(t, { ...base, trust, listeners }).create('tenants', 'far', { sipServer: '127.0.0.1:5090' });
  assert.deepEqual(r.reload.trust, trust);
  assert.deepEqual(r.reload.listeners, listeners);
  const plain = await store(t, base).create('tenants', 'far', { sipServer: '127.0.0.1:5090' });
  assert.equal('trust' in plain.reload, false);
  assert.equal('listeners' in plain.reload, false);
});

test('POST, PUT and DELETE /config answer with both parts', async (t) => {
  const result: WriteResult = {
    op: 'create', kind: 'tenants', name: 'far', file: 'tenants.yaml', collectionEtag: '"c"', method: 'in-place',
    reload: { changed: ['tenants'], applied: ['routing'], needsRestart: [], warnings: [], trust, listeners },
  };
  const configStore = { create: async () => result, replace: async () => ({ ...result, op: 'replace' }), remove: async () => ({ ...result, op: 'delete' }) };
  const a = await buildAdmin({ configStore } as unknown as AdminServices, { token: 'tok' });
  t.after(() => a.close());
  const headers = { authorization: 'Bearer tok', 'if-match': '*' };
  const answers = [
    await a.inject({ method: 'POST', url: '/config/tenants', headers, payload: { name: 'far', value: {} } }),
    await a.inject({ method: 'PUT', url: '/config/tenants/far', headers, payload: { value: {} } }),
    await a.inject({ method: 'DELETE', url: '/config/tenants/far', headers }),
  ];
  for (const r of answers) {
    assert.ok(r.statusCode === 200 || r.statusCode === 201, r.body);
    assert.deepEqual(r.json().reload.trust, trust);
    assert.deepEqual(r.json().reload.listeners, listeners);
  }
});
