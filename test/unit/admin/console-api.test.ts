// test: own process (it replaces the global fetch and sessionStorage)
// The console's API client (console/js/api.js) run in Node with a fetch of its own: a GET the API answers 429
// (busy: one CDR scan at a time) is tried again after Retry-After, at most twice; other refusals are thrown at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';

interface Answer { status: number; body: unknown; retryAfter?: string }

function fakeFetch(answers: Answer[]): { calls: string[] } {
  const calls: string[] = [];
  (globalThis as Record<string, unknown>).sessionStorage = { getItem: () => 'token' };
  globalThis.fetch = (async (path: string, init: { method: string }) => {
    calls.push(`${init.method} ${path}`);
    const a = answers.shift()!;
    const headers = new Headers({ 'content-type': 'application/json', ...(a.retryAfter !== undefined ? { 'retry-after': a.retryAfter } : {}) });
    return new Response(JSON.stringify(a.body), { status: a.status, headers });
  }) as typeof fetch;
  return { calls };
}

// A path in a variable: the console's plain JavaScript has no type declarations for the compiler to look for.
const clientPath = '../../../console/js/api.js';
const { api } = await import(clientPath) as { api: (m: string, p: string, o?: object) => Promise<{ data: unknown }> };
const busy: Answer = { status: 429, body: { code: 'ERR_ADMIN_REQUEST', message: 'busy' }, retryAfter: '0' };

test('a GET answered 429 is tried again after Retry-After and gets its answer', async () => {
  const f = fakeFetch([busy, busy, { status: 200, body: { records: [] } }]);
  assert.deepEqual((await api('GET', '/cdrs')).data, { records: [] });
  assert.equal(f.calls.length, 3);
});

test('past two retries the 429 is thrown; a POST answered 429 is thrown at once', async () => {
  const f = fakeFetch([busy, busy, busy]);
  await assert.rejects(api('GET', '/cdrs'), (e: Error & { status?: number }) => e.status === 429);
  assert.equal(f.calls.length, 3);
  const p = fakeFetch([busy]);
  await assert.rejects(api('POST', '/tls/probe', { body: {} }), (e: Error & { status?: number }) => e.status === 429);
  assert.equal(p.calls.length, 1);
});
