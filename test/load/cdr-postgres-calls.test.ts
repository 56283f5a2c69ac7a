// CDRs as `npm start` writes them, into a real PostgreSQL (Debian's package, started here) and the JSON-lines file:
// calls through the policy pipeline from sipp, answered and refused, each with one row holding what the log line
// holds; the table and its schema version made by the gateway; the same with two b2bua apps, whose records all
// reach the one sink of the main thread.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import type { CdrRecord } from '../../src/b2bua/index.js';
import { PostgresSink } from '../../src/cdr/postgres.js';
import { SCHEMA_VERSION } from '../../src/cdr/pg-schema.js';
import { readCdrFile } from '../support/cdr-file.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { runSipp, startSippUas } from '../support/sipp.js';
import { startTrunkgate, type LogLine, type TrunkgateProcess } from '../support/trunkgate-process.js';
import { udpCallProfiles } from '../support/udp-call-rig.js';

type Row = Record<string, unknown>;
const cdrLines = (lines: LogLine[]): Array<Record<string, unknown>> => lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);

async function gateway(t: TestContext, db: TestPostgres, o: { workers: number; table: string }): Promise<{ gw: TrunkgateProcess; sipPort: number; dir: string }> {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const p = await udpCallProfiles(uas.port, '', `workers: ${o.workers}`, `cdr:
  postgres: { host: ${db.host}, port: ${db.port}, database: ${db.database}, user: ${db.user}, table: ${o.table}, batchSize: 20, flushMs: 200 }
`);
  t.after(() => p.remove());
  const gw = await startTrunkgate(t, p.dir, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') });
  await gw.waitFor((l) => l.msg === 'cdr: database connected', 15_000);
  return { gw, sipPort: p.sipPort, dir: p.dir };
}

/** Polls the table until it holds `n` rows (15 s at most); fails with what it had. */
async function rowsOf(db: TestPostgres, table: string, n: number): Promise<Row[]> {
  let rows: Row[] = [];
  for (let i = 0; i < 150; i++) {
    rows = await db.query(`SELECT * FROM ${table} ORDER BY setup_at`);
    if (rows.length >= n) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${table} holds ${rows.length} rows, not ${n}\n${db.log()}`);
}

test('50 calls through npm start: one row per call in the table the gateway created (at the latest schema version), the same records as the log lines and the JSON-lines file', { timeout: 60_000 }, async (t) => {
  const db = await startPostgres(t);
  const { gw, sipPort, dir } = await gateway(t, db, { workers: 1, table: 'cdr' });
  const ok = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 40, rate: 40, timeoutSec: 20 });
  assert.equal(ok.stats.successful, 40, ok.errors.slice(0, 1200));
  const refused = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '999', calls: 10, rate: 40, timeoutSec: 20 });
  assert.equal(refused.stats.successful, 0, 'no dial peer for 999: every call refused');
  await gw.waitFor(() => cdrLines(gw.lines).length >= 50, 10_000);
  const rows = await rowsOf(db, 'cdr', 50);

  const logged = cdrLines(gw.lines);
  assert.equal(rows.length, 50);
  assert.deepEqual(rows.map((r) => r.id).sort(), logged.map((c) => c.id).sort(), 'each log line\'s record is one row, by id');
  assert.deepEqual(rows.map((r) => r.call_id).sort(), logged.map((c) => c.callId).sort(), 'and by Call-ID');
  const file = readCdrFile(dir);
  assert.deepEqual(file.map((c) => c.id).sort(), logged.map((c) => c.id).sort(), 'the JSON-lines file has the same 50 records');

  const answered = rows.filter((r) => r.status === 200);
  assert.equal(answered.length, 40);
  for (const r of answered) {
    assert.deepEqual({
      calling: r.calling_number, called: r.called_number, src: r.source_address, tin: r.transport_in, listener: r.listener, tenantIn: r.tenant_in,
      tenantOut: r.tenant_out, dialPeer: r.dial_peer, tout: r.transport_out, attempts: r.attempts, cause: r.cause, by: r.released_by,
      targets: (r.targets as Array<{ outcome: string; status: number }>).map((x) => `${x.outcome} ${x.status}`),
    }, {
      calling: 'sipp', called: '3001', src: '127.0.0.1', tin: 'udp', listener: `127.0.0.1:${sipPort}`, tenantIn: 'pbx',
      tenantOut: 'far', dialPeer: 'far-end', tout: 'udp', attempts: 1, cause: 'normal', by: 'caller', targets: ['answered 200'],
    });
    assert.match(String(r.destination), /^sip:3001@127\.0\.0\.1:\d+$/);
    const [setup, answer, end] = [r.setup_at, r.answer_at, r.end_at].map((d) => (d as Date).getTime());
    assert.ok(setup! <= answer! && answer! <= end!, `times in order: ${setup} ${answer} ${end}`);
    assert.equal(Number(r.duration_ms), end! - answer!);
    assert.equal(r.media, null, 'media flowed around the gateway: no rtpengine figures');
  }
  const noRoute = rows.filter((r) => r.status === 404);
  assert.equal(noRoute.length, 10);
  for (const r of noRoute) {
    assert.deepEqual([r.called_number, r.cause, r.released_by, r.dial_peer, r.attempts, r.answer_at], ['999', 'no-route', 'gateway', null, 0, null]);
    assert.match(String(r.reason), /^SIP;cause=404;text="No route: no dial peer for 999 from tenant pbx"$/);
    assert.equal(r.reason_in, r.reason);
  }
  assert.deepEqual(await db.query('SELECT table_name, version FROM trunkgate_schema_version'), [{ table_name: 'cdr', version: SCHEMA_VERSION }]);
});

test('workers: 2: the worker app\'s CDRs reach the main thread\'s sink; every call of both apps is one row', { timeout: 60_000 }, async (t) => {
  const db = await startPostgres(t);
  const { gw, sipPort } = await gateway(t, db, { workers: 2, table: 'calls_two' });
  const run = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3002', calls: 40, rate: 40, timeoutSec: 20 });
  assert.equal(run.stats.successful, 40, run.errors.slice(0, 1200));
  await gw.waitFor(() => cdrLines(gw.lines).length >= 40, 10_000);
  const apps = new Set(gw.lines.filter((l) => l.msg === 'cdr').map((l) => (typeof l.app === 'number' ? l.app : 0)));
  assert.deepEqual([...apps].sort(), [0, 1], 'both apps took calls');
  const rows = await rowsOf(db, 'calls_two', 40);
  assert.equal(rows.length, 40);
  assert.deepEqual(rows.map((r) => r.id).sort(), cdrLines(gw.lines).map((c) => c.id).sort());
  assert.ok(rows.every((r) => r.status === 200 && r.tenant_in === 'pbx' && r.dial_peer === 'far-end' && r.called_number === '3002'));
  assert.deepEqual(await db.query('SELECT table_name, version FROM trunkgate_schema_version'), [{ table_name: 'calls_two', version: SCHEMA_VERSION }]);
});

test('a record holding NUL (numbers, identities, targets, media) is one row: the sink drops the NUL, PostgreSQL refuses nothing', { timeout: 60_000 }, async (t) => {
  const db = await startPostgres(t);
  const dir = mkdtempSync(join(tmpdir(), 'tg-cdr-nul-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sink = new PostgresSink({
    connection: { host: db.host, port: db.port, database: db.database, user: db.user }, table: 'cdr', batchSize: 1, flushMs: 10,
    queueDir: join(dir, 'q'), maxQueueBytes: 1_000_000, log: pino({ level: 'silent' }),
  });
  await sink.start();
  t.after(() => sink.close());
  // Connected means migrated: the table is there.
  for (let i = 0; i < 150 && !sink.stats().connected; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(sink.stats().connected, true, db.log());
  const leg = { packets: 1, bytes: 2, errors: 0, rtcpPackets: 0, lost: null, lossPercent: null, jitterMs: null, mos: null };
  const record: CdrRecord = {
    id: '00000000-0000-4000-8000-00000000000a', callId: 'nul-1@x', callingNumber: '5551234\u0000\u001b[2J', calledNumber: '2125551234',
    sourceAddress: '127.0.0.1', sourcePort: 5060, transportIn: 'udp', listener: '127.0.0.1:5060', tenantIn: 'pbx', identities: ['dns:a\u0000b'],
    identityOrigin: 'tls', peerIdentity: null, tlsPeer: null, tlsVersion: null, tlsCipher: null, category: null, dialPeer: 'far', tenantOut: 'far',
    transportOut: 'udp', destination: 'sip:2125551234@127.0.0.1:5080', tlsVersionOut: null, tlsCipherOut: null, identitiesOut: [], attempts: 1,
    targets: [{ dialPeer: 'far', tenant: 'far', transport: 'udp', uri: 'sip:2125551234@127.0.0.1:5080', outcome: 'rejected', status: 486, reason: 'busy\u0000', startAt: 1, endAt: 2 }],
    setupAt: 1, answerAt: null, endAt: 3, setupMs: 2, durationMs: 0, status: 486, cause: 'b-leg-486', releasedBy: 'callee',
    reason: null, reasonIn: null, reasonOut: null, byeFailed: 0, media: { a: { ...leg, note: 'x\u0000' }, b: leg } as unknown as CdrRecord['media'],
  };
  sink.write(record);
  const rows = await rowsOf(db, 'cdr', 1);
  assert.deepEqual([rows[0]!.calling_number, rows[0]!.identities, (rows[0]!.targets as Array<{ reason: string }>)[0]!.reason, (rows[0]!.media as { a: { note: string } }).a.note],
    ['5551234\u001b[2J', ['dns:ab'], 'busy', 'x']);
  assert.deepEqual([sink.stats().inserted, sink.stats().rejected], [1, 0], 'inserted, not set aside as ERR_CDR_DB_REJECTED');
  await sink.close();
});
