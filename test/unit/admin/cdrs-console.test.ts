// GET /cdrs over a CDR file and its rotated files (newest first, each filter, the limit, the scan bound, a torn
// line, a line too long, a bad time, one scan at a time, its refusals counted), and the console's static routes: open without the token while the API stays guarded, the
// import map and CSP in the shell page, the vendored modules from node_modules, and nothing outside console/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { MAX_LINE, readCdrs } from '../../../src/admin/cdr-reader.js';
import { minimalAdminServices } from '../../support/admin-services.js';
import { captureLog } from '../../support/log-capture.js';
import { parsePromText } from '../../support/prom-text.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const cdr = (n: number, o: Record<string, unknown> = {}) => ({ id: `r${n}`, callingNumber: '1001', calledNumber: `555${n}`, endAt: T0 + n * 60_000, cause: 'normal', status: 200, ...o });
const lines = (rs: object[]) => rs.map((r) => JSON.stringify(r)).join('\n') + '\n';

function cdrDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tg-cdrs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The oldest records in a rotated file; the current one ends with a torn line (a write in progress).
  writeFileSync(join(dir, 'cdr-20261201T100000.000Z.jsonl'), lines([cdr(1), cdr(2, { cause: 'denied:international', status: 403 })]));
  writeFileSync(join(dir, 'cdr.jsonl'), lines([cdr(3, { callingNumber: '2125551234' }), cdr(4, { cause: 'admin' }), cdr(5)]) + '{"id":"torn');
  return join(dir, 'cdr.jsonl');
}

function services(path: string | undefined): AdminServices {
  return {
    engineSnapshot: async () => ({}) as never,
    b2buaStats: () => ({}) as never,
    reloadTls: async () => { throw new Error('unused'); },
    reloadConfig: async () => { throw new Error('unused'); },
    ...(path ? { cdr: () => ({ records: 0, file: { path, written: 0, bytes: 0, rotations: 0, pruned: 0, errors: 0, lost: 0 } }) } : {}),
  };
}

test('GET /cdrs: newest first across the rotated files, filtered by time, number and cause family, bounded by limit', async (t) => {
  const path = cdrDir(t);
  const app = await buildAdmin(services(path), { token: 'tok' });
  const get = async (q: string) => {
    const r = await app.inject({ method: 'GET', url: `/cdrs${q}`, headers: { authorization: 'Bearer tok' } });
    return { status: r.statusCode, body: r.json() as { count: number; truncated: boolean; cdrs: Array<{ id: string }>; code?: string; message?: string } };
  };
  assert.deepEqual((await get('')).body.cdrs.map((c) => c.id), ['r5', 'r4', 'r3', 'r2', 'r1']);
  assert.deepEqual((await get('?cause=denied')).body.cdrs.map((c) => c.id), ['r2'], 'a family matches denied:<category>');
  assert.deepEqual((await get('?cause=admin')).body.cdrs.map((c) => c.id), ['r4']);
  assert.deepEqual((await get('?number=2125')).body.cdrs.map((c) => c.id), ['r3'], 'the calling number too');
  assert.deepEqual((await get('?number=5552')).body.cdrs.map((c) => c.id), ['r2']);
  const from = new Date(T0 + 2 * 60_000).toISOString();
  assert.deepEqual((await get(`?from=${from}&to=${T0 + 4 * 60_000}`)).body.cdrs.map((c) => c.id), ['r4', 'r3', 'r2']);
  const limited = await get('?limit=2');
  assert.deepEqual([limited.body.count, limited.body.truncated, limited.body.cdrs.map((c) => c.id)], [2, true, ['r5', 'r4']]);
  const bad = await get('?from=yesterday');
  assert.deepEqual([bad.status, bad.body.code], [400, 'ERR_ADMIN_REQUEST']);
  assert.equal((await get('?limit=5000')).status, 400, 'at most 1,000 records an answer');
  assert.equal((await app.inject({ method: 'GET', url: '/cdrs' })).statusCode, 401, 'the token guards the CDRs');
  const none = await (await buildAdmin(services(undefined))).inject({ method: 'GET', url: '/cdrs' });
  assert.deepEqual(none.json(), { count: 0, truncated: false, scannedBytes: 0, skippedLines: 0, cdrs: [] }, 'no CDR file: an empty list');
});

test('readCdrs stops at its byte bound and says the answer may be short', async (t) => {
  const path = cdrDir(t);
  const r = await readCdrs(path, { limit: 100 }, 40);
  assert.equal(r.truncated, true);
  assert.ok(r.scannedBytes <= 40);
  assert.ok(r.cdrs.length < 5);
});

test('readCdrs passes over a line longer than MAX_LINE, counted, wherever it is; the lines around it come back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-cdrs-long-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'cdr.jsonl');
  // A record too long to be one (valid JSON all the same), lines of newline-less bytes at the start and the end of
  // the file, and a torn short line: the long ones span several read chunks.
  const long = (n: number) => 'x'.repeat(n);
  writeFileSync(path, `${long(3 * MAX_LINE)}\n${lines([cdr(1)])}${JSON.stringify(cdr(2, { pad: long(MAX_LINE + 10) }))}\n{"id":"torn\n${lines([cdr(3)])}${long(MAX_LINE + 1)}`);
  const r = await readCdrs(path, { limit: 100 }, 32 * 1024 * 1024);
  assert.deepEqual(r.cdrs.map((c) => c.id), ['r3', 'r1']);
  assert.equal(r.skippedLines, 4, 'the three long lines and the torn one');
  assert.equal(r.truncated, false);
  // A line just within the bound is kept.
  writeFileSync(path, `${JSON.stringify(cdr(4, { pad: long(MAX_LINE - 200) }))}\n`);
  assert.deepEqual((await readCdrs(path, { limit: 100 }, 32 * 1024 * 1024)).cdrs.map((c) => c.id), ['r4']);
});

test('GET /cdrs runs one scan at a time: a request meanwhile is answered 429 with Retry-After, counted and logged once, and the next one after it is served', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-cdrs-busy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A FIFO as the CDR file: a scan stays in its open() until the test opens the other end.
  const path = join(dir, 'cdr.jsonl');
  execFileSync('mkfifo', [path]);
  const release = async () => (await open(path, 'w')).close();
  const { log, records: logged } = captureLog();
  const app = await buildAdmin({ ...minimalAdminServices(), cdr: services(path).cdr! }, { log, processMetrics: false });
  t.after(async () => {
    // A scan still waiting in open() (an assertion failed first) is let go without blocking, then the server closed.
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no scan waiting
    }
    await app.close();
  });
  const first = app.inject({ method: 'GET', url: '/cdrs' });
  await new Promise((r) => setTimeout(r, 50));
  const second = app.inject({ method: 'GET', url: '/cdrs' });
  // Whichever reached the scan first holds it; the other is refused without waiting.
  const refused = await Promise.race([first, second, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000))]);
  if (!refused) await release();
  assert.equal(refused?.statusCode, 429, 'one request is refused while the other scans');
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal((refused.json() as { code: string }).code, 'ERR_ADMIN_CDR_SCAN_BUSY');
  // More refusals while the scan still runs: each counted, one line for them all.
  const more = await Promise.all([1, 2, 3].map(() => app.inject({ method: 'GET', url: '/cdrs' })));
  assert.deepEqual(more.map((r) => r.statusCode), [429, 429, 429]);
  await release();
  assert.deepEqual((await Promise.all([first, second])).map((r) => r.statusCode).sort(), [200, 429]);
  const stats = (await app.inject({ method: 'GET', url: '/stats' })).json() as { adminRefused: Record<string, number> };
  assert.equal(stats.adminRefused['cdr-scan-busy'], 4);
  const prom = parsePromText((await app.inject({ method: 'GET', url: '/metrics' })).body);
  assert.equal(prom.value('trunkgate_admin_refused_total', { cause: 'cdr-scan-busy' }), 4);
  assert.equal(logged.filter((l) => l.code === 'ERR_ADMIN_CDR_SCAN_BUSY').length, 1, 'one line a minute per code and source');
  const next = app.inject({ method: 'GET', url: '/cdrs' });
  await new Promise((r) => setTimeout(r, 50));
  await release();
  assert.equal((await next).statusCode, 200, 'the scan is free again');
});

test('the console: open pages with the import map and a CSP, Preact and htm from node_modules, the API still guarded', async () => {
  const app = await buildAdmin(services(undefined), { token: 'tok' });
  const shell = await app.inject({ method: 'GET', url: '/console/' });
  assert.equal(shell.statusCode, 200);
  assert.match(shell.headers['content-type'] as string, /^text\/html/);
  assert.match(shell.body, /<script type="importmap">\{"imports":\{"preact":"\/console\/vendor\/preact.mjs"/);
  assert.match(shell.headers['content-security-policy'] as string, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'; /);
  assert.equal((await app.inject({ method: 'GET', url: '/console' })).headers.location, '/console/');
  for (const f of ['js/app.js', 'js/api.js', 'console.css', 'vendor/preact.mjs', 'vendor/hooks.mjs', 'vendor/htm.mjs']) {
    const r = await app.inject({ method: 'GET', url: `/console/${f}` });
    assert.equal(r.statusCode, 200, f);
    assert.match(r.headers['content-type'] as string, /^text\/(javascript|css)/, f);
  }
  for (const f of ['vendor/fastify.mjs', 'index.html.bak', '.hidden.js', 'nope.js']) {
    assert.equal((await app.inject({ method: 'GET', url: `/console/${f}` })).statusCode, 404, f);
  }
  const escape = await app.inject({ method: 'GET', url: '/console/js/%2e%2e/%2e%2e/package.json' });
  assert.ok(escape.statusCode >= 400 && !escape.body.includes('"name": "trunkgate"'), 'nothing above console/ is served');
  assert.equal((await app.inject({ method: 'GET', url: '/stats' })).statusCode, 401);
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
  assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/console')), 'the console is not part of the API description');
});
