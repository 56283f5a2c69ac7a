// A registration trunk against kamailio as the carrier's registrar (auth, registrar, usrloc; digest in realm
// carrier.test), trunkgate started as `npm start` starts it:
//   trunkgate → REGISTER (challenged, answered with the tenant's credentials) → kamailio keeps the binding;
//   sipp UAC → kamailio → lookup → the gateway's registered contact → policy (tenant carrier by its contact, the
//   number from To) → sipp UAS; the binding is refreshed before it runs out; a wrong password never registers.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { kamailioVersion, startKamailio, type KamailioProcess } from '../../support/kamailio.js';
import { freePort, runSipp, startSippUas } from '../../support/sipp.js';
import { profilesDir, startTrunkgate, type LogLine, type TrunkgateProcess } from '../../support/trunkgate-process.js';

interface Rig { gw: TrunkgateProcess; kam: KamailioProcess; adminPort: number }

async function rig(t: TestContext, password: string): Promise<Rig> {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }],
    route: { kind: 'registrar', realm: 'carrier.test', users: { trunk1: 's3cret-pw' }, minExpires: 12, callsTo: 'sip:trunk1@carrier.test' },
  });
  t.after(() => kam.stop());
  const [sipPort, adminPort] = [await freePort(), await freePort()];
  const dir = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
  carrier:
    transport: udp
    sipServer: 127.0.0.1:${kam.port('udp')}
    register: { username: trunk1, domain: carrier.test, realm: carrier.test, passwordEnv: TG_TRUNK_PW, expires: 10, retrySeconds: { min: 1, max: 2 } }
dialPeers:
  - { id: did-to-pbx, destinationPattern: "^2\\\\d{3}$", tenant: pbx, from: [carrier] }
`);
  const gw = await startTrunkgate(t, dir, { env: { TG_TRUNK_PW: password }, ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  return { gw, kam, adminPort };
}

interface Registration { tenant: string; state: string; granted?: number; registers: number; lastStatus?: number; aor: string }
async function registrations(adminPort: number): Promise<Registration[]> {
  const r = await fetch(`http://127.0.0.1:${adminPort}/trunks`);
  return ((await r.json()) as { registrations: Registration[] }).registrations;
}

test(`registration trunk against kamailio ${kamailioVersion()} as registrar with digest: registered, called through its binding, refreshed; a wrong password never registers`, { timeout: 60_000 }, async (t) => {
  await t.test('the right password: REGISTER challenged and answered, the binding serves calls to a DID, and it is refreshed', async (tt) => {
    const { gw, kam, adminPort } = await rig(tt, 's3cret-pw');
    const { line } = await gw.waitFor((l) => l.code === 'EVT_REGISTRATION_UP', 15_000);
    assert.equal(line.tenant, 'carrier');
    assert.equal(line.aor, 'sip:trunk1@carrier.test');
    assert.equal(line.granted, 12, 'kamailio raised the 10 s asked for to its min_expires');
    await kam.waitForRequests((seen) => seen.filter((r) => r.method === 'REGISTER').length >= 2, 5_000);
    await kam.waitForLog(/tg-registered aor=sip:trunk1@carrier\.test contact=<sip:trunk1@127\.0\.0\.1:\d+/);

    const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${kam.port('udp')}`, service: '2001', calls: 3, rate: 10, timeoutSec: 20 });
    assert.equal(r.stats.successful, 3, r.errors.slice(0, 300) + kam.logs().split('\n').filter((l) => /tg-|lookup|usrloc|registrar/.test(l)).slice(-12).join('\n') + JSON.stringify(gw.lines.filter((l) => l.msg === 'cdr').slice(0, 1)));
    // A call's record is written when both its legs are released, which may trail sipp's exit.
    await gw.waitFor(() => gw.lines.filter((l: LogLine) => l.msg === 'cdr').length >= 3, 5_000);
    const cdr = gw.lines.filter((l: LogLine) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
    assert.equal(cdr.length, 3);
    for (const c of cdr) assert.deepEqual([c.tenantIn, c.calledNumber, c.dialPeer, c.status], ['carrier', '2001', 'did-to-pbx', 200]);

    // Refreshed before the 12 s run out: a second successful REGISTER on the same binding.
    const before = (await registrations(adminPort))[0]!.registers;
    for (let i = 0; i < 200 && (await registrations(adminPort))[0]!.registers <= before; i++) await new Promise((ok) => setTimeout(ok, 100));
    const after = (await registrations(adminPort))[0]!;
    assert.ok(after.registers > before, 'a refresh went out');
    assert.equal(after.state, 'registered');
    assert.equal(gw.lines.filter((l) => l.code === 'EVT_REGISTRATION_UP').length, 1, 'a refresh is not a new event');
  });

  await t.test('a wrong password: refused, failed, retried with back-off; calls through the registrar find no binding', async (tt) => {
    const { gw, kam, adminPort } = await rig(tt, 'wrong');
    const { line } = await gw.waitFor((l) => l.code === 'EVT_REGISTRATION_DOWN', 15_000);
    assert.equal(line.tenant, 'carrier');
    assert.equal(line.status, 401);
    await kam.waitForRequests((seen) => seen.filter((r) => r.method === 'REGISTER').length >= 4, 10_000);
    const s = (await registrations(adminPort))[0]!;
    assert.equal(s.state, 'failed');
    assert.ok(s.registers >= 2, 'tried again');
    const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${kam.port('udp')}`, service: '2001', calls: 1, rate: 10, timeoutSec: 10 });
    assert.equal(r.stats.successful, 0);
    assert.equal(gw.lines.filter((l) => l.msg === 'cdr').length, 0, 'no call reached the gateway');
  });
});
