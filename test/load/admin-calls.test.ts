// show / clear on a running gateway (src/main.ts as `npm start` runs it, two b2bua apps) with sipp on both sides:
// two long calls are listed by GET /calls and by `trunkgate show calls --json` (id, Call-IDs, tenants, numbers,
// state, times, app), one is cleared with `trunkgate clear call ID` and the other with DELETE /calls/:id; both sipp
// sides get the BYE and the CDRs say cause admin. A TCP connection is closed by `trunkgate clear connection --remote`.
// Without the token the API answers 401; unknown ids 404. A call still ringing is listed as ringing, and cleared with
// a CANCEL towards the called side and 480 to the caller.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ADMIN_REASON, type ActiveCallRow } from '../../src/b2bua/active-calls.js';
import { refusedCallScenario } from '../support/refused-call-scenario.js';
import { freePort, startSipp, startSippUas } from '../support/sipp.js';
import { productEntry, repoRoot, startTrunkgate, type LogLine } from '../support/trunkgate-process.js';
import { adminUp } from '../support/udp-call-rig.js';

const TOKEN = 'admin-calls-test-token';

function profiles(t: TestContext, o: { sipPort: number; adminPort: number; farPort: number; bridge?: boolean }): string {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-admin-calls-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'profiles');
  mkdirSync(dir);
  writeFileSync(join(dir, 'gateway.yaml'), `
gateway:
  listen:
    - { transport: udp, host: 127.0.0.1, port: ${o.sipPort} }
    - { transport: tcp, host: 127.0.0.1, port: ${o.sipPort} }
  defaultTenant: pbx
  workers: 2
  admin: { host: 127.0.0.1, port: ${o.adminPort}, tokenEnv: TRUNKGATE_ADMIN_TOKEN }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  limits: { requestsPerSecondPerSource: 0 }
${o.bridge ? '  policy: bridge\n' : ''}tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32]${o.bridge ? `, sipServer: 127.0.0.1:${o.farPort}` : ''} }
  far: { transport: udp, sipServer: 127.0.0.1:${o.farPort} }
dialPeers:
  - { id: far-end, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
`);
  return dir;
}

/** `trunkgate <args>` as an operator types it, with the token in the environment the configuration names. */
async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...productEntry(), ...args], {
    cwd: repoRoot, env: { ...process.env, TRUNKGATE_ADMIN_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const [code] = await once(child, 'exit') as [number | null];
  return { code, stdout, stderr };
}

/** The gateway of these tests on free ports, calling out to `farPort`, with the admin API asked as the operator asks it. */
async function startGateway(t: TestContext, farPort: number, bridge = false) {
  const [sipPort, adminPort] = [await freePort(), await freePort()];
  const dir = profiles(t, { sipPort, adminPort, farPort, bridge });
  const gw = await startTrunkgate(t, dir, {
    env: { NODE_ENV: 'test', TRUNKGATE_ADMIN_TOKEN: TOKEN },
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  assert.ok(await adminUp(adminPort), 'admin API up');
  const api = async (method: string, path: string, token = TOKEN) => {
    const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  return { sipPort, dir, gw, api };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('two long calls are listed, cleared by the CLI and by the API with BYE to both sipp sides and CDR cause admin; a TCP connection is cleared by --remote; 401 without the token, 404 for unknown ids', { timeout: 90_000 }, async (t) => {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, calls: 2 });
  t.after(() => uas.stop());
  const { sipPort, dir, gw, api } = await startGateway(t, uas.port);

  // Two calls that last until someone else hangs up: the callee-bye scenario waits for a BYE (30 s at most).
  const uac = await startSipp({ scenario: { file: 'uac-call-callee-bye.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 2, rate: 20, timeoutSec: 30 });
  t.after(() => uac.stop());
  const listed = await until('two connected calls in GET /calls', async () => {
    const r = await api('GET', '/calls');
    const calls = r.body.calls as ActiveCallRow[];
    return calls.length === 2 && calls.every((c) => c.state === 'connected') ? r.body : undefined;
  });
  const calls = listed.calls as ActiveCallRow[];
  assert.equal(listed.total, 2);
  assert.deepEqual(calls.map((c) => c.app).sort(), [0, 1], 'the list gathers both apps\' calls (the engine spreads calls round-robin)');
  for (const c of calls) {
    assert.match(c.id, new RegExp(`^${c.app}-[0-9a-f]{8}$`));
    assert.equal(c.state, 'connected');
    assert.equal(c.callIds.length, 2, 'A-leg and B-leg Call-IDs');
    assert.match(c.callIds[0]!, /@127\.0\.0\.1$/, 'the A leg\'s Call-ID is sipp\'s');
    assert.notEqual(c.callIds[0], c.callIds[1]);
    assert.deepEqual([c.tenantIn, c.tenantOut, c.dialPeer, c.callingNumber, c.calledNumber], ['pbx', 'far', 'far-end', 'sipp', '3001']);
    assert.ok(c.answerAt !== null && c.startAt <= c.answerAt && c.durationMs >= 0, JSON.stringify(c));
  }

  const unauthorized = await api('GET', '/calls', '');
  assert.equal(unauthorized.status, 401);
  assert.equal(unauthorized.body.code, 'ERR_ADMIN_UNAUTHORIZED');
  assert.equal((await api('DELETE', `/calls/${calls[0]!.id}`, 'wrong')).status, 401);

  const shown = await cli(['show', 'calls', '--json', '--profiles', dir]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual((JSON.parse(shown.stdout) as { calls: ActiveCallRow[] }).calls.map((c) => c.id).sort(), calls.map((c) => c.id).sort());

  const onWorker = calls.find((c) => c.app === 1)!;
  const onMain = calls.find((c) => c.app === 0)!;
  const cleared = await cli(['clear', 'call', onWorker.id, '--profiles', dir]);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.match(cleared.stdout, new RegExp(`^call ${onWorker.id} \\(sipp -> 3001, Call-ID .*, app 1\\): BYE sent on both legs`));
  const deleted = await api('DELETE', `/calls/${onMain.id}`);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  const again = await api('DELETE', `/calls/${onMain.id}`);
  assert.equal(again.status, 404);
  assert.equal(again.body.code, 'ERR_ADMIN_CALL_NOT_FOUND');

  // The CDRs: one per call, cause admin, our BYE with its Reason on both legs, neither BYE failed.
  const adminCdrs = (): LogLine[] => gw.lines.filter((l) => l.msg === 'cdr' && (l.cdr as { cause?: string }).cause === 'admin');
  await gw.waitFor(() => adminCdrs().length >= 2, 10_000);
  for (const l of adminCdrs()) {
    const cdr = l.cdr as { status: number; releasedBy: string; reasonIn: string; reasonOut: string; byeFailed: number; callId: string };
    assert.deepEqual([cdr.status, cdr.releasedBy, cdr.reasonIn, cdr.reasonOut, cdr.byeFailed], [200, 'gateway', ADMIN_REASON, ADMIN_REASON, 0]);
  }
  assert.deepEqual(adminCdrs().map((l) => (l.cdr as { callId: string }).callId).sort(), calls.map((c) => c.callIds[0]).sort());

  // A TCP connection from a far end, closed by its remote address.
  const sock = net.connect({ host: '127.0.0.1', port: sipPort });
  await once(sock, 'connect');
  const closed = once(sock, 'close');
  sock.on('error', () => undefined);
  const remote = `127.0.0.1:${sock.localPort}`;
  const hasConn = async () => ((await api('GET', '/connections')).body.connections as Array<{ id: string; remotePort: number }>).find((c) => c.remotePort === sock.localPort);
  const conn = await until('the connection in GET /connections', hasConn);
  const dropped = await cli(['clear', 'connection', '--remote', remote, '--profiles', dir]);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.equal(dropped.stdout.trim(), `connection ${conn.id} (tcp inbound ${remote}) closed`);
  await closed;
  assert.equal(await hasConn(), undefined, 'the connection left the table');
  assert.ok(gw.lines.some((l) => typeof l.msg === 'string' && l.msg.includes(`connection ${conn.id} with ${remote} closed by the administrator`)), 'the engine logged the close');
  const unknownConn = await api('DELETE', `/connections/${conn.id}`);
  assert.equal(unknownConn.status, 404);
  assert.equal(unknownConn.body.code, 'ERR_ADMIN_CONNECTION_NOT_FOUND');

  // An app worker reports its counters every 500 ms (app-worker.ts), so the worker's call shows once its next report is in.
  const endedByAdmin = async () => {
    const s = await api('GET', '/stats');
    return (s.body.b2bua as { endedByGateway: Record<string, number> }).endedByGateway['admin'] === 2 ? s : undefined;
  };
  const stats = await until('both cleared calls in /stats', endedByAdmin);
  assert.deepEqual(stats.body.admin, { 'clear-call': { done: 2, 'not-found': 1, conflict: 0 }, 'clear-connection': { done: 1, 'not-found': 1, conflict: 0 } });
  assert.deepEqual((stats.body.b2bua as { endedByGateway: Record<string, number> }).endedByGateway, { admin: 2 });

  // The far ends' verdicts: each sipp ends its two calls by itself, each having received the BYE.
  const [a, b] = await Promise.all([uac.exited, uas.exited]);
  assert.equal(a.stats.successful, 2, `caller side: ${a.errors.slice(0, 800)}`);
  assert.equal(b.stats.successful, 2, `called side: ${b.errors.slice(0, 800)}`);
});

for (const bridge of [false, true]) {
test(`${bridge ? 'policy bridge: ' : ''}a ringing call is listed as ringing and cleared by DELETE: CANCEL to the called sipp, 480 with the Reason to the calling one, CDR cause admin`, { timeout: 60_000 }, async (t) => {
  const uas = await startSippUas({ scenario: { file: 'uas-ring-cancel.xml' }, calls: 1 });
  t.after(() => uas.stop());
  const { sipPort, dir, gw, api } = await startGateway(t, uas.port, bridge);
  const scenarios = mkdtempSync(join(tmpdir(), 'trunkgate-ringing-'));
  t.after(() => rmSync(scenarios, { recursive: true, force: true }));
  const refused = refusedCallScenario(scenarios, 480, /SIP;cause=480;text="Call cleared by the administrator"$/);
  const uac = await startSipp({ scenario: { file: refused }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 1, rate: 1, timeoutSec: 30 });
  t.after(() => uac.stop());

  const ringing = await until('a ringing call in GET /calls', async () => {
    const calls = (await api('GET', '/calls')).body.calls as ActiveCallRow[];
    return calls.find((c) => c.state === 'ringing');
  });
  // The plain bridge knows no tenants.
  assert.deepEqual([ringing.answerAt, ringing.durationMs, ringing.tenantIn, ringing.calledNumber], [null, 0, bridge ? null : 'pbx', '3001']);
  const shown = await cli(['show', 'calls', '--profiles', dir]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`${ringing.id}\\s+\\d\\s+ringing\\s`));

  const deleted = await api('DELETE', `/calls/${ringing.id}`);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  assert.equal(deleted.body.state, 'ended');
  // The far ends' verdicts: the called side got the CANCEL (and sent 487), the caller got 480 with the Reason.
  const [a, b] = await Promise.all([uac.exited, uas.exited]);
  assert.equal(a.stats.successful, 1, `caller side: ${a.errors.slice(0, 800)}`);
  assert.equal(b.stats.successful, 1, `called side: ${b.errors.slice(0, 800)}`);
  const cdr = gw.lines.find((l) => l.msg === 'cdr')?.cdr as { status: number; cause: string; releasedBy: string; reason: string } | undefined;
  assert.deepEqual(cdr && [cdr.status, cdr.cause, cdr.releasedBy, cdr.reason], [480, 'admin', 'gateway', 'SIP;cause=480;text="Call cleared by the administrator"']);
  assert.equal(((await api('GET', '/calls')).body.calls as ActiveCallRow[]).length, 0);
});
}
