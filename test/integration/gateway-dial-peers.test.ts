import assert from 'node:assert/strict';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { randomSecret, startGateway, type Gateway } from '../../src/gateway.js';
import { planStartup } from '../../src/startup.js';
import { silentLogger } from '../../src/log/index.js';
import type { TrunkStatus } from '../../src/b2bua/index.js';
import { header, sdp, ua, type Ua } from '../support/mini-ua.js';
import { freePort, runSipp, startSippUas, type SippProcess } from '../support/sipp.js';
import { captureLog } from '../support/log-capture.js';

/**
 * The gateway as `npm start` builds it, from a profiles directory: planStartup then startGateway (engine in a
 * worker thread), two UDP trunks each answered by a sipp UAS that also answers OPTIONS pings.
 */
interface Rig {
  gw: Gateway;
  sipPort: number;
  uasA: SippProcess;
  uasB: SippProcess;
  portA: number;
  cdrs: Array<Record<string, unknown>>;
  logs: Array<{ level: number; msg: string }>;
  uac: Ua;
}

const PING_SECONDS = 1;

async function rig(t: TestContext): Promise<Rig> {
  const portA = await freePort();
  const uasA = await startSippUas({ scenario: { file: 'uas-call-options.xml' }, port: portA });
  const uasB = await startSippUas({ scenario: { file: 'uas-call-options.xml' } });
  t.after(() => uasB.stop());
  const sipPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-dialpeers-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'gateway.yaml'), `
gateway:
  domain: gw.test.example
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  trunk-a: { transport: udp, sipServer: 127.0.0.1:${portA}, optionsPing: { intervalSeconds: ${PING_SECONDS} } }
  trunk-b: { transport: udp, sipServer: 127.0.0.1:${uasB.port}, optionsPing: { intervalSeconds: ${PING_SECONDS} } }
dialPeers:
  - { id: a, destinationPattern: "^[2-9]\\\\d{2}[2-9]\\\\d{6}$", tenant: trunk-a, from: [pbx], preference: 1 }
  - { id: b, destinationPattern: "^[2-9]\\\\d{2}[2-9]\\\\d{6}$", tenant: trunk-b, from: [pbx], preference: 2 }
  - { id: intl, destinationPattern: "^(011|\\\\+)", tenant: trunk-b, from: [pbx] }
`);
  const plan = planStartup(root, {}, silentLogger());
  assert.ok(plan.options.policy, 'dial peers configured: the policy pipeline runs');
  const { log, cdrs, lines: logs } = captureLog();
  const gw = await startGateway({
    ...plan.options,
    // The start's warm-up calls are off here: they would add a second or two to a start this test does not time.
    prewarmCalls: 0,
    control: { ...plan.options.control, secret: randomSecret() },
    log,
    logLevel: 'silent',
  });
  t.after(() => gw.close());
  const uac = await ua(t);
  return { gw, sipPort, uasA, uasB, portA, cdrs, logs, uac };
}

/** Waits (bounded) until a trunk reaches `state`, by the monitor's change events. */
async function trunkState(gw: Gateway, server: string, state: 'up' | 'down', limitMs = 15_000): Promise<number> {
  const trunks = gw.b2bua.trunks;
  assert.ok(trunks, 'a tenant pings, so the monitor runs');
  const t0 = Date.now();
  if (trunks.snapshot().trunks.find((x) => x.server === server)?.state === state) return 0;
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${server} not ${state} after ${limitMs} ms`)), limitMs);
    const on = (s: TrunkStatus) => {
      if (s.server === server && s.state === state) {
        clearTimeout(timer);
        trunks.off('change', on);
        ok();
      }
    };
    trunks.on('change', on);
  });
  return Date.now() - t0;
}

let seq = 0;
/** One INVITE from the mini UA; the final response (for status and Reason). */
async function invite(r: Rig, number: string): Promise<string> {
  const n = ++seq;
  const callId = `dialpeers-${process.pid}-${n}`;
  r.uac.send([`INVITE sip:${number}@127.0.0.1:${r.sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bKdp${n};rport`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1:${r.uac.port}>;tag=dp${n}`, `To: <sip:${number}@127.0.0.1:${r.sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${r.uac.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), r.sipPort);
  return r.uac.next(new RegExp(`^SIP/2\\.0 [3-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
}

async function sippCall(r: Rig, number: string, calls = 1) {
  return runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${r.sipPort}`, service: number, calls, rate: 10, timeoutSec: 20 });
}

async function cdrsFor(r: Rig, number: string, n: number): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 200; i++) {
    const found = r.cdrs.filter((c) => c.calledNumber === number);
    if (found.length >= n) return found;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  return r.cdrs.filter((c) => c.calledNumber === number);
}

test('the gateway started from a profiles directory routes by dial peer, refuses by category and route, and fails over when a trunk stops answering pings', async (t) => {
  const r = await rig(t);
  await trunkState(r.gw, `127.0.0.1:${r.portA}`, 'up');

  await t.test('a local number goes to the preferred dial peer (sipp UAS A), end to end', async () => {
    const res = await sippCall(r, '2125551234', 3);
    assert.equal(res.exitCode, 0, res.errors || res.stderr);
    assert.equal(res.stats.successful, 3);
    const c = await cdrsFor(r, '2125551234', 3);
    assert.deepEqual(c.map((x) => `${x.dialPeer}/${x.tenantOut}/${x.status}`), ['a/trunk-a/200', 'a/trunk-a/200', 'a/trunk-a/200']);
  });

  await t.test('an international number is refused 403 with a Reason naming the category', async () => {
    const final = await invite(r, '+442071234567');
    assert.match(final, /^SIP\/2\.0 403 /);
    assert.match(header(final, 'Reason'), /^SIP;cause=403;text="Calls to international numbers are not permitted \(category international: permission international denied to tenant pbx/);
    assert.deepEqual(r.gw.b2bua.stats().policy?.deniedByCategory, { international: 1 });
  });

  await t.test('a number no dial peer matches gets 404', async () => {
    const final = await invite(r, '999');
    assert.match(final, /^SIP\/2\.0 404 /);
    assert.match(header(final, 'Reason'), /cause=404/);
  });

  await t.test('UAS A stops: the ping marks trunk A down, and the next calls go straight to dial peer b', async () => {
    const t0 = Date.now();
    await r.uasA.stop();
    await trunkState(r.gw, `127.0.0.1:${r.portA}`, 'down');
    t.diagnostic(`trunk A found down ${Date.now() - t0} ms after sipp was told to stop (ping interval ${PING_SECONDS} s)`);
    assert.ok(r.logs.some((l) => l.level === 40 && l.msg.includes(`trunk trunk-a 127.0.0.1:${r.portA} is down`)));
    const res = await sippCall(r, '2125550000', 3);
    assert.equal(res.exitCode, 0, res.errors || res.stderr);
    const c = await cdrsFor(r, '2125550000', 3);
    assert.deepEqual(c.map((x) => `${x.dialPeer}/${x.attempts}/${x.status}`), ['b/1/200', 'b/1/200', 'b/1/200'], 'no attempt on the down trunk');
    const s = r.gw.b2bua.stats();
    assert.equal(s.trunks?.wentDown, 1);
    assert.ok((s.policy?.skippedDown ?? 0) >= 3);
  });

  await t.test('a UAS answers on A again: the trunk is up and calls return to dial peer a', async () => {
    const again = await startSippUas({ scenario: { file: 'uas-call-options.xml' }, port: r.portA });
    t.after(() => again.stop());
    await trunkState(r.gw, `127.0.0.1:${r.portA}`, 'up');
    const res = await sippCall(r, '2125559999', 1);
    assert.equal(res.exitCode, 0, res.errors || res.stderr);
    const c = await cdrsFor(r, '2125559999', 1);
    assert.equal(c[0]?.dialPeer, 'a');
    assert.equal(r.gw.b2bua.stats().trunks?.cameUp, 1);
  });
});

