// The configuration write API on a gateway started as `npm start` starts it, over real HTTP: every route and its
// refusals (401 without the token, 404, 409 for a name that exists, a stale ETag or an entry still named, 428
// without If-Match, 422 with the loader's codes and paths), a TLS peer with its permissions created, replaced and
// deleted, a dial peer created that the next sipp call is routed by (and deleted under a call in progress, which
// goes on to its BYE), and after a restart the written entries are there and every comment of the files is still in them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { freePort, runSipp, startSipp, startSippUas } from '../support/sipp.js';
import { startTrunkgate, type LogLine } from '../support/trunkgate-process.js';
import { adminUp } from '../support/udp-call-rig.js';

const TOKEN = 'admin-config-test-token';

function profiles(t: TestContext, o: { sipPort: number; adminPort: number; farPort: number }): string {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-admin-config-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'profiles');
  mkdirSync(dir);
  writeFileSync(join(dir, 'gateway.yaml'), `# The gateway: one UDP listener on loopback.
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${o.sipPort} }]   # the PBX's side
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${o.adminPort}, tokenEnv: TRUNKGATE_ADMIN_TOKEN }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  limits: { requestsPerSecondPerSource: 0 }
`);
  writeFileSync(join(dir, 'tenants.yaml'), `# Tenants: the PBX and the far end.
tenants:
  # The PBX calls in from loopback.
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }

  # The far end (sipp's UAS).
  far:
    transport: udp          # plain UDP
    sipServer: 127.0.0.1:${o.farPort}
`);
  writeFileSync(join(dir, 'dial-peers.yaml'), `# Dial peers, most specific first.
dialPeers:
  # 3xxx to the far end.
  - { id: 300, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
`);
  writeFileSync(join(dir, 'permissions.yaml'), `# Categories and TLS peers.
permissions:
  # Emergency numbers, always allowed.
  emergency: { patterns: ["^911$"], default: true }
`);
  return dir;
}

const comments = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('#') || / # /.test(l))
  .map((l) => l.slice(l.indexOf('#')));

test('configuration API: every route and refusal, a TLS peer and a dial peer written, the next call routed by the new dial peer, all of it kept over a restart with the files\' comments', { timeout: 90_000 }, async (t) => {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const [sipPort, adminPort] = [await freePort(), await freePort()];
  const dir = profiles(t, { sipPort, adminPort, farPort: uas.port });
  const before = Object.fromEntries(['gateway', 'tenants', 'dial-peers', 'permissions'].map((f) => [f, readFileSync(join(dir, `${f}.yaml`), 'utf8')]));
  const start = () => startTrunkgate(t, dir, {
    env: { TRUNKGATE_ADMIN_TOKEN: TOKEN },
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  let gw = await start();
  assert.ok(await adminUp(adminPort), 'admin API up');
  const api = async (method: string, path: string, o: { body?: unknown; ifMatch?: string; token?: string } = {}) => {
    const headers: Record<string, string> = {};
    if ((o.token ?? TOKEN) !== '') headers.authorization = `Bearer ${o.token ?? TOKEN}`;
    if (o.ifMatch !== undefined) headers['if-match'] = o.ifMatch;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
    return { status: res.status, etag: res.headers.get('etag'), body: await res.json() as Record<string, any> };
  };
  const call = (number: string) => runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: number, calls: 1, timeoutSec: 10 });

  // Without the token: 401 on every route.
  for (const [m, p] of [['GET', '/config'], ['GET', '/config/tenants'], ['GET', '/config/tenants/pbx'], ['POST', '/config/tenants'], ['PUT', '/config/tenants/pbx'], ['DELETE', '/config/tenants/pbx']] as const) {
    const r = await api(m, p, { token: '', ...(m === 'POST' || m === 'PUT' ? { body: { name: 'x', value: {} } } : {}) });
    assert.equal(r.status, 401, `${m} ${p}`);
    assert.equal(r.body.code, 'ERR_ADMIN_UNAUTHORIZED');
  }

  // Reads: a list with its tag, one entry with its file and line, 404 for an unknown name, 400 for an unknown kind.
  const tenants = await api('GET', '/config/tenants');
  assert.equal(tenants.status, 200);
  assert.equal(tenants.etag, tenants.body.etag);
  assert.deepEqual(tenants.body.entries.map((e: { name: string; file: string; line: number }) => [e.name, e.file, e.line]), [['pbx', 'tenants.yaml', 4], ['far', 'tenants.yaml', 7]]);
  const pbx = await api('GET', '/config/tenants/pbx');
  assert.deepEqual([pbx.status, pbx.body.value, pbx.etag], [200, { transport: 'udp', trustedSources: ['127.0.0.1/32'] }, pbx.body.etag]);
  assert.deepEqual([(await api('GET', '/config/tenants/nobody')).status, (await api('GET', '/config/tenants/nobody')).body.code], [404, 'ERR_CONFIG_NOT_FOUND']);
  assert.equal((await api('GET', '/config/listeners')).status, 400);
  assert.equal((await call('4001')).exitCode, 1, 'no dial peer for 4xxx yet: the call fails');

  // A TLS peer with its permissions: create (409 the second time), replace (428 without If-Match, 409 when stale), delete.
  const peer = { permissions: { international: true, emergency: true }, tenants: ['pbx'] };
  const created = await api('POST', '/config/tlsPeers', { body: { name: 'sbc.example.com', value: peer } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual([created.body.file, created.body.method, created.body.entry.value], ['permissions.yaml', 'in-place', peer]);
  assert.ok(created.body.reload.applied.includes('routing'), JSON.stringify(created.body.reload));
  assert.equal((await api('POST', '/config/tlsPeers', { body: { name: 'sbc.example.com', value: peer } })).body.code, 'ERR_CONFIG_EXISTS');
  const tag = created.etag!;
  const noIfMatch = await api('PUT', '/config/tlsPeers/sbc.example.com', { body: { value: { ...peer, description: 'the SBC' } } });
  assert.deepEqual([noIfMatch.status, noIfMatch.body.code], [428, 'ERR_CONFIG_IF_MATCH_REQUIRED']);
  const replaced = await api('PUT', '/config/tlsPeers/sbc.example.com', { ifMatch: tag, body: { value: { ...peer, permissions: { international: false } } } });
  assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
  assert.notEqual(replaced.etag, tag);
  const stale = await api('PUT', '/config/tlsPeers/sbc.example.com', { ifMatch: tag, body: { value: peer } });
  assert.deepEqual([stale.status, stale.body.code, stale.body.etag], [409, 'ERR_CONFIG_ETAG_MISMATCH', replaced.etag]);
  assert.equal((await api('DELETE', '/config/tlsPeers/sbc.example.com', { ifMatch: tag })).status, 409);
  const deleted = await api('DELETE', '/config/tlsPeers/sbc.example.com', { ifMatch: replaced.etag! });
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  assert.equal((await api('GET', '/config/tlsPeers/sbc.example.com')).status, 404);
  assert.equal((await api('DELETE', '/config/tlsPeers/sbc.example.com', { ifMatch: '*' })).status, 404);
  await api('POST', '/config/tlsPeers', { body: { name: 'kept.example.com', value: { permissions: { international: true } } } });
  // Typed and wildcard identities travel URL-encoded.
  for (const name of ['sip:pbx.partner.example', '*.partner.example']) {
    assert.equal((await api('POST', '/config/tlsPeers', { body: { name, value: { permissions: {} } } })).status, 201, name);
    const got = await api('GET', `/config/tlsPeers/${encodeURIComponent(name)}`);
    assert.deepEqual([got.status, got.body.name], [200, name]);
    assert.equal((await api('DELETE', `/config/tlsPeers/${encodeURIComponent(name)}`, { ifMatch: got.etag! })).status, 200, name);
  }

  // 422: the loader's problems with their codes, files, lines and paths; nothing written.
  const bad = await api('POST', '/config/dialPeers', { body: { value: { id: 400, destinationPattern: '^(4', tenant: 'nowhere' } } });
  assert.equal(bad.status, 422, JSON.stringify(bad.body));
  assert.equal(bad.body.code, 'ERR_CONFIG_INVALID');
  assert.deepEqual(bad.body.problems.map((p: { code: string; path: string; file: string; line: number }) => [p.code, p.path, p.file.endsWith('dial-peers.yaml'), p.line]),
    [['ERR_CONFIG_PATTERN', 'dialPeers[1].destinationPattern', true, 5], ['ERR_CONFIG_REFERENCE', 'dialPeers[1].tenant', true, 5]]);
  assert.equal(readFileSync(join(dir, 'dial-peers.yaml'), 'utf8'), before['dial-peers']);

  // A dial peer created: the next call to 4xxx is routed by it, to the far end.
  const dp = await api('POST', '/config/dialPeers', { body: { value: { id: 400, destinationPattern: '^4\\d{3}$', tenant: 'far', from: ['pbx'] } } });
  assert.equal(dp.status, 201, JSON.stringify(dp.body));
  assert.equal(dp.body.name, '400');
  const from = gw.lines.length;
  const placed = await call('4001');
  assert.equal(placed.exitCode, 0, placed.errors);
  const { line: cdr } = await gw.waitFor((l: LogLine) => l.msg === 'cdr', 5000, from);
  assert.equal((cdr.cdr as { dialPeer?: string }).dialPeer, '400');

  // A call in progress is untouched by a write, even one that removes the dial peer it was routed by.
  const long = await startSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '4003', calls: 1, pauseMs: 1000, timeoutSec: 10 });
  t.after(() => long.stop());
  const connected = async (): Promise<boolean> => (await api('GET', '/calls')).body.calls.some((c: { state: string }) => c.state === 'connected');
  for (let i = 0; i < 100 && !(await connected()); i++) await new Promise((r) => setTimeout(r, 20));
  const removed = await api('DELETE', '/config/dialPeers/400', { ifMatch: dp.etag! });
  assert.equal(removed.status, 200, JSON.stringify(removed.body));
  assert.deepEqual((await api('GET', '/calls')).body.calls.map((c: { dialPeer: string; state: string }) => [c.dialPeer, c.state]), [['400', 'connected']]);
  assert.equal((await long.exited).exitCode, 0, 'the call ends normally with its BYE');
  assert.equal((await call('4004')).exitCode, 1, 'a new call finds no dial peer');
  assert.equal((await api('POST', '/config/dialPeers', { body: { value: { id: 400, destinationPattern: '^4\\d{3}$', tenant: 'far', from: ['pbx'] } } })).status, 201);

  // A tenant still named by dial peers and the gateway is not deleted: 409 with the paths that name it.
  const inUse = await api('DELETE', '/config/tenants/pbx', { ifMatch: pbx.etag! });
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.code, 'ERR_CONFIG_IN_USE');
  assert.deepEqual(inUse.body.referencedBy.map((p: { path: string }) => p.path).sort(), ['dialPeers[0].from[0]', 'dialPeers[1].from[0]', 'gateway.defaultTenant']);

  // Replace a tenant in a block: the comment on its line stays.
  const far = await api('GET', '/config/tenants/far');
  const farNew = await api('PUT', '/config/tenants/far', { ifMatch: far.etag!, body: { value: { ...far.body.value, description: 'sipp UAS' } } });
  assert.equal(farNew.status, 200, JSON.stringify(farNew.body));

  const summary = await api('GET', '/config');
  assert.deepEqual(summary.body.kinds.find((k: { kind: string }) => k.kind === 'dialPeers'), { kind: 'dialPeers', count: 2, etag: (await api('GET', '/config/dialPeers')).etag });
  assert.equal(summary.body.writes.create.done, 6);
  // The same counts in /stats and in /metrics.
  assert.equal((await api('GET', '/stats')).body.configWrites.create.done, 6);
  const metrics = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());
  assert.match(metrics, /^trunkgate_config_writes_total\{operation="create",outcome="done"\} 6$/m);
  assert.ok(gw.lines.some((l) => l.code === 'EVT_CONFIG_WRITTEN' && l.kind === 'dialPeers' && l.op === 'create'));

  // A restart reads what was written; the files' comments are all still there.
  await gw.stop();
  gw = await start();
  assert.ok(await adminUp(adminPort));
  assert.equal((await api('GET', '/config/dialPeers/400')).body.value.tenant, 'far');
  assert.equal((await api('GET', '/config/tlsPeers/kept.example.com')).status, 200);
  assert.equal((await api('GET', '/config/tenants/far')).body.value.description, 'sipp UAS');
  for (const [f, text] of Object.entries(before)) {
    const now = readFileSync(join(dir, `${f}.yaml`), 'utf8');
    assert.deepEqual(comments(now), comments(text), `${f}.yaml keeps its comments`);
  }
  assert.match(readFileSync(join(dir, 'tenants.yaml'), 'utf8'), /^ {4}transport: udp {10}# plain UDP\n/m);
  assert.equal(readFileSync(join(dir, 'gateway.yaml'), 'utf8'), before.gateway, 'a file no write touched is byte for byte the same');
  assert.ok(readFileSync(join(dir, 'permissions.yaml'), 'utf8').startsWith(before.permissions!), 'entries added after the text that was there');
  assert.equal((await call('4002')).exitCode, 0, 'the dial peer routes after the restart too');
});
