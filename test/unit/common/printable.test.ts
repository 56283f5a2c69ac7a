import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_KEPT_CHARS, printable, printableOrNull, withoutControls } from '../../../src/common/printable.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

test('every C0 control, DEL and C1 control becomes ?, one for one; other text is kept as it is', () => {
  for (let c = 0; c <= 0xa0; c++) {
    const ch = String.fromCharCode(c);
    const want = c < 0x20 || (c >= 0x7f && c <= 0x9f) ? '?' : ch;
    assert.equal(printable(`a${ch}b`), `a${want}b`, `U+${c.toString(16).padStart(4, '0')}`);
    assert.equal(withoutControls(`a${ch}b`), `a${want}b`);
  }
  assert.equal(printable('5551234\u0000\u001b[2J'), '5551234??[2J');
  assert.equal(withoutControls('\u001b]0;owned\u0007\u001b[2J'), '?]0;owned??[2J');
  assert.equal(printable('x\r\n[2026-01-01 00:00:00] INFO: forged'), 'x??[2026-01-01 00:00:00] INFO: forged');
  for (const kept of ['+442071234567', 'sbc1.carrier.example', 'Zoë ☎', '\u00a0\u2028', '']) assert.equal(printable(kept), kept);
});

test(`a kept copy is at most ${MAX_KEPT_CHARS} code units, never half a surrogate pair; withoutControls does not cut`, () => {
  assert.equal(MAX_KEPT_CHARS, 256);
  const long = `555${'\u0000'.repeat(8_000)}`;
  const kept = printable(long);
  assert.equal(kept.length, MAX_KEPT_CHARS);
  assert.equal(kept, `555${'?'.repeat(MAX_KEPT_CHARS - 3)}`);
  assert.equal(withoutControls(long).length, long.length);
  assert.equal(printable('x'.repeat(MAX_KEPT_CHARS)), 'x'.repeat(MAX_KEPT_CHARS), 'exactly the cap: whole');
  // A pair across the cut goes whole or not at all.
  assert.equal(printable(`${'x'.repeat(MAX_KEPT_CHARS - 1)}😀tail`), 'x'.repeat(MAX_KEPT_CHARS - 1));
  assert.equal(printable('ab😀cd', 3), 'ab', 'the high half alone is dropped');
  assert.equal(printable('ab😀cd', 4), 'ab😀');
  assert.equal(printable('abc\u0000', 3), 'abc');
});

test('printableOrNull: null and undefined are "not known" (null); a string is printable', () => {
  assert.equal(printableOrNull(null), null);
  assert.equal(printableOrNull(undefined), null);
  assert.equal(printableOrNull(''), '');
  const v = printableOrNull(`\u0085${'9'.repeat(1_000)}`);
  assert.ok(v !== null && v.length === MAX_KEPT_CHARS && !CONTROL.test(v) && v.startsWith('?9'));
});
