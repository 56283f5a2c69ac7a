import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorCodes } from '../../src/error-codes.js';
import { EVENTS_END, EVENTS_START, eventTable, events } from '../../src/events.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every EVT_ code written in src/ is a listed event, and every listed event is written somewhere', () => {
  const written = new Set<string>();
  let all = '';
  for (const file of sources('src')) {
    const text = readFileSync(file, 'utf8');
    if (!file.endsWith('events.ts')) all += text;
    for (const m of text.matchAll(/['"`](EVT_[A-Z0-9_]+)['"`]/g)) if (!file.endsWith('events.ts')) written.add(m[1]!);
  }
  const listed = Object.keys(events);
  for (const c of written) assert.ok(listed.includes(c), `${c} is logged but not in src/events.ts`);
  for (const c of listed) assert.ok(all.includes(`'${c}'`), `${c} is listed but no log line carries it`);
});

test('an event that is a failure keeps its registered error code; each says what to do', () => {
  for (const [code, e] of Object.entries(events)) {
    if (!code.startsWith('EVT_')) assert.ok(code in errorCodes, `${code} is not in the error-code registry`);
    assert.ok(e!.todo.length > 0 && e!.what.length > 0, code);
  }
  // The events the operator asked for by name.
  for (const c of ['EVT_TRUNK_UP', 'EVT_TRUNK_DOWN', 'EVT_TLS_PEER_UNMATCHED', 'WARN_CERT_EXPIRING', 'ERR_ENGINE_UNTRUSTED_SOURCE', 'ERR_SIP_TRANSPORT_BIND']) {
    assert.ok(c in events, c);
  }
});

test('the README carries the events table as generated', () => {
  const readme = readFileSync('README.md', 'utf8');
  const a = readme.indexOf(EVENTS_START);
  const b = readme.indexOf(EVENTS_END);
  assert.ok(a >= 0 && b > a, 'README.md has the events markers');
  assert.equal(readme.slice(a + EVENTS_START.length, b).trim(), eventTable().trim(), 'regenerate: npm run codes -- --write');
});
