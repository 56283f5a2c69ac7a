// A listing of the configuration shows what it could not read: a profiles file that does not parse, whose top level
// is not a mapping, or that cannot be read at all is named with its reason, and its entries are simply not there.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigStore } from '../../../../src/config/write/index.js';
import { silentLogger } from '../../../../src/log/index.js';

test('a listing names each profiles file it could not read, with why, and lists the entries of the others', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-store-listing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), 'gateway:\n  defaultTenant: pbx\n');
  writeFileSync(join(dir, 'tenants.yaml'), 'tenants:\n  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }\n');
  writeFileSync(join(dir, 'broken.yaml'), 'tenants:\n  carrier: { transport: [udp\n');
  writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
  writeFileSync(join(dir, 'empty.yaml'), '');
  symlinkSync(join(dir, 'nowhere.yaml'), join(dir, 'dangling.yaml'));
  const s = new ConfigStore({ profilesDir: dir, loadOptions: { env: {} }, log: silentLogger(), apply: async () => { throw new Error('no write here'); } });
  const l = s.list('tenants');
  assert.deepEqual(l.entries.map((e) => e.name), ['pbx']);
  const byFile = new Map(l.unreadable.map((u) => [u.file.split('/').at(-1), u.reason]));
  assert.deepEqual([...byFile.keys()].sort(), ['broken.yaml', 'dangling.yaml', 'list.yaml']);
  assert.match(byFile.get('broken.yaml')!, /^not valid YAML: /);
  assert.equal(byFile.get('list.yaml'), 'its top level is not a mapping');
  assert.match(byFile.get('dangling.yaml')!, /ENOENT/);
});

test('a listing of readable files has no unreadable entry', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-store-listing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tenants.yaml'), 'tenants:\n  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }\n');
  const s = new ConfigStore({ profilesDir: dir, loadOptions: { env: {} }, log: silentLogger(), apply: async () => { throw new Error('no write here'); } });
  assert.deepEqual(s.list('tenants').unreadable, []);
});
