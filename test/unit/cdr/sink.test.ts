// The composite CDR sink: every record to the JSON-lines file and to the database, each on its own, so a file that
// cannot take a record (or a database sink that throws) never costs the other one that record.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CdrRecord } from '../../../src/b2bua/index.js';
import { ManualClock } from '../../../src/common/index.js';
import { createCdrSink, JsonLinesFile, PostgresSink, type PgClient } from '../../../src/cdr/index.js';
import { COLUMNS } from '../../../src/cdr/pg-schema.js';
import { captureLog } from '../b2bua/fake-srf.js';

const record = (n: number): CdrRecord => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, callId: `call-${n}`, callingNumber: '1001', calledNumber: '3001', sourceAddress: '127.0.0.1',
  sourcePort: 5060, transportIn: 'udp', listener: '127.0.0.1:5060', tenantIn: 'pbx', identities: [], identityOrigin: null, peerIdentity: null, tlsPeer: null, tlsVersion: null,
  tlsCipher: null, category: null, dialPeer: 'far', tenantOut: 'far', transportOut: 'udp', destination: 'sip:3001@127.0.0.1:5080', tlsVersionOut: null,
  tlsCipherOut: null, identitiesOut: [], attempts: 1, targets: [], setupAt: 1, answerAt: 2, endAt: 3, setupMs: 1, durationMs: 1, status: 200,
  cause: 'normal', releasedBy: 'caller', reason: null, reasonIn: null, reasonOut: null, byeFailed: 0,
});

async function setup(t: TestContext) {
  const d = mkdtempSync(join(tmpdir(), 'tg-cdr-sink-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const path = join(d, 'cdr.jsonl');
  const manual = new ManualClock(Date.UTC(2026, 11, 1, 12));
  const hook = { block: false };
  // While `block` is set, the moment the file's name is free (a rotation renamed it) a folder takes it.
  const clock = {
    now: () => {
      if (hook.block && !existsSync(path)) {
        hook.block = false;
        mkdirSync(path);
      }
      return manual.now();
    },
    setTimeout: (fn: () => void, ms: number) => manual.setTimeout(fn, ms),
  };
  const inserted: string[] = [];
  const client = (): PgClient => ({
    async connect() {},
    async end() {},
    on: () => undefined,
    async query(text: string, values?: unknown[]) {
      if (!text.startsWith('INSERT INTO "')) return { rows: [], rowCount: 0 };
      const n = values!.length / COLUMNS.length;
      for (let i = 0; i < n; i++) inserted.push(String(values![i * COLUMNS.length + 1]));
      return { rows: [], rowCount: n };
    },
  });
  const cap = captureLog();
  const sink = await createCdrSink({
    file: { path, rotateBytes: 0, rotateDaily: true, keep: 10 },
    postgres: { connection: {}, table: 'cdr', batchSize: 10, flushMs: 100, queueDir: join(d, 'q'), maxQueueBytes: 1_000_000, client },
  }, { log: cap.log, clock });
  t.after(() => sink.close());
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  return { sink, manual, hook, inserted, cap };
}

test('cdr sink: a file that cannot be reopened after its rotation loses the record for the file only; the database still gets it', async (t) => {
  const { sink, manual, hook, inserted } = await setup(t);
  sink.write(record(1));
  manual.advance(86_400_000);
  hook.block = true;
  assert.doesNotThrow(() => sink.write(record(2)));
  await sink.flush();
  const st = sink.stats();
  assert.equal(st.records, 2);
  assert.equal(st.file?.lost, 1);
  assert.equal(st.file?.written, 1);
  assert.deepEqual(inserted, ['call-1', 'call-2']);
});

test('cdr sink: a sink that throws is logged with its code and the other one still gets the record', async (t) => {
  const { sink, inserted, cap } = await setup(t);
  const fileWrite = t.mock.method(JsonLinesFile.prototype, 'write', () => {
    throw new Error('file sink broke');
  });
  sink.write(record(1));
  await sink.flush();
  assert.deepEqual(inserted, ['call-1'], 'the database has it');
  assert.ok(cap.lines.some((l) => l.code === 'ERR_CDR_FILE'));
  fileWrite.mock.restore();
  t.mock.method(PostgresSink.prototype, 'write', () => {
    throw new Error('database sink broke');
  });
  assert.doesNotThrow(() => sink.write(record(2)));
  await sink.flush();
  assert.equal(sink.stats().file?.written, 1, 'the file has it');
  assert.ok(cap.lines.some((l) => l.code === 'ERR_CDR_DB'));
});
