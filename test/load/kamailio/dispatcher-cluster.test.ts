// Three gateways behind one kamailio with the dispatcher module, as the `cluster` profile of docker-compose.yml
// runs them, each started as `npm start` starts it (own profiles, ports, CDR file) on loopback:
//   sipp UAC (the carrier) → kamailio (ds_select_dst round-robin, OPTIONS probes every second, failover to the
//   next gateway on 5xx/408) → gateway 1..3 → sipp UAS (the PBX).
// Counts decide every step; waits are bounded loops on a condition (a CDR count, a dispatcher event line).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { kamailioVersion, startKamailio, type KamailioProcess } from '../../support/kamailio.js';
import { freePort, runSipp, startSipp, startSippUas } from '../../support/sipp.js';
import { profilesDir, startTrunkgate, type TrunkgateProcess } from '../../support/trunkgate-process.js';

interface Gateway { port: number; dir: string; proc: TrunkgateProcess }

const ready = (l: Record<string, unknown>): boolean => l.code === 'EVT_GATEWAY_READY';
const cdrs = (g: Gateway): Array<Record<string, unknown>> =>
  g.proc.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);

async function until(what: string, done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done(); await new Promise((ok) => setTimeout(ok, 50))) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

function gatewayYaml(port: number, adminPort: number, uasPort: number): string {
  return `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${port} }]
  defaultTenant: carrier
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  shutdown: { drainSeconds: 20 }
tenants:
  pbx: { transport: udp, sipServer: 127.0.0.1:${uasPort} }
  carrier:
    transport: udp
    trustedSources: [127.0.0.1/32]
    proxyIdentity: { header: X-Carrier-Identity, trustedFrom: [127.0.0.1/32] }
dialPeers:
  - { id: to-pbx, destinationPattern: "^2\\\\d{3}$", tenant: pbx, from: [carrier] }
`;
}

async function cluster(t: TestContext): Promise<{ gws: Gateway[]; kam: KamailioProcess; uasPort: number }> {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const gws: Gateway[] = [];
  for (let i = 0; i < 3; i++) {
    const [port, admin] = [await freePort(), await freePort()];
    const dir = profilesDir(t, gatewayYaml(port, admin, uas.port));
    gws.push({ port, dir, proc: await startTrunkgate(t, dir, { ready }) });
  }
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }],
    route: { kind: 'dispatcher', pingIntervalSeconds: 1, destinations: gws.map((g) => ({ host: '127.0.0.1', port: g.port, transport: 'udp' })) },
    frTimerMs: 1500,
  });
  t.after(() => kam.stop());
  return { gws, kam, uasPort: uas.port };
}

const dsEvents = (kam: KamailioProcess, kind: 'down' | 'up', port: number): number =>
  kam.logs().split('\n').filter((l) => l.includes(`tg-ds-${kind} `) && l.includes(`:${port}`)).length;

test(`three gateways behind kamailio ${kamailioVersion()}'s dispatcher: spread, SIGKILL of one, a rolling upgrade by SIGTERM`, { timeout: 180_000 }, async (t) => {
  const { gws, kam } = await cluster(t);
  const remote = `127.0.0.1:${kam.port('udp')}`;
  const [a, b, c] = gws as [Gateway, Gateway, Gateway];

  // 1. Spread: round-robin sends 30 calls to all three.
  const first = await runSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '2001', calls: 30, rate: 20, timeoutSec: 30 });
  assert.equal(first.stats.successful, 30, first.errors.slice(0, 500));
  await until('30 CDRs', () => gws.reduce((n, g) => n + cdrs(g).length, 0) >= 30, 10_000);
  const spread = gws.map((g) => cdrs(g).length);
  for (const n of spread) assert.ok(n > 0, `every gateway took calls: ${spread}`);
  t.diagnostic(`spread of 30 calls: ${spread.join('/')}`);

  // 2. SIGKILL of b while 9 long calls are up (three on each): a's and c's finish normally, only b's fail.
  const long = await startSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '2001', calls: 9, rate: 50, pauseMs: 4000, timeoutSec: 30 });
  const before = gws.map((g) => cdrs(g).length);
  await until('9 long calls sent', () => kam.requests().filter((r) => r.method === 'ACK').length >= 39, 10_000);
  const killedAt = Date.now();
  b.proc.child.kill('SIGKILL');
  await until('kamailio took b out', () => dsEvents(kam, 'down', b.port) > 0, 15_000);
  t.diagnostic(`b marked down by the probes ${Date.now() - killedAt} ms after SIGKILL`);
  const held = await long.exited;
  await until('a and c wrote their long calls', () => cdrs(a).length + cdrs(c).length >= before[0]! + before[2]! + held.stats.successful, 10_000);
  assert.equal(held.stats.successful, 6, `only b's three calls fail: ${JSON.stringify(held.stats)}`);
  for (const g of [a, c]) assert.ok(cdrs(g).slice(before[gws.indexOf(g)]).every((r) => r.status === 200 && r.releasedBy === 'caller'));

  // 3. New calls after the probe took b out: all succeed, on a and c only.
  const after = await runSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '2001', calls: 20, rate: 20, timeoutSec: 30 });
  assert.equal(after.stats.successful, 20, after.errors.slice(0, 500));
  assert.equal(after.stats.failed, 0);

  // 4. Rolling upgrade of c: SIGTERM while it holds long calls; new calls get 503 there and kamailio moves them to
  //    a; c's calls in progress finish; c starts again and takes calls again.
  const cBefore = cdrs(c).length;
  const acks = kam.requests().filter((r) => r.method === 'ACK').length;
  const drainCalls = await startSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '2001', calls: 4, rate: 50, pauseMs: 4000, timeoutSec: 30 });
  await until('4 long calls answered', () => kam.requests().filter((r) => r.method === 'ACK').length >= acks + 4, 10_000);
  c.proc.child.kill('SIGTERM');
  await c.proc.waitFor((l) => l.code === 'EVT_GATEWAY_STOPPING', 5_000);
  const during = await runSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '2001', calls: 10, rate: 20, timeoutSec: 30 });
  assert.equal(during.stats.successful, 10, during.errors.slice(0, 500));
  assert.equal(during.stats.failed, 0);
  const drained = await drainCalls.exited;
  assert.equal(drained.stats.successful, 4, `the drain kept c's calls: ${JSON.stringify(drained.stats)}`);
  await until('c stopped', () => c.proc.child.exitCode !== null, 30_000);
  assert.equal(c.proc.child.exitCode, 0);
  assert.ok(cdrs(c).slice(cBefore).some((r) => r.status === 200), 'c finished calls it held');

  // Started again on the same profiles: once a probe finds it answering, kamailio sends it calls again. Batches
  // of calls until one reaches c (at most 20 batches), every call of every batch successful.
  c.proc = await startTrunkgate(t, c.dir, { ready });
  const startedAt = Date.now();
  let batches = 0;
  for (; batches < 20 && cdrs(c).length === 0; batches++) {
    const back = await runSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '2001', calls: 6, rate: 20, timeoutSec: 30 });
    assert.equal(back.stats.successful, 6, back.errors.slice(0, 500));
    if (cdrs(c).length === 0) await new Promise((ok) => setTimeout(ok, 500));
  }
  await until('c took calls again (its CDR can trail sipp\'s exit)', () => cdrs(c).length > 0, 5_000);
  t.diagnostic(`c took calls again ${Date.now() - startedAt} ms after its restart was ready (${batches} batches)`);
});

// The continuous run: 600 calls of 2 s at 40 a second through the three gateways without a pause between
// events. A third of the way in c gets SIGTERM (a rolling upgrade: its calls in progress finish, its 503s send new
// calls elsewhere); two thirds in b gets SIGKILL (a crash: only the calls b was holding may fail; calls sent to it
// before the probes take it out time out at kamailio's fr_timer and go to a). Counts decide; the figures are printed.
test(`600 calls in one run through three gateways behind kamailio ${kamailioVersion()}: SIGTERM of one loses no call, SIGKILL of another only the calls it held`, { timeout: 180_000 }, async (t) => {
  const { gws, kam } = await cluster(t);
  const remote = `127.0.0.1:${kam.port('udp')}`;
  const [a, b, c] = gws as [Gateway, Gateway, Gateway];
  const acked = (): Set<string> => new Set(kam.requests().filter((r) => r.method === 'ACK').map((r) => r.callId));
  // Where kamailio sent each call's INVITE, in order (tg-ds-relay lines, one per try); a call's gateway is its last.
  const relays = (): Array<{ callId: string; port: number }> => [...kam.logs().matchAll(/tg-ds-relay method=INVITE du=sip:[^:]+:(\d+)\S* callid=(\S+)/g)]
    .map((m) => ({ port: Number(m[1]), callId: m[2]! }));
  const callsOf = (port: number): Set<string> => {
    const last = new Map(relays().map((x) => [x.callId, x.port]));
    return new Set([...last].filter(([, p]) => p === port).map(([id]) => id));
  };
  // Taken out: kamailio relays no new INVITE to the port for 2 s while calls still arrive at 40 a second (a failed
  // INVITE or a failed probe marks the destination; the probes' dst-down event only follows the latter). The time
  // from `since` to the last INVITE it relayed there.
  const takenOut = async (port: number, since: number): Promise<number> => {
    const invites = (): number => relays().filter((x) => x.port === port).length;
    let seen = invites();
    let last = since;
    await until(`kamailio stopped sending INVITEs to ${port}`, () => {
      const n = invites();
      if (n !== seen) [seen, last] = [n, Date.now()];
      return Date.now() - last >= 2_000;
    }, 20_000);
    return last - since;
  };
  const run = await startSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '2001', calls: 600, rate: 40, pauseMs: 2000, timeoutSec: 90 });

  await until('200 calls answered', () => acked().size >= 200, 30_000);
  const spreadAtTerm = gws.map((g) => callsOf(g.port).size);
  const termAt = Date.now();
  c.proc.child.kill('SIGTERM');
  const cDownMs = await takenOut(c.port, termAt);

  await until('400 calls answered', () => acked().size >= 400, 30_000);
  const killAt = Date.now();
  b.proc.child.kill('SIGKILL');
  const bDownMs = await takenOut(b.port, killAt);

  const r = await run.exited;
  await until('c stopped after its drain', () => c.proc.child.exitCode !== null, 30_000);
  assert.equal(c.proc.child.exitCode, 0, 'c drained and stopped cleanly');
  // b's calls in progress when it died: answered through b, without a CDR from b (b writes one as a call ends).
  const bEnded = new Set(cdrs(b).map((x) => x.callId as string));
  const bHeld = [...callsOf(b.port)].filter((id) => !bEnded.has(id)).length;
  // c drained: every call c answered has its CDR, answered and ended by the caller.
  const cCdrs = new Map(cdrs(c).map((x) => [x.callId as string, x]));
  const cLost = [...callsOf(c.port)].filter((id) => cCdrs.get(id)?.status !== 200);
  const spread = gws.map((g) => callsOf(g.port).size);
  t.diagnostic(`600 calls: ${r.stats.successful} successful, ${r.stats.failed} failed; answered per gateway a/b/c ${spread.join('/')} (at c's SIGTERM ${spreadAtTerm.join('/')}); last INVITE to c ${cDownMs} ms after its SIGTERM, to b ${bDownMs} ms after its SIGKILL; b held ${bHeld} calls when it died`);
  assert.equal(r.stats.successful + r.stats.failed, 600, JSON.stringify(r.stats));
  assert.deepEqual(cLost, [], 'every call c answered ended normally during its drain');
  for (const n of spreadAtTerm) assert.ok(n > 0, `every gateway took calls before the SIGTERM: ${spreadAtTerm}`);
  assert.ok(r.stats.failed <= bHeld, `only calls b held failed: ${r.stats.failed} failed, b held ${bHeld}; ${r.errors.slice(0, 400)}`);
  assert.ok(cdrs(a).length > spreadAtTerm[0]!, 'a took the calls after both events');
});
