// The gateway's From and To tags: 64 random bits in lowercase hex. sipp finds a response's CSeq method by
// searching the whole text for the first "CSeq", so a base64 tag such as `mZCSeqDVLD` made it abort the call; a
// hex tag spells no header name. Every tag the engine writes comes from newTag (src/engine/core/core-util.ts
// re-exports it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newTag } from '../../../../src/sip/transaction/new-branch.js';
import { newTag as engineTag } from '../../../../src/engine/core/core-util.js';

test('newTag: 16 lowercase hex digits, unique across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5_000; i++) {
    const t = newTag();
    assert.match(t, /^[0-9a-f]{16}$/);
    seen.add(t);
  }
  assert.equal(seen.size, 5_000);
});

test('the engine core writes the same hex tags', () => {
  for (let i = 0; i < 1_000; i++) assert.match(engineTag(), /^[0-9a-f]{16}$/);
});
