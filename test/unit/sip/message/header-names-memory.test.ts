// test: own process (it measures the heap, and needs the process-wide header-name table with room left)
/**
 * The header-name table (headers.ts headerNameOf) lives as long as the process and caps its entries, not its bytes:
 * a name kept as the parser cut it would keep the text of its message's whole header block alive (own-string.ts).
 * Each message here carries a header block of about 60 KB; the heap after a full collection tells what the table
 * kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_KEPT_NAME_LENGTH, headerNameOf, headerNamesKept, parseMessage } from '../../../../src/sip/message/index.js';
import { forceGc } from '../../../support/gc.js';

const N = 200;
const PAD_LINES = 8;

/** A request whose header block is about 60 KB, with one header of the given name (read once, so kept). */
function request(name: string, i: number): Buffer {
  const pad = Array.from({ length: PAD_LINES }, (_, j) => `X-Pad-${j}: ${'y'.repeat(7400)}${i}`);
  return Buffer.from([
    'OPTIONS sip:b@example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1', 'From: <sip:a@example.com>;tag=1',
    'To: <sip:b@example.com>', `Call-ID: c${i}@192.0.2.1`, 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', `${name}: v`, ...pad, '', '',
  ].join('\r\n'));
}

test('the header-name table keeps copies of the names, not the header blocks they were cut from', () => {
  // Warm the table with the names every message carries, so only the new name of each message is added below.
  assert.ok(parseMessage(request('X-Warm-Up-Name-Here', -1)).ok);
  forceGc();
  const kept = headerNamesKept();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) {
    // Longer than V8's shortest cut (13 characters); in lower case half the time, whose lower case is the cut itself.
    const name = i % 2 === 0 ? `X-Retained-Name-${i}` : `x-retained-lower-${i}`;
    const r = parseMessage(request(name, i));
    assert.ok(r.ok, r.ok ? '' : r.reason);
  }
  forceGc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(headerNamesKept(), kept + N, 'each new name is kept');
  // Kept blocks would be N × 60 KB = 11.7 MB; the names themselves are a few KB.
  assert.ok(grown < 2 * 1024 * 1024, `the heap grew ${grown} bytes for ${N} names`);
});

test('names over MAX_KEPT_NAME_LENGTH characters, and refused ones, are read each time and not kept', () => {
  const kept = headerNamesKept();
  const long = `X-${'a'.repeat(MAX_KEPT_NAME_LENGTH - 2)}`;
  assert.equal(long.length, MAX_KEPT_NAME_LENGTH);
  const tooLong = `${long}b`;
  assert.equal(headerNameOf(tooLong).name, tooLong.toLowerCase());
  assert.equal(headerNameOf(tooLong).problem, undefined);
  assert.equal(headerNamesKept(), kept, 'a name one character over the length is not kept');
  assert.match(headerNameOf('Bad Name').problem ?? '', /^bad header name/);
  assert.match(headerNameOf('X-Bad%41').problem ?? '', /%-escape/);
  assert.equal(headerNamesKept(), kept, 'refused names are not kept');
  assert.equal(headerNameOf(long).name, long.toLowerCase());
  assert.equal(headerNamesKept(), kept + 1, 'a name of exactly the length is kept');
});
