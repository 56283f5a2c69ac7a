// An entry another one names through a YAML alias (`a: &base {...}`, `b: *base`) cannot be replaced or deleted
// without breaking the alias: the write is refused 409 ERR_CONFIG_FILE_UNREADABLE naming the file, counted with the
// other refused writes and logged once a minute at info, never a 500; nothing is written or applied.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../../src/admin/index.js';
import { ConfigStore, type ApplyReport } from '../../../../src/config/write/index.js';
import { captureLog } from '../../../support/log-capture.js';

const ok: ApplyReport = { ok: true, changed: [], applied: [], needsRestart: [], problems: [], warnings: [] };
const TENANTS = '# tenants\ntenants:\n  a: &base\n    transport: udp\n    sipServer: 127.0.0.1:5080\n  b: *base\n';

test('a write that would leave an alias without its anchor is refused naming the file, counted, not an error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-alias-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), 'gateway:\n  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]\n  admin: { enabled: false }\n');
  writeFileSync(join(dir, 'tenants.yaml'), TENANTS);
  const { log, lines } = captureLog();
  let applied = 0;
  const s = new ConfigStore({ profilesDir: dir, loadOptions: { env: {} }, log, apply: async () => { applied++; return ok; } });

  for (const write of [() => s.replace('tenants', 'a', { transport: 'udp', sipServer: '127.0.0.1:6000' }, '*'), () => s.remove('tenants', 'a', '*')]) {
    await assert.rejects(write(), (e: Error & { code?: string; details?: { file?: string } }) => {
      assert.equal(e.code, 'ERR_CONFIG_FILE_UNREADABLE');
      assert.equal(e.details?.file, 'tenants.yaml');
      assert.match(e.message, /^tenants\.yaml .*alias/);
      return true;
    });
  }
  assert.equal(readFileSync(join(dir, 'tenants.yaml'), 'utf8'), TENANTS);
  assert.equal(applied, 0);
  assert.deepEqual([s.counts().replace?.ERR_CONFIG_FILE_UNREADABLE, s.counts().delete?.ERR_CONFIG_FILE_UNREADABLE], [1, 1]);
  assert.equal(lines.filter((l) => l.level >= 50).length, 0);

  const app = await buildAdmin({ configStore: s } as unknown as AdminServices, { token: 'tok' });
  t.after(() => app.close());
  const r = await app.inject({ method: 'PUT', url: '/config/tenants/a', headers: { authorization: 'Bearer tok', 'if-match': '*' }, payload: { value: { sipServer: '127.0.0.1:6000' } } });
  assert.deepEqual([r.statusCode, r.json().code, r.json().file], [409, 'ERR_CONFIG_FILE_UNREADABLE', 'tenants.yaml']);
  assert.equal(s.counts().replace?.ERR_CONFIG_FILE_UNREADABLE, 2);
});
