import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitLines } from '../../../../src/sip/message/lines.js';

test('lines split at LF with a CR before it dropped, as split(/\\r?\\n/) does', () => {
  const cases = ['', 'a', 'a\r\nb', 'a\nb', 'a\r\n', '\r\n', '\n\n', 'a\r\r\nb', 'a\rb\n', '\r', 'x\r\n\r\ny', 'Via: 1\r\n  more\nTo: 2'];
  for (const c of cases) assert.deepEqual(splitLines(c), c.split(/\r?\n/), JSON.stringify(c));
});

test('seeded: random CR, LF and text give the same lines as the regular expression', () => {
  let seed = 7;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = ['\r', '\n', '\r\n', 'a', 'b', ' ', ':'];
  for (let i = 0; i < 5000; i++) {
    let s = '';
    for (let j = next(20); j > 0; j--) s += alphabet[next(alphabet.length)];
    assert.deepEqual(splitLines(s), s.split(/\r?\n/), JSON.stringify(s));
  }
});
