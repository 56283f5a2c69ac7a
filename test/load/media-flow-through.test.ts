// Many flow-through calls with RTP through one rtpengine: every call's CDR counts its own packets each way, and
// when the run is over no session is left, neither in the pool nor in rtpengine.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mediaPoolStats } from '../../src/b2bua/index.js';
import { cdrsLogged, startMediaGateway } from '../support/media-gateway.js';
import { ngListCalls, startRtpengine } from '../support/rtpengine.js';
import { uacRtpScenario, writeRtpPcap } from '../support/rtp-pcap.js';
import { runSipp, startSippUas } from '../support/sipp.js';

const CALLS = 60;
const PACKETS = 25;

test(`${CALLS} flow-through calls with RTP both ways through rtpengine (10 a second, up to 20 at once): each CDR counts ${PACKETS} packets per leg, no session left`, { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-media-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeRtpPcap(join(dir, 'rtp.pcap'), PACKETS);
  writeFileSync(join(dir, 'uac.xml'), uacRtpScenario(join(dir, 'rtp.pcap')));
  // Two RTP and two RTCP ports per leg, two legs per call, 20 calls at once, and room for ports in delete-delay.
  const rtpe = await startRtpengine({ mediaPorts: 400 });
  t.after(() => rtpe.stop());
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, localIp: '127.0.0.3', extraArgs: ['-rtp_echo'] });
  t.after(() => uas.stop());
  const gw = await startMediaGateway({
    calling: { name: 'pbx', policy: { transport: 'udp', media: { mode: 'flow-through', srtp: 'off', allowedNetworks: ['127.0.0.0/8'] } } },
    called: { name: 'carrier', policy: { transport: 'udp', sipServer: `127.0.0.3:${uas.port}`, media: { mode: 'flow-through', srtp: 'optional', allowedNetworks: ['127.0.0.0/8'] } } },
    rtpengines: [rtpe.ng],
  });
  t.after(() => gw.close());
  const r = await runSipp({
    scenario: { file: join(dir, 'uac.xml') }, remote: `127.0.0.1:${gw.sipPort}`, localIp: '127.0.0.2', calls: CALLS, rate: 10, limit: 20,
    service: '3001', timeoutSec: 90,
  });
  assert.equal(r.exitCode, 0, `sipp UAC: ${r.errors.slice(0, 1500)}`);
  assert.equal(r.stats.successful, CALLS);
  await cdrsLogged(gw.log, CALLS, 20_000);
  assert.equal(gw.log.cdrs.length, CALLS);
  const figures = gw.log.cdrs.map((c) => c.media as { a: { packets: number }; b: { packets: number } } | undefined);
  assert.deepEqual(figures.filter((m) => m?.a.packets !== PACKETS).length, 0, 'every call: all its packets from the PBX counted');
  // sipp's -rtp_echo shares one media port among all calls; a call's echo is counted on the call it came back on.
  assert.equal(figures.reduce((n, m) => n + (m?.b.packets ?? 0), 0), CALLS * PACKETS, 'every packet echoed came back through its own call');
  const [stats] = mediaPoolStats();
  assert.equal(stats?.sessionsOpened, CALLS);
  assert.equal(stats?.sessionsOpen, 0);
  assert.deepEqual(await ngListCalls(rtpe.ng.host, rtpe.ng.port), [], 'rtpengine holds no call');
});
