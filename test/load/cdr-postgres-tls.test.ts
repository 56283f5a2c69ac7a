// CDRs into PostgreSQL over TLS, as `npm start` writes them: the server takes TLS with a certificate from a test CA,
// the gateway names that CA (a path relative to its gateway.yaml) with verify full, and its session shows in
// pg_stat_ssl; a gateway that trusts another CA never connects, says why once, and queues its records on disk.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { runSipp, startSippUas } from '../support/sipp.js';
import { createTestCa } from '../support/test-certs.js';
import { startTrunkgate, type TrunkgateProcess } from '../support/trunkgate-process.js';
import { adminStats, udpCallProfiles } from '../support/udp-call-rig.js';

async function gateway(t: TestContext, db: TestPostgres, caPem: string): Promise<{ gw: TrunkgateProcess; sipPort: number; adminPort: number }> {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const p = await udpCallProfiles(uas.port, '', '', `cdr:
  postgres: { host: ${db.host}, port: ${db.port}, database: ${db.database}, user: ${db.user}, batchSize: 5, flushMs: 100, tls: { verify: full, ca: db-ca.pem } }
`);
  t.after(() => p.remove());
  writeFileSync(join(p.dir, 'db-ca.pem'), caPem);
  const gw = await startTrunkgate(t, p.dir, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  return { gw, sipPort: p.sipPort, adminPort: p.adminPort };
}

test('the CDR database over TLS: verify full against the configured CA; a wrong CA is refused and its records wait on disk', { timeout: 60_000 }, async (t) => {
  const ca = await createTestCa({ cn: 'db CA' });
  const other = await createTestCa({ cn: 'another CA' });
  t.after(async () => { await ca.cleanup(); await other.cleanup(); });
  const server = await ca.issue({ cn: 'db.test', sans: ['DNS:db.test', 'IP:127.0.0.1'] });
  const db = await startPostgres(t, 'trunkgate', { tls: { cert: server.cert, key: server.key } });

  await t.test('the right CA: connected over TLS, every record a row', async (tt) => {
    const { gw, sipPort } = await gateway(tt, db, ca.cert);
    await gw.waitFor((l) => l.msg === 'cdr: database connected', 15_000);
    const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 10, rate: 20, timeoutSec: 20 });
    assert.equal(r.stats.successful, 10, r.errors.slice(0, 800));
    let rows: Record<string, unknown>[] = [];
    for (let i = 0; i < 100 && rows.length < 10; i++) {
      rows = await db.query('SELECT id FROM cdr');
      if (rows.length < 10) await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.equal(rows.length, 10);
    const ssl = await db.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'trunkgate' AND s.ssl");
    assert.ok(Number(ssl[0]!.n) >= 1, 'the gateway\'s session is encrypted');
    const plain = await db.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'trunkgate' AND NOT s.ssl AND a.pid <> pg_backend_pid()");
    assert.equal(Number(plain[0]!.n), 0, 'no plain session of the gateway');
    await gw.stop();
  });

  await t.test('another CA: not connected, ERR_CDR_DB names the certificate problem, the calls go on and their records are queued', async (tt) => {
    const { gw, sipPort, adminPort } = await gateway(tt, db, other.cert);
    const { line } = await gw.waitFor((l) => l.code === 'ERR_CDR_DB', 15_000);
    assert.match(JSON.stringify(line.err), /certificate/i);
    const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 5, rate: 20, timeoutSec: 20 });
    assert.equal(r.stats.successful, 5, 'calls do not wait for the database');
    let pg: { connected: boolean; queued: number } | undefined;
    for (let i = 0; i < 100; i++) {
      pg = (await adminStats<{ cdr?: { postgres?: { connected: boolean; queued: number } } }>(adminPort)).cdr?.postgres;
      if (pg && pg.queued >= 5) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.equal(pg?.connected, false);
    assert.equal(pg?.queued, 5, 'the five records wait in the on-disk queue');
    assert.equal((await db.query('SELECT id FROM cdr')).length, 10, 'nothing reached the table through an unverified server');
  });
});
