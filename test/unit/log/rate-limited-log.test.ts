import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/rate-limited-log.js';

type Line = { level: number; msg: string; code?: string; suppressed?: number; sources?: number; event?: string; source?: string };
function capture() {
  const lines: Line[] = [];
  const dest = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line); cb(); } });
  return { log: pino({ level: 'info' }, dest), lines };
}

test('one line per (code, source) per window, at most perCode lines per code, the rest counted and summed up at the window end', () => {
  const clock = new ManualClock(0);
  const { log, lines } = capture();
  const r = new RateLimitedLog(log, clock, { intervalMs: 60_000, perCode: 3, summaries: true });
  let written = 0;
  // 10 sources, 5 lines each, one code: 3 lines (per code), 47 left out.
  for (let i = 0; i < 5; i++) for (let s = 0; s < 10; s++) if (r.warn('ERR_A', `10.0.0.${s}`, { source: `10.0.0.${s}` }, 'refused')) written++;
  // Another code has its own budget; a source already logged for ERR_A is new for ERR_B.
  assert.equal(r.warn('ERR_B', '10.0.0.0', {}, 'other'), true);
  assert.equal(r.warn('ERR_B', '10.0.0.0', {}, 'other'), false, 'same code and source within the window');
  assert.equal(written, 3);
  assert.deepEqual(lines.map((l) => [l.code, l.source]), [['ERR_A', '10.0.0.0'], ['ERR_A', '10.0.0.1'], ['ERR_A', '10.0.0.2'], ['ERR_B', undefined]]);
  clock.advance(60_000);
  const summaries = lines.filter((l) => l.event === 'LOG_LINES_LEFT_OUT');
  assert.deepEqual(summaries.map((l) => [l.code, l.suppressed, l.sources]), [['ERR_A', 47, 10], ['ERR_B', 1, 1]]);
  assert.match(summaries[0]!.msg, /left out 47 log lines with code ERR_A from 10 sources/);
  // A new window: the source gets a line again, with nothing left to report on it.
  assert.equal(r.warn('ERR_A', '10.0.0.0', {}, 'refused'), true);
  assert.equal(lines.at(-1)!.suppressed, undefined);
});

test('without summaries the count rides on the code\'s next line; a quiet code writes nothing more', () => {
  const clock = new ManualClock(0);
  const { log, lines } = capture();
  const r = new RateLimitedLog(log, clock, { intervalMs: 1_000, perCode: 1 });
  r.warn('ERR_X', undefined, {}, 'x');
  for (let i = 0; i < 4; i++) r.warn('ERR_X', undefined, {}, 'x');
  clock.advance(5_000);
  assert.equal(lines.length, 1);
  r.warn('ERR_X', undefined, {}, 'x');
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.suppressed, 4);
  assert.match(lines[1]!.msg, /and 4 more with this code/);
});

test('the sources remembered are bounded: the least recently logged is forgotten', () => {
  const clock = new ManualClock(0);
  const { log } = capture();
  const r = new RateLimitedLog(log, clock, { perCode: 1_000, maxSources: 2 });
  assert.equal(r.warn('C', 'a', {}, 'm'), true);
  assert.equal(r.warn('C', 'b', {}, 'm'), true);
  assert.equal(r.warn('C', 'c', {}, 'm'), true);
  assert.equal(r.warn('C', 'b', {}, 'm'), false, 'b is still remembered');
  assert.equal(r.warn('C', 'a', {}, 'm'), true, 'a was forgotten to stay within 2 sources');
});

test('close writes what is pending and stops the timers', () => {
  const clock = new ManualClock(0);
  const { log, lines } = capture();
  const r = new RateLimitedLog(log, clock, { perCode: 1, summaries: true });
  r.warn('C', 'a', {}, 'm');
  r.warn('C', 'a', {}, 'm');
  r.close();
  r.close();
  clock.advance(120_000);
  assert.deepEqual(lines.map((l) => [l.event, l.suppressed]), [[undefined, undefined], ['LOG_LINES_LEFT_OUT', 1]]);
});
