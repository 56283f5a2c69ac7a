// gateway.workers: the b2bua as several apps on the one engine, as `npm start` runs it (src/main.ts, engine in its
// worker). New calls are spread over every app, each call ends on the app that took it, the admin API's counters
// are the sum of all apps, and an app worker that dies is started again while the others go on taking calls.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ActiveCallRow } from '../../src/b2bua/active-calls.js';
import { runSipp, startSipp, startSippUas } from '../support/sipp.js';
import { startTrunkgate, type LogLine, type TrunkgateProcess } from '../support/trunkgate-process.js';
import { adminStats, adminUp, udpCallProfiles } from '../support/udp-call-rig.js';
import { refusedCallScenario } from '../support/refused-call-scenario.js';
import { readCdrFile } from '../support/cdr-file.js';

interface Stats { b2bua: { attempted: number; connected: number; completed: number; active: number; failedTotal: number } }

const cdrs = (lines: LogLine[]): LogLine[] => lines.filter((l) => l.msg === 'cdr');
/** The app a CDR line came from: worker apps log `app: N`, this thread's app logs none (0). */
const appOf = (l: LogLine): number => (typeof l.app === 'number' ? l.app : 0);

/** `dialPeers`: more dial-peer lines after the one to the answering sipp (`far-end`, numbers 3xxx). */
async function gatewayWithApps(t: TestContext, apps: number, env: Record<string, string> = {}, dialPeers = ''): Promise<{ gw: TrunkgateProcess; sipPort: number; adminPort: number; dir: string }> {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const p = await udpCallProfiles(uas.port, '', `workers: ${apps}`, dialPeers);
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

/**
 * App worker 1 goes with calls up and ringing: `exit` ends it on its own (its exit handler hands over the records),
 * `terminate` stops it from outside with no handler run, as a worker out of memory goes (the pool writes the records
 * from its copy of the worker's call list).
 */
async function appLost(t: TestContext, fault: 'exit' | 'terminate'): Promise<void> {
  // Numbers 4xxx go to a called side that rings until it is cancelled.
  const ringer = await startSippUas({ scenario: { file: 'uas-ring-cancel.xml' }, calls: 4 });
  t.after(() => ringer.stop());
  const ringPeer = `  - { id: ringing, destinationPattern: "^4\\\\d{3}$", tenant: far, from: [pbx], sipServer: 127.0.0.1:${ringer.port} }\n`;
  const { gw, sipPort, adminPort, dir } = await gatewayWithApps(t, 2, { TRUNKGATE_TEST_APP_FAULT: `${fault}:6000` }, ringPeer);
  await gw.waitFor((l) => l.msg === 'b2bua connected' && l.app === 1, 15_000);
  const api = async (method: string, path: string) => {
    const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, { method });
    return (await res.json()) as { calls?: ActiveCallRow[] };
  };
  let calls: ActiveCallRow[] = [];
  const count = (state: string): number => calls.filter((c) => c.state === state).length;
  const listed = async (connected: number, ringing: number): Promise<void> => {
    for (let i = 0; i < 60 && !(count('connected') === connected && count('ringing') === ringing); i++) {
      await new Promise((r) => setTimeout(r, 50));
      calls = (await api('GET', '/calls')).calls ?? [];
    }
    assert.deepEqual([count('connected'), count('ringing')], [connected, ringing], `calls listed: ${JSON.stringify(calls)}`);
  };
  // Four calls that last until someone else hangs up (the scenario waits for a BYE), then four that ring; the engine
  // deals new calls to the apps in turn, so each app holds some of each. A ringing call ends with a 503 and a
  // Reason: the engine's when its app goes, the shutdown's otherwise.
  const uac = await startSipp({ scenario: { file: 'uac-call-callee-bye.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 4, rate: 20, timeoutSec: 30 });
  t.after(() => uac.stop());
  await listed(4, 0);
  const scenarios = mkdtempSync(join(tmpdir(), 'trunkgate-app-lost-'));
  t.after(() => rmSync(scenarios, { recursive: true, force: true }));
  const ringUac = await startSipp({
    scenario: { file: refusedCallScenario(scenarios, 503, /SIP;cause=503;text="(application disconnected|Gateway shutting down)/) },
    remote: `127.0.0.1:${sipPort}`, service: '4001', calls: 4, rate: 20, timeoutSec: 30,
  });
  t.after(() => ringUac.stop());
  await listed(4, 4);
  const held = calls.filter((c) => c.app === 1 && c.state === 'connected');
  const ringing = calls.filter((c) => c.app === 1 && c.state === 'ringing');
  assert.ok(held.length >= 1 && held.length < 4, `app 1 holds ${held.length} of the 4 calls up`);
  assert.ok(ringing.length >= 1 && ringing.length < 4, `app 1 holds ${ringing.length} of the 4 ringing calls`);

  const stopped = (await gw.waitFor((l) => l.code === 'ERR_B2BUA_WORKER' && typeof l.msg === 'string' && l.msg.includes('starting it again'), 15_000)).line;
  // Who wrote the records: the worker's handler, or the pool from its copy, of every call, with nothing left over.
  assert.equal(stopped.recorded, fault === 'exit' ? 0 : held.length + ringing.length, `records written by the pool: ${JSON.stringify(stopped)}`);
  // The records reach the CDR file through the pool (a stopping thread's own log lines may not make it out).
  const lost = (): Array<Record<string, unknown>> => readCdrFile(dir).filter((r) => r.cause === 'app-lost');
  for (let i = 0; i < 100 && lost().length < held.length + ringing.length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(lost().length, held.length + ringing.length, 'one CDR for each call the stopped app held, no more');
  const reason = 'SIP;cause=503;text="application disconnected"';
  for (const r of lost()) {
    const up = held.some((h) => h.callIds[0] === r.callId);
    assert.ok(up || ringing.some((h) => h.callIds[0] === r.callId), `${String(r.callId)} was one of app 1's calls`);
    assert.deepEqual([r.status, r.releasedBy, r.reason], [up ? 200 : 503, 'gateway', reason]);
    assert.deepEqual([r.tenantIn, r.tenantOut, r.dialPeer, r.calledNumber], ['pbx', 'far', up ? 'far-end' : 'ringing', up ? '3001' : '4001']);
    assert.equal(r.answerAt === null, !up, 'answered when up, not when ringing');
  }
  // The other app's calls up go on until the administrator clears them; then every caller has had its BYE.
  for (const c of calls.filter((x) => x.app !== 1 && x.state === 'connected')) await api('DELETE', `/calls/${c.id}`);
  const r = await uac.exited;
  assert.equal(r.stats.successful, 4, `every caller got a BYE: ${r.errors.slice(0, 1200)}`);
  // Its ringing calls get the shutdown's 503; every ringing caller then has its 503 with a Reason, and every called
  // side its CANCEL.
  await gw.stop();
  const [rc, rr] = await Promise.all([ringUac.exited, ringer.exited]);
  assert.equal(rc.stats.successful, 4, `every ringing caller got 503 with a Reason: ${rc.errors.slice(0, 1200)}`);
  assert.equal(rr.stats.successful, 4, `every called side got its CANCEL: ${rr.errors.slice(0, 1200)}`);
}

test('an app worker that ends on its own hands over a CDR for each call it held, up (200) or ringing (503), all cause app-lost; the engine ends the legs', { timeout: 90_000 }, (t) => appLost(t, 'exit'));
test('an app worker terminated from outside (no exit handler runs, as out of memory): the pool writes a CDR for each call it held from its copy of the worker\'s list', { timeout: 90_000 }, (t) => appLost(t, 'terminate'));
