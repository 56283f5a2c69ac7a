import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, logFormatFor } from '../../../src/log/index.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

test('pretty: one readable line with the time, the level and the code before the message; secrets still redacted', () => {
  const out = sink();
  const log = createLogger({ format: 'pretty', destination: out.stream });
  log.warn({ code: 'EVT_TRUNK_DOWN', tenant: 'carrier', token: 'abc123' }, 'b2bua: trunk carrier 127.0.0.1:5060 is down');
  const text = out.text();
  assert.match(text, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN: \[EVT_TRUNK_DOWN\] b2bua: trunk carrier 127\.0\.0\.1:5060 is down\n/);
  assert.match(text, /tenant: "carrier"/);
  assert.match(text, /token: "\[redacted\]"/);
  assert.ok(!text.includes('abc123'));
  assert.ok(!text.includes('\x1b['), 'no colour unless asked');
  assert.throws(() => JSON.parse(text.split('\n')[0]!));
});

test('json: the same event as one JSON line with its code', () => {
  const out = sink();
  createLogger({ format: 'json', destination: out.stream }).info({ code: 'EVT_TRUNK_UP' }, 'up');
  const line = JSON.parse(out.text()) as Record<string, unknown>;
  assert.deepEqual([line.code, line.msg, line.level], ['EVT_TRUNK_UP', 'up', 30]);
});

test('the format: the setting when given, else pretty on a terminal and JSON otherwise', () => {
  assert.equal(logFormatFor(undefined, true), 'pretty');
  assert.equal(logFormatFor(undefined, false), 'json');
  assert.equal(logFormatFor('json', true), 'json');
  assert.equal(logFormatFor('pretty', false), 'pretty');
});
