// gateway.workers: the b2bua as several apps on the one engine, as `npm start` runs it (src/main.ts, engine in its
// worker). New calls are spread over every app, each call ends on the app that took it, the admin API's counters
// are the sum of all apps, and an app worker that dies is started again while the others go on taking calls.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ActiveCallRow } from '../../src/b2bua/active-calls.js';
import { runSipp, startSipp, startSippUas } from '../support/sipp.js';
import { startTrunkgate, type LogLine, type TrunkgateProcess } from '../support/trunkgate-process.js';
import { adminStats, adminUp, udpCallProfiles } from '../support/udp-call-rig.js';

interface Stats { b2bua: { attempted: number; connected: number; completed: number; active: number; failedTotal: number } }

const cdrs = (lines: LogLine[]): LogLine[] => lines.filter((l) => l.msg === 'cdr');
/** The app a CDR line came from: worker apps log `app: N`, this thread's app logs none (0). */
const appOf = (l: LogLine): number => (typeof l.app === 'number' ? l.app : 0);

async function gatewayWithApps(t: TestContext, apps: number, env: Record<string, string> = {}): Promise<{ gw: TrunkgateProcess; sipPort: number; adminPort: number; dir: string }> {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const p = await udpCallProfiles(uas.port, '', `workers: ${apps}`);
  t.after(() => p.remove());
  const gw = await startTrunkgate(t, p.dir, {
    env: { NODE_ENV: 'test', ...env },
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  assert.ok(await adminUp(p.adminPort), 'admin API up');
  return { gw, sipPort: p.sipPort, adminPort: p.adminPort, dir: p.dir };
}

test('workers: 3 spreads 60 calls over the three apps; every call completes; /stats sums the apps; a reload reaches every app (new dial peer routed, old number 404 on each)', { timeout: 90_000 }, async (t) => {
  const { gw, sipPort, adminPort, dir } = await gatewayWithApps(t, 3);
  assert.ok(gw.lines.some((l) => l.msg === 'b2bua: 3 apps on the engine (this thread and 2 workers)'), 'the pool said how many apps it runs');
  const run = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 60, rate: 30, timeoutSec: 30 });
  assert.equal(run.stats.successful, 60, run.errors.slice(0, 1200));
  await gw.waitFor(() => cdrs(gw.lines).length >= 60, 10_000);
  const byApp = new Map<number, number>();
  for (const c of cdrs(gw.lines)) byApp.set(appOf(c), (byApp.get(appOf(c)) ?? 0) + 1);
  assert.deepEqual([...byApp.keys()].sort(), [0, 1, 2], `CDRs by app: ${JSON.stringify([...byApp])}`);
  for (const [app, n] of byApp) assert.ok(n >= 10, `app ${app} took ${n} of 60 calls: the engine spreads them round-robin`);
  assert.ok(cdrs(gw.lines).every((c) => (c.cdr as { status?: number }).status === 200));
  // The workers report every 500 ms: wait for the sum to catch up, then it must be exact.
  let s = await adminStats<Stats>(adminPort);
  for (let i = 0; i < 40 && s.b2bua.completed < 60; i++) {
    await new Promise((r) => setTimeout(r, 100));
    s = await adminStats<Stats>(adminPort);
  }
  assert.equal(s.b2bua.attempted, 60);
  assert.equal(s.b2bua.connected, 60);
  assert.equal(s.b2bua.completed, 60);
  assert.equal(s.b2bua.active, 0);
  assert.equal(s.b2bua.failedTotal, 0);
  // One CDR writer for every app: the file sink took all 60, and /metrics says so.
  const cdr = (await adminStats<{ cdr?: { records: number; file?: { written: number; lost: number } } }>(adminPort)).cdr;
  assert.equal(cdr?.records, 60);
  assert.equal(cdr?.file?.written, 60);
  const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  assert.match(metrics, /^trunkgate_cdr_records_total\{sink="file"\} 60$/m);
  assert.match(metrics, /^trunkgate_cdr_lost_total\{sink="file"\} 0$/m);

  // Reload: the dial peer moves from 3xxx to 4xxx; each app must take the new policy.
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('destinationPattern: "^3\\\\d{3}$"', 'destinationPattern: "^4\\\\d{3}$"'));
  assert.match(readFileSync(file, 'utf8'), /\^4\\\\d\{3\}\$/, 'the test changed the dial peer');
  const mark = gw.lines.length;
  gw.child.kill('SIGHUP');
  await gw.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: configuration reloaded'), 10_000, mark);
  const routed = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '4001', calls: 10, rate: 20, timeoutSec: 20 });
  assert.equal(routed.stats.successful, 10, routed.errors.slice(0, 1200));
  const old = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 10, rate: 20, timeoutSec: 20 });
  assert.equal(old.stats.successful, 0);
  await gw.waitFor(() => cdrs(gw.lines).length >= 80, 10_000);
  const byNumber = (n: string) => cdrs(gw.lines).filter((c) => (c.cdr as { calledNumber?: string }).calledNumber === n);
  assert.deepEqual([...new Set(byNumber('4001').map(appOf))].sort(), [0, 1, 2], 'every app routed the new number');
  assert.deepEqual([...new Set(byNumber('3001').filter((c) => (c.cdr as { status?: number }).status === 404).map(appOf))].sort(), [0, 1, 2], 'every app refused the old one');
  assert.equal(byNumber('3001').filter((c) => (c.cdr as { status?: number }).status === 404).length, 10);
});

test('an app worker that stops is logged with ERR_B2BUA_WORKER and started again; calls go on, and its counters do not go back', { timeout: 90_000 }, async (t) => {
  const { gw, sipPort, adminPort } = await gatewayWithApps(t, 2, { TRUNKGATE_TEST_APP_FAULT: 'exit:1500' });
  const before = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 10, rate: 20, timeoutSec: 20 });
  assert.equal(before.stats.successful, 10, before.errors.slice(0, 1200));
  const stopped = await gw.waitFor((l) => l.code === 'ERR_B2BUA_WORKER' && typeof l.msg === 'string' && l.msg.includes('starting it again'), 15_000);
  assert.equal(stopped.line.app, 1);
  assert.equal(stopped.line.exitCode, 3);
  // Back: a second 'b2bua connected' of app 1 after the stop.
  await gw.waitFor((l) => l.msg === 'b2bua connected' && l.app === 1, 15_000, stopped.index);
  const after = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 10, rate: 20, timeoutSec: 20 });
  assert.equal(after.stats.successful, 10, after.errors.slice(0, 1200));
  await gw.waitFor(() => cdrs(gw.lines).length >= 20, 10_000);
  assert.ok(cdrs(gw.lines).slice(10).some((c) => appOf(c) === 1), 'the restarted app takes calls again');
  let s = await adminStats<Stats>(adminPort);
  for (let i = 0; i < 40 && s.b2bua.completed < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    s = await adminStats<Stats>(adminPort);
  }
  assert.equal(s.b2bua.completed, 20, 'the first worker\'s calls still count after its restart');
  assert.equal(s.b2bua.failedTotal, 0);
});

test('an app worker that ends on its own with calls up hands over their CDRs (cause app-lost), and the engine ends their legs with BYE', { timeout: 90_000 }, async (t) => {
  const { gw, sipPort, adminPort, dir } = await gatewayWithApps(t, 2, { TRUNKGATE_TEST_APP_FAULT: 'exit:4000' });
  await gw.waitFor((l) => l.msg === 'b2bua connected' && l.app === 1, 15_000);
  // Four calls that last until someone else hangs up (the scenario waits for a BYE), spread over both apps.
  const uac = await startSipp({ scenario: { file: 'uac-call-callee-bye.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 4, rate: 20, timeoutSec: 30 });
  t.after(() => uac.stop());
  const api = async (method: string, path: string) => {
    const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, { method });
    return (await res.json()) as { calls?: ActiveCallRow[] };
  };
  let calls: ActiveCallRow[] = [];
  for (let i = 0; i < 60 && !(calls.length === 4 && calls.every((c) => c.state === 'connected')); i++) {
    await new Promise((r) => setTimeout(r, 50));
    calls = (await api('GET', '/calls')).calls ?? [];
  }
  assert.equal(calls.length, 4, `calls listed: ${JSON.stringify(calls)}`);
  const held = calls.filter((c) => c.app === 1);
  assert.ok(held.length >= 1 && held.length < 4, `app 1 holds ${held.length} of the 4 calls`);

  await gw.waitFor((l) => l.code === 'ERR_B2BUA_WORKER' && typeof l.msg === 'string' && l.msg.includes('starting it again'), 15_000);
  // The records reach the CDR file through the pool (a stopping thread's own log lines may not make it out).
  const file = join(dir, '..', 'cdr', 'cdr.jsonl');
  const lost = (): Array<Record<string, unknown>> => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n')
    .filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.cause === 'app-lost');
  for (let i = 0; i < 100 && lost().length < held.length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(lost().length, held.length, 'one CDR for each call the stopped app held, no more');
  for (const r of lost()) {
    assert.ok(held.some((h) => h.callIds[0] === r.callId), `${String(r.callId)} was one of app 1's calls`);
    assert.deepEqual([r.status, r.releasedBy, r.reason], [200, 'gateway', 'SIP;cause=503;text="application disconnected"']);
  }
  // The other app's calls go on until the administrator clears them; then every caller has had its BYE.
  for (const c of calls.filter((x) => x.app !== 1)) await api('DELETE', `/calls/${c.id}`);
  const r = await uac.exited;
  assert.equal(r.stats.successful, 4, `every caller got a BYE: ${r.errors.slice(0, 1200)}`);
});
