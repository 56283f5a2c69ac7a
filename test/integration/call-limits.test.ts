// A dial peer's maxCalls on the product's own entry (src/main.ts, as `npm start` runs it), with sipp on both sides:
// two calls held up connect, a third gets 503 with the Reason naming the dial peer and its limit (and its CDR says
// call-limit), and once the two have ended a new call connects. /stats shows the calls held against the limit. With
// two b2bua apps (gateway.workers 2) the limit holds for the gateway, not for each app.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedCallScenario } from '../support/refused-call-scenario.js';
import { startSippGatewayRig } from '../support/sipp-gateway-rig.js';
import { runSipp, startSipp } from '../support/sipp.js';

interface Stats {
  b2bua: { policy?: { skippedAtLimit: number; refusedAtTargetLimit: number; callLimits?: { dialPeers: Record<string, { calls: number; max: number }> } } };
}

test('a dial peer with maxCalls 2: two calls up, the third gets 503 with the Reason, and a call after those two end connects', async (t) => {
  const { gw, dir, remote, admin } = await startSippGatewayRig(t, {
    token: { env: 'CALL_LIMITS_TEST_TOKEN', value: 'call-limits-token' },
    sections: 'dialPeers:\n  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx], maxCalls: 2 }\n',
  });
  const stats = async (): Promise<Stats> => (await admin<Stats>('/stats')).body;
  const held = async (): Promise<number | undefined> => (await stats()).b2bua.policy?.callLimits?.dialPeers.far?.calls;
  const until = async (calls: number, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while ((await held()) !== calls) {
      assert.ok(Date.now() < deadline, `the dial peer held ${await held()} calls, not ${calls}, after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  // Two calls that stay up for 2 s (the caller's BYE after the pause).
  const up = await startSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '3001', calls: 2, rate: 20, limit: 2, pauseMs: 2_000, timeoutSec: 15 });
  t.after(() => up.stop());
  await until(2, 5_000);
  assert.deepEqual((await stats()).b2bua.policy?.callLimits?.dialPeers, { far: { calls: 2, max: 2 } });

  const refused = await runSipp({
    scenario: { file: refusedCallScenario(dir, 503, /SIP;cause=503;text="Dial peer far at its call limit \(2 calls\)"$/) },
    remote, service: '3002', calls: 1, timeoutSec: 10,
  });
  assert.equal(refused.stats.successful, 1, `the third call got 503 with the Reason: ${refused.errors}${refused.stderr}`);
  assert.equal(refused.exitCode, 0);

  const first = await up.exited;
  assert.equal(first.stats.successful, 2, `both held calls connected and ended: ${first.errors}${first.stderr}`);
  await until(0, 5_000);
  const after = await runSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '3003', calls: 1, pauseMs: 100, timeoutSec: 10 });
  assert.equal(after.stats.successful, 1, `a new call connects once the two ended: ${after.errors}${after.stderr}`);

  const s = await stats();
  assert.equal(s.b2bua.policy?.refusedAtTargetLimit, 1);
  assert.equal(s.b2bua.policy?.skippedAtLimit, 1);
  // The last call's record follows its B leg's BYE, which may come after sipp's caller has seen its own 200.
  const records = () => gw.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as { cause: string; status: number; reason: string | null });
  for (let i = 0; i < 100 && records().length < 4; i++) await new Promise((r) => setTimeout(r, 50));
  const cdrs = records();
  assert.deepEqual(cdrs.map((c) => c.cause).sort(), ['call-limit', 'normal', 'normal', 'normal']);
  const limited = cdrs.find((c) => c.cause === 'call-limit')!;
  assert.equal(limited.status, 503);
  assert.equal(limited.reason, 'SIP;cause=503;text="Dial peer far at its call limit (2 calls)"');
  assert.ok(gw.lines.some((l) => l.code === 'ERR_B2BUA_CALL_LIMIT'), 'the refusal has its coded line');
});

test('with two b2bua apps a dial peer\'s maxCalls 3 holds for the gateway: three calls up over both apps, the fourth gets 503', async (t) => {
  const { dir, remote, admin } = await startSippGatewayRig(t, {
    token: { env: 'CALL_LIMITS_APPS_TEST_TOKEN', value: 'call-limits-apps-token' },
    gateway: '  workers: 2\n',
    sections: 'dialPeers:\n  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx], maxCalls: 3 }\n',
  });
  const held = async (): Promise<number | undefined> => (await admin<Stats>('/stats')).body.b2bua.policy?.callLimits?.dialPeers.far?.calls;
  // Three calls held up for 3 s: the engine gives new calls to the two apps in turn, so one app holds two and the
  // other one. With a share per app (ceil(3 / 2) = 2 each) the next call, given to the app holding one, would connect.
  const up = await startSipp({ scenario: { file: 'uac-call.xml' }, remote, service: '3001', calls: 3, rate: 20, limit: 3, pauseMs: 3_000, timeoutSec: 15 });
  t.after(() => up.stop());
  const deadline = Date.now() + 5_000;
  while ((await held()) !== 3) {
    assert.ok(Date.now() < deadline, `the dial peer held ${await held()} calls, not 3`);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const service of ['3002', '3003']) {
    const refused = await runSipp({
      scenario: { file: refusedCallScenario(dir, 503, /SIP;cause=503;text="Dial peer far at its call limit \(3 calls\)"$/) },
      remote, service, calls: 1, timeoutSec: 10,
    });
    assert.equal(refused.stats.successful, 1, `call ${service} got 503 with the Reason, whichever app took it: ${refused.errors}${refused.stderr}`);
  }
  const first = await up.exited;
  assert.equal(first.stats.successful, 3, `the three held calls connected and ended: ${first.errors}${first.stderr}`);
});
