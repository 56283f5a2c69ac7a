// The CDR database going away under load: 1,000 calls through `npm start` with CDRs into a real PostgreSQL, the
// database stopped (pg_ctl stop -m fast) for 10 s in the middle and started again. Every CDR must be in the table
// afterwards, by Call-ID, none twice: the batches of the outage went to the on-disk queue and were replayed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCdrFile } from '../support/cdr-file.js';
import { startPostgres } from '../support/postgres.js';
import { startSipp, startSippUas } from '../support/sipp.js';
import { startTrunkgate, type LogLine } from '../support/trunkgate-process.js';
import { udpCallProfiles } from '../support/udp-call-rig.js';

const CALLS = 1000;
const cdrLines = (lines: LogLine[]): Array<Record<string, unknown>> => lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);

test(`${CALLS} calls with PostgreSQL stopped for 10 s in the middle: every CDR is in the table afterwards, by Call-ID, none twice`, { timeout: 240_000 }, async (t) => {
  const db = await startPostgres(t);
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const p = await udpCallProfiles(uas.port, 'maxDialogs: 50000', '', `cdr:
  postgres: { host: ${db.host}, port: ${db.port}, database: ${db.database}, user: ${db.user}, batchSize: 50, flushMs: 250, maxQueueBytes: 67108864 }
`);
  t.after(() => p.remove());
  const gw = await startTrunkgate(t, p.dir, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') });
  await gw.waitFor((l) => l.msg === 'cdr: database connected', 15_000);

  const uac = await startSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${p.sipPort}`, service: '3001', calls: CALLS, rate: 40, timeoutSec: 120 });
  t.after(() => uac.stop());
  // A third of the calls in, the database goes away for 10 s, then comes back while calls go on.
  await gw.waitFor(() => cdrLines(gw.lines).length >= CALLS / 3, 60_000);
  await db.stop();
  const downAt = cdrLines(gw.lines).length;
  await new Promise((r) => setTimeout(r, 10_000));
  await db.start();
  const upAt = cdrLines(gw.lines).length;
  assert.ok(upAt - downAt > 100, `calls went on while the database was down (${downAt} → ${upAt} CDRs)`);

  const result = await uac.exited;
  assert.equal(result.stats.successful, CALLS, result.errors.slice(0, 1200));
  await gw.waitFor(() => cdrLines(gw.lines).length >= CALLS, 30_000);
  await gw.waitFor((l) => l.msg === 'cdr: the on-disk queue is replayed into the database', 60_000);

  // The table: polled until every record is in (or 60 s have passed), then compared with the log lines.
  let rows: Array<{ call_id: string; id: string }> = [];
  for (let i = 0; i < 600 && rows.length < CALLS; i++) {
    rows = await db.query<{ call_id: string; id: string }>('SELECT call_id, id FROM cdr');
    if (rows.length < CALLS) await new Promise((r) => setTimeout(r, 100));
  }
  const logged = cdrLines(gw.lines);
  assert.equal(logged.length, CALLS, 'one cdr line per call');
  const loggedCallIds = logged.map((c) => String(c.callId)).sort();
  assert.equal(new Set(loggedCallIds).size, CALLS, 'each call its own Call-ID');
  assert.equal(rows.length, CALLS, `rows in the table: ${rows.length}\n${db.log()}`);
  assert.equal(new Set(rows.map((r) => r.id)).size, CALLS, 'no record twice');
  assert.deepEqual(rows.map((r) => r.call_id).sort(), loggedCallIds, 'every call\'s CDR by Call-ID, none twice');

  // The outage was real and went through the queue: the sink said the database was lost, and replayed.
  assert.ok(gw.lines.some((l) => l.code === 'ERR_CDR_DB'), 'the loss of the database was logged with its code');
  assert.ok(!gw.lines.some((l) => l.code === 'ERR_CDR_QUEUE_FULL' || l.code === 'ERR_CDR_QUEUE_IO'), 'nothing was refused by the queue');
  // The file sink writes through its own stream: polled as the table is (10 s at most), then compared. A run that
  // crosses midnight UTC has its records in the rotated file and the new one; both are read.
  let file = readCdrFile(p.dir);
  for (let i = 0; i < 100 && file.length < CALLS; i++) {
    await new Promise((r) => setTimeout(r, 100));
    file = readCdrFile(p.dir);
  }
  assert.equal(file.length, CALLS, 'the JSON-lines file has every record too');
  assert.deepEqual(file.map((c) => String(c.callId)).sort(), loggedCallIds, 'the same Call-IDs, none twice');
});
