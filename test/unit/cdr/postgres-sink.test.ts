// The database sink's decisions with a scripted pg client: batches and their size, the queue while the database
// cannot be reached, a full queue counted with one coded line, a row the database refuses set aside alone, the
// queue replayed before newer records once the database answers, and what close() does with what is pending.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CdrRecord } from '../../../src/b2bua/index.js';
import { ManualClock } from '../../../src/common/index.js';
import { PostgresSink, type PgClient } from '../../../src/cdr/index.js';
import { COLUMNS } from '../../../src/cdr/pg-schema.js';
import { captureLog } from '../b2bua/fake-srf.js';

/** A pg client whose server is up or down as the test says, and that refuses rows whose callId starts with `bad`. */
class FakeDb {
  up = true;
  /** While set, an INSERT waits for it: a database that answers slowly. */
  gate: Promise<void> | undefined;
  /** While set, an INSERT of these call ids fails with what it returns (a `code` or none): a database in trouble. */
  failWith: ((callIds: string[]) => { code?: string } | undefined) | undefined;
  rows = new Map<string, string>();
  inserts: number[] = [];
  client = (): PgClient => {
    const db = this;
    return {
      async connect() {
        if (!db.up) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      async end() {},
      on() {
        return undefined;
      },
      async query(text: string, values?: unknown[]) {
        if (!db.up) throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        if (!text.startsWith('INSERT INTO "')) return { rows: [], rowCount: 0 };
        if (db.gate) await db.gate;
        const n = values!.length / COLUMNS.length;
        const ids = Array.from({ length: n }, (_, i) => String(values![i * COLUMNS.length]));
        const callIds = Array.from({ length: n }, (_, i) => String(values![i * COLUMNS.length + 1]));
        const fail = db.failWith?.(callIds);
        if (fail) throw Object.assign(new Error('the database refused the INSERT'), fail);
        if (callIds.some((c) => c.startsWith('bad'))) throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
        db.inserts.push(n);
        let added = 0;
        ids.forEach((id, i) => {
          if (!db.rows.has(id)) {
            db.rows.set(id, callIds[i]!);
            added++;
          }
        });
        return { rows: [], rowCount: added };
      },
    };
  };
}

const record = (n: number, callId = `call-${n}`): CdrRecord => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, callId, callingNumber: '1001', calledNumber: '3001', sourceAddress: '127.0.0.1',
  sourcePort: 5060, transportIn: 'udp', listener: '127.0.0.1:5060', tenantIn: 'pbx', identities: [], identityOrigin: null, peerIdentity: null, tlsPeer: null, tlsVersion: null,
  tlsCipher: null, category: null, dialPeer: 'far', tenantOut: 'far', transportOut: 'udp', destination: 'sip:3001@127.0.0.1:5080', tlsVersionOut: null,
  tlsCipherOut: null, identitiesOut: [], attempts: 1, targets: [], setupAt: 1, answerAt: 2, endAt: 3, setupMs: 1, durationMs: 1, status: 200,
  cause: 'normal', releasedBy: 'caller', reason: null, reasonIn: null, reasonOut: null, byeFailed: 0,
});

async function sink(t: TestContext, db: FakeDb, o: { batchSize?: number; maxQueueBytes?: number; prepare?: (queueDir: string) => void } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-cdr-pg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  o.prepare?.(join(dir, 'q'));
  const cap = captureLog();
  const clock = new ManualClock(1_000_000);
  const s = new PostgresSink({
    connection: {}, table: 'cdr', batchSize: o.batchSize ?? 10, flushMs: 100, queueDir: join(dir, 'q'), maxQueueBytes: o.maxQueueBytes ?? 10_000_000,
    log: cap.log, clock, client: db.client, retryMs: { min: 1_000, max: 1_000 },
  });
  await s.start();
  await idle(s);
  return { s, cap, clock, queueDir: join(dir, 'q') };
}

/** Lets the sink's promise chains (fs included) run. */
async function idle(s: PostgresSink): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    await s.flush();
  }
}

test('postgres sink: a full batch goes at once, a partial one after flushMs; one multi-row INSERT each', async (t) => {
  const db = new FakeDb();
  const { s, clock } = await sink(t, db, { batchSize: 10 });
  for (let n = 1; n <= 13; n++) s.write(record(n));
  await idle(s);
  assert.deepEqual(db.inserts, [10, 3]);
  assert.equal(db.rows.size, 13);
  assert.equal(s.stats().connected, true);
  clock.advance(100);
  await s.close();
});

test('postgres sink: while the database is down batches go to the disk queue; back up, the queue goes in first, then newer records; none twice', async (t) => {
  const db = new FakeDb();
  db.up = false;
  const { s, clock, cap } = await sink(t, db, { batchSize: 5 });
  for (let n = 1; n <= 12; n++) s.write(record(n));
  clock.advance(100);
  await idle(s);
  assert.equal(db.rows.size, 0);
  assert.equal(s.stats().queued, 12);
  assert.ok(cap.lines.some((l) => l.code === 'ERR_CDR_DB'), 'the failed connection is logged with its code');
  db.up = true;
  clock.advance(1_000); // the reconnection
  await idle(s);
  s.write(record(13));
  await idle(s);
  assert.deepEqual([...db.rows.values()], Array.from({ length: 13 }, (_, i) => `call-${i + 1}`), 'in order: the queue, then the new record');
  assert.equal(s.stats().replayed, 12);
  assert.equal(s.stats().queue.bytes, 0);
  await s.close();
});

test('postgres sink: a full queue counts what it could not take and says so once, with its code', async (t) => {
  const db = new FakeDb();
  db.up = false;
  const { s, clock, cap } = await sink(t, db, { batchSize: 1, maxQueueBytes: 3_000 });
  for (let n = 1; n <= 10; n++) s.write(record(n));
  clock.advance(100);
  await idle(s);
  const st = s.stats();
  assert.ok(st.queued > 0 && st.queueFull > 0, JSON.stringify(st));
  assert.equal(st.queued + st.queueFull, 10, 'every record either queued or counted');
  assert.equal(cap.lines.filter((l) => l.code === 'ERR_CDR_QUEUE_FULL').length, 1, 'one line, however many records');
  await s.close();
});

test('postgres sink: a row the database refuses for its content is set aside alone, counted and logged; the rest of its batch goes in', async (t) => {
  const db = new FakeDb();
  const { s, cap } = await sink(t, db, { batchSize: 4 });
  s.write(record(1));
  s.write(record(2, 'bad-2'));
  s.write(record(3));
  s.write(record(4));
  await idle(s);
  assert.deepEqual([...db.rows.values()], ['call-1', 'call-3', 'call-4']);
  assert.equal(s.stats().rejected, 1);
  const line = cap.lines.find((l) => l.code === 'ERR_CDR_DB_REJECTED');
  assert.equal(line?.callId, 'bad-2');
  await s.close();
});

test('postgres sink: close() sends what is pending when the database is up, and queues it for the next start when it is not', async (t) => {
  const up = new FakeDb();
  const a = await sink(t, up, { batchSize: 100 });
  a.s.write(record(1));
  await a.s.close();
  assert.equal(up.rows.size, 1, 'pending record inserted at close');

  const down = new FakeDb();
  down.up = false;
  const b = await sink(t, down, { batchSize: 100 });
  b.s.write(record(2));
  await b.s.close();
  assert.equal(b.s.stats().queued, 1, 'pending record queued at close');
});

test('postgres sink: a database slower than calls end does not hold records in memory without end; past 20 batches the oldest wait on disk, then all arrive in order', async (t) => {
  const db = new FakeDb();
  const { s, cap } = await sink(t, db, { batchSize: 5 });
  // Every INSERT takes until the test lets it go; 300 records end meanwhile.
  const release: Array<() => void> = [];
  const slow = (): Promise<void> => new Promise<void>((r) => release.push(r));
  db.gate = slow();
  for (let n = 1; n <= 300; n++) s.write(record(n));
  await new Promise((r) => setImmediate(r));
  assert.equal(s.stats().pending, 300, 'one batch at the database (not safe until it answers), the rest wait');
  // The first INSERT answers; before the next one, what is past 20 batches goes to the disk queue.
  db.gate = slow();
  release.shift()!();
  for (let i = 0; i < 100 && s.stats().pending > 20 * 5; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(s.stats().pending <= 20 * 5, `at most 20 batches wait in memory: ${s.stats().pending}`);
  assert.ok(s.stats().spilled >= 295 - 20 * 5, `the rest went to the disk queue: ${s.stats().spilled}`);
  assert.ok(cap.lines.some((l) => l.code === 'ERR_CDR_DB'), 'with a line');
  db.gate = undefined;
  for (const r of release.splice(0)) r();
  for (let i = 0; i < 50 && db.rows.size < 300; i++) await idle(s);
  assert.equal(db.rows.size, 300, 'none lost');
  assert.deepEqual([...db.rows.values()].slice(0, 3), ['call-1', 'call-2', 'call-3']);
  assert.equal(s.stats().lost + s.stats().queueFull, 0);
  await s.close();
});

test('postgres sink: an error that is not about the rows (read-only standby, revoked grant, lock timeout, changed column, no code) queues the batch; none rejected, all in once it is back', async (t) => {
  for (const fail of [{ code: '25006' }, { code: '42501' }, { code: '55P03' }, { code: '42703' }, {}]) {
    const db = new FakeDb();
    const { s, clock } = await sink(t, db, { batchSize: 4 });
    db.failWith = () => fail;
    for (let n = 1; n <= 8; n++) s.write(record(n));
    await idle(s);
    const st = s.stats();
    assert.equal(st.rejected, 0, `${fail.code}: no record taken for a bad one`);
    assert.equal(st.queued, 8, `${fail.code}: the batches wait in the queue`);
    assert.equal(st.connected, false);
    db.failWith = undefined;
    clock.advance(1_000); // the reconnection
    await idle(s);
    assert.equal(db.rows.size, 8, `${fail.code}: all in after recovery`);
    assert.equal(s.stats().replayed, 8);
    assert.equal(s.stats().queue.bytes, 0);
    await s.close();
  }
});

test('postgres sink: a connection lost while a replayed batch goes in row by row keeps the segment for the next replay; none lost, the refused row counted once', async (t) => {
  const db = new FakeDb();
  db.up = false;
  const size = Buffer.byteLength(`${JSON.stringify(record(1))}\n`);
  // Room for the four queued records and one more: queueing two of them again would be refused.
  const { s, clock, queueDir } = await sink(t, db, { batchSize: 4, maxQueueBytes: 5 * size });
  [record(1), record(2, 'bad-2'), record(3), record(4)].forEach((r) => s.write(r));
  await idle(s);
  assert.equal(s.stats().queued, 4);
  const segments = readdirSync(queueDir);
  assert.equal(segments.length, 1);
  db.up = true;
  db.failWith = (ids) => {
    if (ids.length !== 1 || ids[0] !== 'call-3') return undefined;
    db.failWith = undefined;
    return { code: '57P01' };
  };
  clock.advance(1_000); // the reconnection: row 1 in, bad-2 refused, then the connection goes
  await idle(s);
  assert.equal(s.stats().connected, false);
  assert.deepEqual(readdirSync(queueDir), segments, 'the segment is still on disk');
  assert.equal(s.stats().queueFull, 0);
  assert.deepEqual([s.stats().rejected, s.stats().replayed], [0, 0], 'nothing counted of a replay not done');
  clock.advance(1_000);
  await idle(s);
  assert.deepEqual([...db.rows.values()], ['call-1', 'call-3', 'call-4']);
  assert.deepEqual(readdirSync(queueDir), []);
  assert.deepEqual([s.stats().rejected, s.stats().replayed], [1, 4], 'bad-2 was refused in both replays: counted once');
  await s.close();
});

test('postgres sink: a queue segment that cannot be read is set aside after a few tries, not forever in the way; the records behind it and newer ones go in', async (t) => {
  const db = new FakeDb();
  // An earlier run's segment that every read fails on (a directory in its place: EISDIR).
  const { s, clock, cap, queueDir } = await sink(t, db, { batchSize: 2, prepare: (q) => mkdirSync(join(q, 'q-000000000001.jsonl'), { recursive: true }) });
  s.write(record(1));
  s.write(record(2));
  await idle(s);
  assert.equal(db.rows.size, 0, 'queued behind the unreadable segment, in order');
  for (let i = 0; i < 5 && db.rows.size < 2; i++) {
    clock.advance(5_000);
    await idle(s);
  }
  assert.deepEqual([...db.rows.values()], ['call-1', 'call-2']);
  assert.equal(s.stats().queue.segments, 0);
  assert.ok(readdirSync(queueDir).includes('q-000000000001.jsonl.bad'), readdirSync(queueDir).join(' '));
  assert.ok(cap.lines.some((l) => l.code === 'ERR_CDR_QUEUE_IO' && l.segment === 'q-000000000001.jsonl'), 'a coded line names the segment set aside');
  s.write(record(3));
  s.write(record(4));
  await idle(s);
  assert.equal(db.rows.size, 4, 'a new batch goes straight to the database');
  assert.equal(s.stats().queued, 2);
  await s.close();
});

test('postgres sink: records of a queue segment gone from its folder count as lost, and the queue goes on', async (t) => {
  const db = new FakeDb();
  db.up = false;
  const { s, clock, queueDir } = await sink(t, db, { batchSize: 2 });
  s.write(record(1));
  s.write(record(2));
  await idle(s);
  assert.equal(s.stats().queued, 2);
  for (const f of readdirSync(queueDir)) rmSync(join(queueDir, f));
  db.up = true;
  clock.advance(1_000); // the reconnection
  await idle(s);
  assert.equal(s.stats().lost, 2);
  assert.equal(s.stats().queue.segments, 0);
  s.write(record(3));
  s.write(record(4));
  await idle(s);
  assert.deepEqual([...db.rows.values()], ['call-3', 'call-4']);
  await s.close();
});
