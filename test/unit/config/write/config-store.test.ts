// The store behind the configuration API, on a profiles directory of its own with the reload path faked: a write
// is validated with every file as the loader does (same codes and paths), refused before anything is written, kept
// out of the way of another write, and put back when the gateway refuses it.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigStore, type ApplyReport } from '../../../../src/config/write/index.js';
import { silentLogger } from '../../../../src/log/index.js';
import { captureLog } from '../../../support/log-capture.js';
import { validateCipherName } from '../../../../src/tls/cipher-names.js';

const GATEWAY = '# the gateway\ngateway:\n  listen: [{ transport: udp, host: 127.0.0.1, port: 5999 }]\n  defaultTenant: pbx\n  admin: { enabled: false }\n';
const TENANTS = '# tenants\ntenants:\n  # the PBX\n  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }\n';
const PEERS = 'dialPeers:\n  # to the PBX\n  - { id: 1, destinationPattern: "^\\\\d{4}$", tenant: pbx }\n';

const ok: ApplyReport = { ok: true, changed: ['tenants'], applied: ['routing'], needsRestart: [], problems: [], warnings: [] };

function store(t: TestContext, apply: () => Promise<ApplyReport> = async () => ok, log = silentLogger()) {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY);
  writeFileSync(join(dir, 'tenants.yaml'), TENANTS);
  writeFileSync(join(dir, 'dial-peers.yaml'), PEERS);
  let applied = 0;
  const s = new ConfigStore({ profilesDir: dir, loadOptions: { validateCipherName, env: {} }, log, apply: () => { applied++; return apply(); } });
  return { s, dir, applied: () => applied, read: (f: string) => readFileSync(join(dir, f), 'utf8') };
}

test('create, replace and delete go to the file holding the kind, each applied once, with tags that follow the value', async (t) => {
  const { s, read, applied } = store(t);
  const r = await s.create('tenants', 'far', { sipServer: '127.0.0.1:5090' });
  assert.equal(r.file, 'tenants.yaml');
  assert.equal(read('tenants.yaml'), `${TENANTS}  far: { sipServer: 127.0.0.1:5090 }\n`);
  const far = s.get('tenants', 'far');
  assert.equal(far.etag, r.entry?.etag);
  assert.equal(far.line, 5);
  const replaced = await s.replace('tenants', 'far', { sipServer: '127.0.0.1:5091' }, far.etag);
  assert.notEqual(replaced.entry?.etag, far.etag);
  await assert.rejects(s.replace('tenants', 'far', { sipServer: '127.0.0.1:5092' }, far.etag), { code: 'ERR_CONFIG_ETAG_MISMATCH' });
  await assert.rejects(s.remove('tenants', 'far', undefined), { code: 'ERR_CONFIG_IF_MATCH_REQUIRED' });
  await s.remove('tenants', 'far', '*');
  assert.equal(read('tenants.yaml'), TENANTS);
  assert.equal(applied(), 3);
  assert.deepEqual(s.counts().replace, { done: 1, ERR_CONFIG_ETAG_MISMATCH: 1 });
});

test('a write the loader would refuse is answered with the loader\'s codes, files and paths, and nothing is written', async (t) => {
  const { s, read, applied } = store(t);
  await assert.rejects(s.create('dialPeers', '2', { id: 2, destinationPattern: '^(', tenant: 'nowhere' }), (e: Error & { code?: string; details?: { problems: { code: string; path: string; file: string; line: number }[] } }) => {
    assert.equal(e.code, 'ERR_CONFIG_INVALID');
    const problems = e.details!.problems.map((p) => [p.code, p.path, p.file.endsWith('dial-peers.yaml'), p.line]);
    assert.deepEqual(problems, [['ERR_CONFIG_PATTERN', 'dialPeers[1].destinationPattern', true, 4], ['ERR_CONFIG_REFERENCE', 'dialPeers[1].tenant', true, 4]]);
    return true;
  });
  await assert.rejects(s.create('tenants', 'bad', { transport: 'sctp' }), (e: Error & { details?: { problems: { path: string }[] } }) => e.details!.problems[0]!.path === 'tenants.bad.transport');
  await assert.rejects(s.create('tenants', 'pbx', {}), { code: 'ERR_CONFIG_EXISTS' });
  await assert.rejects(s.replace('tenants', 'nobody', {}, '*'), { code: 'ERR_CONFIG_NOT_FOUND' });
  assert.equal(read('dial-peers.yaml'), PEERS);
  assert.equal(applied(), 0);
});

test('a delete of an entry still named elsewhere is refused with the referring paths', async (t) => {
  const { s, read } = store(t);
  await assert.rejects(s.remove('tenants', 'pbx', '*'), (e: Error & { code?: string; details?: { referencedBy: { path: string }[] } }) => {
    assert.equal(e.code, 'ERR_CONFIG_IN_USE');
    assert.deepEqual(e.details!.referencedBy.map((p) => p.path), ['dialPeers[0].tenant', 'gateway.defaultTenant']);
    return true;
  });
  assert.equal(read('tenants.yaml'), TENANTS);
});

test('a write the running gateway refuses is put back (a new file removed), and a second write meanwhile gets busy', async (t) => {
  let release!: (r: ApplyReport) => void;
  const { s, dir, read } = store(t, () => new Promise((r) => { release = r; }));
  const first = s.create('tlsPeers', 'sbc.example', { permissions: {} });
  await assert.rejects(s.create('tenants', 'x', {}), { code: 'ERR_CONFIG_WRITE_BUSY' });
  assert.match(read('permissions.yaml'), /sbc\.example/);
  release({ ok: false, changed: [], applied: [], needsRestart: [], warnings: [], problems: [{ code: 'ERR_TLS_PROFILE_INVALID', message: 'no' }] });
  await assert.rejects(first, (e: Error & { code?: string; details?: { problems: { code: string }[] } }) =>
    e.code === 'ERR_CONFIG_APPLY_REFUSED' && e.details!.problems[0]!.code === 'ERR_TLS_PROFILE_INVALID');
  assert.deepEqual(readdirSync(dir).sort(), ['dial-peers.yaml', 'gateway.yaml', 'tenants.yaml']);
  const second = s.create('tenants', 'x', { sipServer: '127.0.0.1:1' });
  release({ ...ok, ok: false, problems: [{ code: 'ERR_X', message: 'no' }] });
  await assert.rejects(second, { code: 'ERR_CONFIG_APPLY_REFUSED' });
  assert.equal(read('tenants.yaml'), TENANTS);
});

test('a password is never shown, even one a hand edit left in a file', (t) => {
  const { s, dir } = store(t);
  writeFileSync(join(dir, 'tenants.yaml'), `${TENANTS}  itsp: { digest: { username: u, password: hunter2, passwordEnv: ITSP_PW } }\n`);
  assert.deepEqual(s.get('tenants', 'itsp').value, { digest: { username: 'u', password: '[redacted]', passwordEnv: 'ITSP_PW' } });
  assert.ok(!JSON.stringify(s.list('tenants')).includes('hunter2'));
});

test('refused writes are each counted, and logged once per code a minute however many come', async (t) => {
  const { log, lines } = captureLog();
  const { s } = store(t, async () => ok, log);
  for (let i = 0; i < 20; i++) await assert.rejects(s.replace('tenants', 'nobody', {}, '*'), { code: 'ERR_CONFIG_NOT_FOUND' });
  assert.equal(s.counts().replace?.ERR_CONFIG_NOT_FOUND, 20);
  assert.equal(lines.filter((l) => /refused: .*\[ERR_CONFIG_NOT_FOUND\]/.test(l.msg)).length, 1);
});
