// Overload against trunkgate started as `npm start` starts it (src/main.ts on a profiles dir): sipp offers 9,000
// calls at 1,800 a second, about 1.5 times what the gateway completes on a 2-core machine, UDP on both legs. The
// verdicts are counts: the gateway sheds new INVITEs with 503 and Reason overloaded (at least one episode), every
// call either completes or is shed with a 503 the caller ACKs (no call of the caller fails or times out), and no B
// leg is left without its BYE: every call the far end answered ended with a BYE it answered, and the gateway has no
// leg up afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSipp, startSippUas } from '../support/sipp.js';
import { adminStats, udpCallProfiles } from '../support/udp-call-rig.js';
import { startTrunkgate } from '../support/trunkgate-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// OVERLOAD_CALLS and OVERLOAD_RATE change the run by hand (a faster machine needs a higher rate to be overloaded).
const CALLS = Number(process.env.OVERLOAD_CALLS ?? 9_000);
const RATE = Number(process.env.OVERLOAD_RATE ?? 1_800);

interface OverloadStats {
  shedding: boolean; episodes: number; rejected: number; dropped: number; byCause: Record<string, number>;
  admitShare: number; utilization: number; unansweredInvites: number; receiveQueueBytes: number; receiveQueueMs: number; udpReceiveDrops: number;
}
interface StatsBody {
  engine: { overload: OverloadStats; core?: Record<string, number> };
  b2bua: { connected: number; legsUp: number; active: number };
}

test(`overload: ${CALLS} calls offered at ${RATE}/s are completed or shed with 503, and no B leg is left without its BYE`, { timeout: 240_000 }, async (t) => {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, transport: 'u1', extraArgs: ['-buff_size', String(8 << 20)] });
  t.after(() => uas.stop());
  const profiles = await udpCallProfiles(uas.port);
  t.after(() => profiles.remove());
  const { sipPort, adminPort } = profiles;
  await startTrunkgate(t, profiles.dir, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') });
  const stats = (): Promise<StatsBody> => adminStats<StatsBody>(adminPort);
  const series: string[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const o = (await stats()).engine.overload;
      series.push(`${o.utilization.toFixed(2)}/${o.admitShare.toFixed(2)}/${o.unansweredInvites}/${Math.round(o.receiveQueueBytes / 1024)}K=${Math.round(o.receiveQueueMs)}ms/${o.udpReceiveDrops}`);
      await sleep(250);
    }
  })();
  const run = await runSipp({
    scenario: { file: 'uac-call-shed.xml' }, remote: `127.0.0.1:${sipPort}`, transport: 'u1', service: '3000',
    calls: CALLS, rate: RATE, timeoutSec: 120, extraArgs: ['-buff_size', String(8 << 20)],
  });
  polling = false;
  await poll;
  let s = await stats();
  for (let i = 0; i < 60 && (s.b2bua.legsUp > 0 || s.b2bua.active > 0); i++) {
    await sleep(500);
    s = await stats();
  }
  const far = await uas.stop();
  const o = s.engine.overload;
  t.diagnostic(`caller: ${run.stats.successful} ended, ${run.stats.failed} failed, ${run.stats.retransmissions} retransmissions; `
    + `far end: ${far.stats.successful} calls with their BYE, ${far.stats.failed} failed; gateway: ${s.b2bua.connected} connected, `
    + `overload ${JSON.stringify(o)}`);
  t.diagnostic(`engine utilization/admitted share/unanswered/kernel queue/kernel drops every 250 ms: ${series.join(' ')}`);

  assert.ok(o.episodes >= 1, `the gateway shed load at ${RATE} calls/s (${JSON.stringify(o)})`);
  assert.ok(o.rejected > 0, 'shed INVITEs got 503');
  assert.equal(run.stats.failed, 0, `every call completed or was shed with a 503 it ACKed: ${run.errors.slice(0, 1500)}`);
  assert.equal(run.stats.successful, CALLS);
  assert.equal(far.stats.failed, 0, `no B leg without its BYE: ${far.errors.slice(0, 1500)}`);
  assert.equal(far.stats.successful, s.b2bua.connected, 'every call the gateway connected was torn down at the far end');
  assert.ok(far.stats.successful + o.rejected + o.dropped >= CALLS, 'every offered call was either carried or shed');
  assert.ok(far.stats.successful > 0, 'calls still went through while shedding');
  assert.equal(s.b2bua.legsUp, 0, 'no leg is left up');
});
