/**
 * Tables that keep a key for seconds to hours must keep a copy: a key cut from a message's header block would keep
 * the whole block alive through every collection (src/sip/message/own-string.ts), and their caps count entries,
 * not bytes. Here each key comes from a header block padded to 64 KB; the heap after a full collection tells.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../../../src/common/clock.js';
import { ProxiedDialogs } from '../../../../src/engine/core/proxied-dialogs.js';
import { forceGc } from '../../../support/gc.js';

const PAD = 64 * 1024;
const N = 200;

/** Call-ID and a tag cut from a fresh header block of about PAD bytes, as the parser hands them out. */
function cutFromBlock(i: number): { callId: string; tag: string } {
  const block = `Call-ID: ${randomUUID()}@host\r\nFrom: <sip:a@b>;tag=${randomUUID()}\r\nX-Pad: ${'y'.repeat(PAD)}${i}\r\n`;
  const at = block.indexOf('tag=') + 4;
  return { callId: block.slice(9, block.indexOf('\r\n')), tag: block.slice(at, at + 36) };
}

test('the proxied-dialog table keeps its keys, not the header blocks they were cut from', () => {
  const table = new ProxiedDialogs({ clock: new ManualClock(0), max: N });
  forceGc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) {
    const { callId, tag } = cutFromBlock(i);
    table.add(callId, tag, `b${i}`);
  }
  forceGc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(table.size, N);
  // Kept blocks would be N × 64 KB = 12.5 MB; the keys themselves are about 20 KB.
  assert.ok(grown < 2 * 1024 * 1024, `the heap grew ${grown} bytes for ${N} keys`);
});
