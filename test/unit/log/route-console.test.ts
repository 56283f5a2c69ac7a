import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog, routeConsoleToLog } from '../../../src/log/index.js';
import { captureLog } from '../b2bua/fake-srf.js';

test('console output of a library becomes one JSON line with a code, rate-limited, the Error kept', (t) => {
  const { log, lines } = captureLog();
  const clock = new ManualClock(0);
  const restore = routeConsoleToLog(log, clock, 10_000);
  t.after(restore);
  const err = new Error('Invalid SIP message');
  console.error(err, 'unable to parse incoming message: INVITE sip:1@x sip/2.0');
  console.error(err, 'again');
  console.error(err, 'and again');
  clock.advance(10_000);
  console.error(err, 'later');
  restore();
  assert.equal(lines.length, 2, 'the second and third within the interval are left out');
  assert.equal(lines[0]!.code, 'ERR_CONSOLE_OUTPUT');
  assert.equal(lines[0]!.level, 40);
  assert.match(String(lines[0]!.text), /^Error: Invalid SIP message unable to parse incoming message: INVITE/);
  assert.equal((lines[0]!.err as { message?: string }).message, 'Invalid SIP message');
  assert.equal(lines[1]!.suppressed, 2);
});

test('drachtio-srf\'s own parser throwing on a message is caught by srf and printed with console.error: that print is routed', (t) => {
  const { log, lines } = captureLog();
  const restore = routeConsoleToLog(log);
  t.after(restore);
  const require = createRequire(import.meta.url);
  const SipMessage = require('drachtio-srf/lib/sip-parser/message.js') as new (raw: string) => unknown;
  let thrown: unknown;
  try {
    new SipMessage('INVITE sip:1@127.0.0.1 sip/2.0\r\nCall-ID: x\r\n\r\n');
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof Error, 'a lower-case SIP version is refused by srf\'s parser');
  // what drachtio-agent.js does with it (`console.error(err, 'unable to parse incoming message: ...')`)
  console.error(thrown, 'unable to parse incoming message: INVITE sip:1@127.0.0.1 sip/2.0');
  restore();
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.code, 'ERR_CONSOLE_OUTPUT');
  assert.equal((lines[0]!.err as { message?: string }).message, 'failed to parse sip message');
});

test('RateLimitedLog keys by code and source and keeps a bounded number of keys', () => {
  const { log, lines } = captureLog();
  const clock = new ManualClock(0);
  const r = new RateLimitedLog(log, clock, { intervalMs: 1_000, maxKeys: 2 });
  assert.equal(r.line('warn', 'ERR_X', {}, 'x', '10.0.0.1'), true);
  assert.equal(r.line('warn', 'ERR_X', {}, 'x', '10.0.0.1'), false);
  assert.equal(r.line('warn', 'ERR_X', {}, 'x', '10.0.0.2'), true, 'another source has its own line');
  assert.equal(r.line('warn', 'ERR_X', {}, 'x', '10.0.0.3'), true);
  assert.equal(r.line('warn', 'ERR_X', {}, 'x', '10.0.0.1'), true, 'the oldest key was forgotten at the bound');
  assert.equal(lines.length, 4);
});
