// The database sink's close against a database that does not answer: past the close deadline every record it had
// not inserted is in the on-disk queue (fsync'd), whatever the database does after; and `pending` counts each
// record not yet safe, the batch an INSERT is out for included.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CdrRecord } from '../../../src/b2bua/index.js';
import { ManualClock } from '../../../src/common/index.js';
import { PostgresSink, type PgClient } from '../../../src/cdr/index.js';
import { captureLog } from '../b2bua/fake-srf.js';

/** A database that connects and migrates, then leaves every INSERT unanswered until `answer()`. */
function slowDb() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const inserted: number[] = [];
  const client = (): PgClient => ({
    async connect() {},
    async end() {},
    on: () => undefined,
    async query(text: string, values?: unknown[]) {
      if (!text.startsWith('INSERT INTO "')) return { rows: [], rowCount: 0 };
      await gate;
      inserted.push(values!.length);
      return { rows: [], rowCount: 0 };
    },
  });
  return { client, answer: () => open(), inserted };
}

const record = (n: number): CdrRecord => ({ id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, callId: `call-${n}` }) as unknown as CdrRecord;

/** The records in the queue's segment files, by call id. */
const queued = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()
  .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter((l) => l !== ''))
  .map((l) => (JSON.parse(l) as { callId: string }).callId);

async function sink(t: TestContext, client: () => PgClient) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-cdr-close-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cap = captureLog();
  const clock = new ManualClock(1_000_000);
  const s = new PostgresSink({
    connection: {}, table: 'cdr', batchSize: 10, flushMs: 100, queueDir: join(dir, 'q'), maxQueueBytes: 10_000_000, log: cap.log, clock, client,
  });
  await s.start();
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  return { s, cap, clock, queueDir: join(dir, 'q') };
}

// The timeout only ends a close that never returns (a sink that waits on the database for ever); the deadline
// itself is the test's clock.
test('postgres sink: a close past its deadline queues on disk the batch the database has not answered and every record pending', { timeout: 10_000 }, async (t) => {
  const db = slowDb();
  const { s, cap, clock, queueDir } = await sink(t, db.client);
  for (let n = 1; n <= 25; n++) s.write(record(n));
  await new Promise((r) => setImmediate(r));
  assert.equal(s.stats().pending, 25, 'the 10 the INSERT is out for are not safe yet either');
  const closed = s.close(5_000);
  clock.advance(4_999);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(queued(queueDir), [], 'waits for the database until the deadline');
  clock.advance(1);
  await closed;
  assert.deepEqual(queued(queueDir), Array.from({ length: 25 }, (_, i) => `call-${i + 1}`), 'in order, the INSERT\'s batch first');
  assert.deepEqual([s.stats().queued, s.stats().pending], [25, 0]);
  const line = cap.lines.find((l) => l.code === 'ERR_CDR_DB' && l.records === 25);
  assert.ok(line, 'one line says how many went to the queue');

  // The database answers after all: nothing is queued twice, nothing more is sent.
  db.answer();
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(db.inserted.length, 1);
  assert.equal(queued(queueDir).length, 25);
  assert.equal(s.stats().queued, 25);
});

test('postgres sink: close() is one close: a second call gets the same promise', async (t) => {
  const db = slowDb();
  const { s, clock } = await sink(t, db.client);
  s.write(record(1));
  const a = s.close(1_000);
  assert.equal(s.close(), a);
  clock.advance(1_000);
  await a;
});
