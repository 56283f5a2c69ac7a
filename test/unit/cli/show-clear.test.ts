// trunkgate show / clear against a fake admin API (io.fetch): the address and token come from the profiles'
// gateway.admin, tables are printed for a terminal and the answer as is with --json, refusals exit 1 with their
// code, usage errors exit 2 before anything is asked, and clear connection --remote closes exactly the connections
// with that far end.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { clearCommand } from '../../../src/cli/clear.js';
import { parseCommandLine } from '../../../src/cli/parse-command.js';
import { showCommand } from '../../../src/cli/show.js';
import { formatTable } from '../../../src/cli/table.js';

interface Asked { method: string; url: string; auth: string | undefined }

function rig(t: TestContext, answer: (a: Asked) => [number, unknown]) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'gateway.yaml'), 'gateway:\n  admin: { host: 127.0.0.1, port: 18181, tokenEnv: TG_TEST_TOKEN }\n');
  const asked: Asked[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: { TG_TEST_TOKEN: 'tok' },
    fetch: (async (url: string, init: RequestInit) => {
      const a = { method: init.method ?? 'GET', url, auth: (init.headers as Record<string, string>).authorization };
      asked.push(a);
      const [status, body] = answer(a);
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
  };
  return { io, asked, out, err, p: ['--profiles', dir] };
}

const call = {
  id: '1-0a0b0c0d', app: 1, state: 'connected', callIds: ['a@pbx', 'b@gw'], tenantIn: 'pbx', tenantOut: 'far', dialPeer: 'far-end',
  callingNumber: '1001', calledNumber: '3001', startAt: Date.UTC(2026, 11, 4, 12, 0, 0), answerAt: Date.UTC(2026, 11, 4, 12, 0, 1), durationMs: 83_000,
};
const conn = (id: string, remotePort: number, state = 'open') => ({
  id, protocol: 'tcp', direction: 'inbound', state, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.1', remotePort,
  tenant: 'pbx', createdAt: 0, lastActivityAt: 0, bytesIn: 10, bytesOut: 20, messagesIn: 1, messagesOut: 2,
});

test('show and clear are commands of their own, each reading its own words', () => {
  assert.deepEqual(parseCommandLine(['show', 'calls', '--json']), { kind: 'show', args: ['calls', '--json'] });
  assert.deepEqual(parseCommandLine(['clear', 'call', '0-00000000']), { kind: 'clear', args: ['call', '0-00000000'] });
});

test('show calls asks GET /calls at the configured address with the token and prints one row per call', async (t) => {
  const r = rig(t, () => [200, { count: 1, total: 1, truncated: false, calls: [call] }]);
  assert.equal(await showCommand(['calls', ...r.p], r.io), 0);
  assert.deepEqual(r.asked, [{ method: 'GET', url: 'http://127.0.0.1:18181/calls', auth: 'Bearer tok' }]);
  assert.match(r.out[0]!, /^ID\s+APP\s+STATE\s+CALLING\s+CALLED\s+TENANT-IN\s+TENANT-OUT\s+DIAL-PEER\s+START \(UTC\)\s+ANSWER \(UTC\)\s+DURATION\s+CALL-IDS$/);
  assert.match(r.out[1]!, /^1-0a0b0c0d\s+1\s+connected\s+1001\s+3001\s+pbx\s+far\s+far-end\s+2026-12-04 12:00:00\s+2026-12-04 12:00:01\s+0:01:23\s+a@pbx b@gw$/);
  assert.equal(r.out[2], '1 active call');
});

test('show calls --json --limit 5 prints the answer as it came', async (t) => {
  const body = { count: 1, total: 9, truncated: true, calls: [call] };
  const r = rig(t, () => [200, body]);
  assert.equal(await showCommand(['calls', '--json', '--limit', '5', ...r.p], r.io), 0);
  assert.equal(r.asked[0]!.url, 'http://127.0.0.1:18181/calls?limit=5');
  assert.deepEqual(JSON.parse(r.out.join('\n')), body);
});

test('show listeners and connections --detail print their tables', async (t) => {
  const r = rig(t, (a) => (a.url.endsWith('/listeners')
    ? [200, { listeners: [{ id: 'u', tenant: 'pbx', address: '127.0.0.1', port: 5060, transport: 'udp', state: 'listening' }] }]
    : [200, { count: 1, connections: [conn('c1', 40000)] }]));
  assert.equal(await showCommand(['listeners', ...r.p], r.io), 0);
  assert.deepEqual(r.out.splice(0), ['TENANT  ADDRESS    PORT  TRANSPORT  STATE      TLS-PROFILE  ERROR', 'pbx     127.0.0.1  5060  udp        listening  -            -']);
  assert.equal(await showCommand(['connections', '--detail', ...r.p], r.io), 0);
  assert.match(r.out[1]!, /^c1\s+tcp\s+inbound\s+open\s+127\.0\.0\.1:5060\s+127\.0\.0\.1:40000\s+pbx/);
  assert.ok(r.out.includes('connection c1: tcp inbound 127.0.0.1:5060 <-> 127.0.0.1:40000, open'), r.out.join('\n'));
});

test('a bad word or flag is a usage error (exit 2) and nothing is asked', async (t) => {
  const r = rig(t, () => [200, {}]);
  for (const args of [[], ['bogus'], ['calls', 'extra'], ['tls', '--detail'], ['trunks', '--limit', '3'], ['calls', '--limit', '0'], ['calls', '--bogus']]) {
    assert.equal(await showCommand([...args, ...r.p], r.io), 2, args.join(' '));
  }
  for (const args of [[], ['call'], ['connection'], ['connection', 'c1', '--remote', '127.0.0.1:1'], ['connection', '--remote', 'nope'], ['call', '--remote', '127.0.0.1:1']]) {
    assert.equal(await clearCommand([...args, ...r.p], r.io), 2, args.join(' '));
  }
  assert.deepEqual(r.asked, []);
});

test('clear call: DELETE /calls/ID; a 404 or 409 exits 1 with the code, a 401 exits 2', async (t) => {
  const r = rig(t, (a) => (a.url.endsWith('/calls/1-0a0b0c0d') ? [200, { id: call.id, state: 'ended', call }]
    : a.url.endsWith('/calls/0-ffffffff') ? [409, { code: 'ERR_ADMIN_CALL_ENDING', message: 'call 0-ffffffff is already ending' }]
      : a.url.endsWith('/calls/0-00000000') ? [401, { code: 'ERR_ADMIN_UNAUTHORIZED', message: 'a bearer token is required' }]
        : [404, { code: 'ERR_ADMIN_CALL_NOT_FOUND', message: 'no live call 9-99999999' }]));
  assert.equal(await clearCommand(['call', '1-0a0b0c0d', ...r.p], r.io), 0);
  assert.deepEqual(r.asked[0], { method: 'DELETE', url: 'http://127.0.0.1:18181/calls/1-0a0b0c0d', auth: 'Bearer tok' });
  assert.equal(r.out[0], 'call 1-0a0b0c0d (1001 -> 3001, Call-ID a@pbx b@gw, app 1): BYE sent on both legs; ended');
  assert.equal(await clearCommand(['call', '9-99999999', ...r.p], r.io), 1);
  assert.match(r.err.at(-1)!, /no live call 9-99999999 \[ERR_ADMIN_CALL_NOT_FOUND\]/);
  assert.equal(await clearCommand(['call', '0-ffffffff', ...r.p], r.io), 1);
  assert.match(r.err.at(-1)!, /\[ERR_ADMIN_CALL_ENDING\]/);
  assert.equal(await clearCommand(['call', '0-00000000', ...r.p], r.io), 2);
});

test('clear connection --remote closes every open connection with that far end and no other', async (t) => {
  const table = [conn('c1', 40000), conn('c2', 40001), conn('c3', 40000, 'closed'), { ...conn('c4', 40000), remoteAddress: '127.0.0.2' }];
  const r = rig(t, (a) => (a.method === 'GET' ? [200, { count: table.length, connections: table }]
    : [200, table.find((c) => a.url.endsWith(`/connections/${c.id}`))]));
  assert.equal(await clearCommand(['connection', '--remote', '127.0.0.1:40000', ...r.p], r.io), 0);
  assert.deepEqual(r.asked.map((a) => `${a.method} ${a.url.replace('http://127.0.0.1:18181', '')}`), ['GET /connections?limit=10000', 'DELETE /connections/c1']);
  assert.deepEqual(r.out, ['connection c1 (tcp inbound 127.0.0.1:40000, tenant pbx) closed']);
  assert.equal(await clearCommand(['connection', '--remote', '127.0.0.1:1', ...r.p], r.io), 1);
  assert.match(r.err.at(-1)!, /no open connection with 127\.0\.0\.1:1 \[ERR_ADMIN_CONNECTION_NOT_FOUND\]/);
});

test('tables pad each column to its widest cell and print - for an empty one', () => {
  assert.deepEqual(formatTable(['A', 'BB', 'C'], [['xxx', null, 'z'], ['', 'y', '']]), ['A    BB  C', 'xxx  -   z', '-    y   -']);
});

test('show tls, trunks and certificates print their tables from the API\'s answers', async (t) => {
  const cert = { subject: 'CN=gw.test', issuer: 'CN=ca', san: [], notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', keyType: 'ec', keySize: 256, fingerprint256: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF', serialNumber: '01' };
  const answers: Record<string, unknown> = {
    '/tls': { version: 2, profiles: [{ name: 'default', tenant: 'carrier', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', requestCert: true, cnSanValidate: 'server', sni: 'send', serverNames: [], certificate: cert }],
      failures: [{ tenant: 'carrier', direction: 'server', reason: 'ERR_TLS_PEER_UNTRUSTED', count: 3 }] },
    '/trunks': { trunks: [{ tenant: 'carrier', server: '127.0.0.1:5070', state: 'down', failures: 3, lastStatus: 503 }], wentDown: 1, cameUp: 0, pings: 9, pingFailures: 3 },
    '/certificates': { certificates: [{ where: 'trustpoint gw', role: 'leaf', subject: 'CN=gw.test', san: [], issuer: 'CN=ca', serial: '01', sha256: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-12-01T00:00:00.000Z', daysLeft: -3 }] },
  };
  const r = rig(t, (a) => [200, answers[new URL(a.url).pathname]]);
  assert.equal(await showCommand(['tls', ...r.p], r.io), 0);
  assert.match(r.out[1]!, /^default\s+carrier\s+TLSv1\.2-TLSv1\.3\s+requested\s+CN=gw\.test\s+2027-01-01\s+AB:CD:EF/);
  assert.ok(r.out.some((l) => /^carrier\s+server\s+ERR_TLS_PEER_UNTRUSTED\s+3$/.test(l)), r.out.join('\n'));
  r.out.splice(0);
  assert.equal(await showCommand(['trunks', ...r.p], r.io), 0);
  assert.deepEqual(r.out, ['TENANT   SERVER          STATE  FAILURES  LAST-STATUS', 'carrier  127.0.0.1:5070  down   3         503', '9 pings; went down 1 times, came up 0 times']);
  r.out.splice(0);
  assert.equal(await showCommand(['certificates', ...r.p], r.io), 0);
  assert.match(r.out[1]!, /^trustpoint gw\s+leaf\s+CN=gw\.test\s+2026-12-01\s+EXPIRED 3\s+AB:CD:EF/);
});

test('show trunks: registration trunks under the pinged ones, with their state, expiry and last answer', async () => {
  const { formatTrunks } = await import('../../../src/cli/show-format.js');
  const out = formatTrunks({
    trunks: [], wentDown: 0, cameUp: 0, pings: 0,
    registrations: [
      { tenant: 'carrier', aor: 'sip:trunk1@carrier.test', registrar: '192.0.2.20:5060', target: '192.0.2.20:5060', state: 'registered', expiresAt: '2026-12-04T13:00:00.000Z', failures: 0, lastStatus: 200 },
      { tenant: 'backup', aor: 'sip:trunk2@b.test', registrar: 'dns:b.test', state: 'failed', failures: 3, lastStatus: 401, lastError: 'answered 401' },
    ],
  });
  const text = out.join('\n');
  assert.match(text, /TENANT\s+AOR\s+REGISTRAR\s+STATE\s+EXPIRES\s+FAILURES\s+LAST/);
  assert.match(text, /carrier\s+sip:trunk1@carrier\.test\s+192\.0\.2\.20:5060\s+registered\s+2026-12-04T13:00:00\.000Z\s+0\s+200/);
  assert.match(text, /backup\s+sip:trunk2@b\.test\s+dns:b\.test\s+failed\s+-\s+3\s+answered 401/);
});

test('clear call prints the numbers and Call-IDs the API gave with each control character as ?', async (t) => {
  const hostile = { ...call, callingNumber: '1001\u001b]0;owned\u0007', calledNumber: '30\r\n01', callIds: ['a\u009b@pbx'] };
  const r = rig(t, () => [200, { id: call.id, state: 'ended', call: hostile }]);
  assert.equal(await clearCommand(['call', '1-0a0b0c0d', ...r.p], r.io), 0);
  assert.equal(r.out[0], 'call 1-0a0b0c0d (1001?]0;owned? -> 30??01, Call-ID a?@pbx, app 1): BYE sent on both legs; ended');
});
