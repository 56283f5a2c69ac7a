// PUT /config/dialPeers/:id without an id in the body keeps the entry's id as its file writes it: `007` stays the
// text 007 (a number would be 7, another id, and GET /config/dialPeers/007 would then find nothing), 7 stays 7.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { ConfigStore, type ApplyReport } from '../../../src/config/write/index.js';
import { silentLogger } from '../../../src/log/index.js';

const ok: ApplyReport = { ok: true, changed: [], applied: [], needsRestart: [], problems: [], warnings: [] };

test('a dial peer replaced without its id keeps the id as written, and can be read back under it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-peerid-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), 'gateway:\n  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]\n  admin: { enabled: false }\n');
  writeFileSync(join(dir, 'tenants.yaml'), 'tenants:\n  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }\n');
  writeFileSync(join(dir, 'dial-peers.yaml'), 'dialPeers:\n  - { id: "007", destinationPattern: "^7$", tenant: pbx }\n  - { id: 8, destinationPattern: "^8$", tenant: pbx }\n');
  const store = new ConfigStore({ profilesDir: dir, loadOptions: { env: {} }, log: silentLogger(), apply: async () => ok });
  const app = await buildAdmin({ configStore: store } as unknown as AdminServices, { token: 'tok' });
  t.after(() => app.close());
  const headers = { authorization: 'Bearer tok', 'if-match': '*' };

  const put = await app.inject({ method: 'PUT', url: '/config/dialPeers/007', headers, payload: { value: { destinationPattern: '^77$', tenant: 'pbx' } } });
  assert.equal(put.statusCode, 200, put.body);
  assert.equal(put.json().entry.value.id, '007');
  const got = await app.inject({ method: 'GET', url: '/config/dialPeers/007', headers });
  assert.deepEqual([got.statusCode, got.json().value.destinationPattern], [200, '^77$']);

  const eight = await app.inject({ method: 'PUT', url: '/config/dialPeers/8', headers, payload: { value: { destinationPattern: '^88$', tenant: 'pbx' } } });
  assert.equal(eight.json().entry.value.id, 8);
  assert.match(readFileSync(join(dir, 'dial-peers.yaml'), 'utf8'), /id: "007", destinationPattern: \^77\$[\s\S]*id: 8, destinationPattern: \^88\$/);
});
