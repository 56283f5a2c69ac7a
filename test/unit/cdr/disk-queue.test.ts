import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DiskQueue, MAX_READ_FAILURES } from '../../../src/cdr/index.js';
import { captureLog } from '../b2bua/fake-srf.js';

function dir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-cdr-queue-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return join(d, 'queue');
}

const rec = (n: number) => ({ id: `id-${n}`, callId: `call-${n}`, pad: 'p'.repeat(30) });
type Rec = ReturnType<typeof rec>;

/** Everything left in the queue, oldest first, each segment deleted once read. */
async function drain(q: DiskQueue<Rec>): Promise<number[]> {
  const out: number[] = [];
  for (let seg = await q.peek(); seg; seg = await q.peek()) {
    out.push(...seg.records.map((r) => Number(r.id.slice(3))));
    await seg.done();
  }
  return out;
}

test('disk queue: batches come back in the order they went in, across segments, and the queue is empty after', async (t) => {
  const d = dir(t);
  const q = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, segmentBytes: 300, log: captureLog().log });
  await q.open();
  for (let b = 0; b < 10; b++) assert.equal(await q.append([rec(b * 3 + 1), rec(b * 3 + 2), rec(b * 3 + 3)]), true);
  assert.ok(readdirSync(d).length > 3, `segments: ${readdirSync(d).join(' ')}`);
  assert.deepEqual(await drain(q), Array.from({ length: 30 }, (_, i) => i + 1));
  assert.equal(q.empty, true);
  assert.equal(q.bytes, 0);
  assert.deepEqual(readdirSync(d), []);
});

test('disk queue: bounded by maxBytes; a batch that would pass it is refused whole and counted, and room comes back after a replay', async (t) => {
  const d = dir(t);
  const q = new DiskQueue<Rec>({ dir: d, maxBytes: 600, segmentBytes: 200, log: captureLog().log });
  await q.open();
  const line = JSON.stringify(rec(1)).length + 1;
  let accepted = 0;
  for (let n = 1; n <= 20; n++) if (await q.append([rec(n)])) accepted++;
  assert.equal(accepted, Math.floor(600 / line));
  assert.ok(q.bytes <= 600);
  assert.equal(q.stats().refusedBatches, 20 - accepted);
  assert.equal(q.stats().refusedRecords, 20 - accepted);
  const seg = (await q.peek())!;
  await seg.done();
  assert.equal(await q.append([rec(99)]), true, 'room again once a segment was replayed');
});

test('disk queue: a later run picks up what an earlier one queued, and never appends to its files', async (t) => {
  const d = dir(t);
  const first = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, log: captureLog().log });
  await first.open();
  await first.append([rec(1), rec(2)]);
  await first.close();
  const before = readdirSync(d);
  const second = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, log: captureLog().log });
  await second.open();
  assert.equal(second.empty, false);
  await second.append([rec(3)]);
  assert.equal(readdirSync(d).length, before.length + 1, 'a new segment for the new run');
  assert.equal(readFileSync(join(d, before[0]!), 'utf8').split('\n').filter(Boolean).length, 2, 'the old segment untouched');
  assert.deepEqual(await drain(second), [1, 2, 3]);
});

test('disk queue: a half-written last line (a crash mid-append) is skipped and counted, the records before it come back', async (t) => {
  const d = dir(t);
  const q = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, log: captureLog().log });
  await q.open();
  await q.append([rec(1), rec(2)]);
  await q.close();
  const [name] = readdirSync(d);
  appendFileSync(join(d, name!), JSON.stringify(rec(3)).slice(0, 25));
  const cap = captureLog();
  const again = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, log: cap.log });
  await again.open();
  await again.append([rec(4)]);
  assert.deepEqual(await drain(again), [1, 2, 4]);
  assert.equal(again.stats().corruptLines, 1);
  const line = cap.lines.find((l) => l.code === 'ERR_CDR_QUEUE_CORRUPT');
  assert.ok(line, 'one coded line names the torn segment');
  assert.equal(line.segment, name);
});

test('disk queue: a segment read but not done (the database broke mid-replay) is read again from its start', async (t) => {
  const d = dir(t);
  const q = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, log: captureLog().log });
  await q.open();
  await q.append([rec(1), rec(2)]);
  const once = (await q.peek())!;
  assert.deepEqual(once.records.map((r) => r.id), ['id-1', 'id-2']);
  await q.append([rec(3)]);
  assert.deepEqual(await drain(q), [1, 2, 3], 'the first segment again, then the batch appended after it');
});

test('disk queue: a torn line of a segment read again (its replay did not finish) is counted once', async (t) => {
  const d = dir(t);
  const q = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, log: captureLog().log });
  await q.open();
  await q.append([rec(1)]);
  await q.close();
  appendFileSync(join(d, readdirSync(d)[0]!), '{"id":"torn');
  for (let i = 0; i < 3; i++) assert.deepEqual((await q.peek())!.records.map((r) => r.id), ['id-1']);
  assert.equal(q.stats().corruptLines, 1);
  assert.deepEqual(await drain(q), [1]);
  assert.equal(q.stats().corruptLines, 1);
});

test('disk queue: a segment gone from the folder is dropped with its bytes and counted; the next one is read', async (t) => {
  const d = dir(t);
  const cap = captureLog();
  const q = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, segmentBytes: 1, log: cap.log });
  await q.open();
  await q.append([rec(1), rec(2)]);
  await q.append([rec(3)]);
  const [gone, kept] = readdirSync(d).sort();
  const keptBytes = readFileSync(join(d, kept!)).length;
  unlinkSync(join(d, gone!));
  assert.deepEqual((await q.peek())!.records.map((r) => r.id), ['id-3']);
  assert.equal(q.bytes, keptBytes, 'the byte count no longer holds the gone segment');
  assert.deepEqual([q.stats().unreadableSegments, q.stats().unreadableRecords], [1, 2]);
  const line = cap.lines.find((l) => l.code === 'ERR_CDR_QUEUE_IO');
  assert.equal(line?.segment, gone);
  assert.deepEqual(await drain(q), [3]);
  assert.equal(q.empty, true);
});

test('disk queue: a segment that cannot be read is set aside as .bad at its third failure in a row, once logged; the queue goes on, and a later run never reuses its name', async (t) => {
  const d = dir(t);
  // A directory in the place of an earlier run's segment: every read of it fails (EISDIR).
  mkdirSync(join(d, 'q-000000000001.jsonl'), { recursive: true });
  const cap = captureLog();
  const q = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, log: cap.log });
  await q.open();
  await q.append([rec(1)]);
  for (let i = 1; i < MAX_READ_FAILURES; i++) await assert.rejects(q.peek(), { code: 'EISDIR' });
  assert.equal(q.empty, false);
  assert.deepEqual((await q.peek())!.records.map((r) => r.id), ['id-1'], 'the next segment, at the third try');
  assert.deepEqual(readdirSync(d).sort(), ['q-000000000001.jsonl.bad', 'q-000000000002.jsonl']);
  assert.deepEqual([q.stats().unreadableSegments, q.stats().unreadableRecords], [1, 0], 'an earlier run\'s segment: its records are not known');
  assert.equal(cap.lines.filter((l) => l.code === 'ERR_CDR_QUEUE_IO').length, 1);
  assert.deepEqual(await drain(q), [1]);
  await q.close();
  const next = new DiskQueue<Rec>({ dir: d, maxBytes: 1_000_000, log: captureLog().log });
  await next.open();
  assert.equal(next.empty, true, 'the set-aside file is not taken up again');
  await next.append([rec(2)]);
  assert.ok(readdirSync(d).includes('q-000000000002.jsonl'), `a sequence past the set-aside one: ${readdirSync(d).join(' ')}`);
  assert.deepEqual(await drain(next), [2]);
});
