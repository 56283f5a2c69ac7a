import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { answerParams, createNgTransport, legTotals, mediaSections, offerParams } from '../../../src/media/index.js';
import { startRtpengine } from '../../support/rtpengine.js';
import { rtcpEndpoint } from './rtcp-endpoint.js';

// Two RTP endpoints that report in RTCP what they received (loss from skipped sequence numbers, jitter from uneven
// spacing), through a real rtpengine; the figures its delete answer gives each leg are those the leg's endpoint
// reported. TG_CAPTURE_DELETE=<file> keeps the delete answer (test/unit/media/rtpengine-delete-rtcp.json came so).
const PACKETS = 200;
// The caller leaves out 15 packets, 10 of them in one second (a fraction lost of about 20 % in that report).
const LEFT_OUT = new Set([20, 21, 22, 60, 100, ...Array.from({ length: 10 }, (_, i) => 120 + i)]);
const plain = { mode: 'flow-through', srtp: 'off' } as const;
const sdp = (port: number) => ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`,
  'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

test('rtpengine\'s delete answer gives each leg the loss and jitter its endpoint reported in RTCP', async (t) => {
  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const ng = createNgTransport({ timeoutMs: 2_000 });
  t.after(() => ng.close());
  const a = await rtcpEndpoint(0xa1a1a1a1);
  const b = await rtcpEndpoint(0xb2b2b2b2);
  t.after(() => (a.close(), b.close()));
  const tags = { 'call-id': 'quality-1', 'from-tag': 'a-tag' };
  const offer = await ng.send(rtpe.ng, 'offer', { ...offerParams(plain, plain), ...tags, sdp: sdp(a.port) });
  const answer = await ng.send(rtpe.ng, 'answer', { ...answerParams(plain, plain), ...tags, 'to-tag': 'b-tag', sdp: sdp(b.port) });
  b.target(mediaSections(String(offer.sdp))[0]!.port);
  a.target(mediaSections(String(answer.sdp))[0]!.port);

  // rtpengine keeps at most one report a second per SSRC; the two sides report half a second apart.
  const reports = setInterval(() => {
    a.report();
    setTimeout(() => b.report(), 400);
  }, 1000);
  await Promise.all([a.play(PACKETS, LEFT_OUT, 8), b.play(PACKETS, new Set([50]), 2)]);
  clearInterval(reports);
  await sleep(1100);
  a.report();
  await sleep(400);
  b.report();
  await sleep(300);

  const reply = await ng.send(rtpe.ng, 'delete', { ...tags, 'to-tag': 'b-tag' });
  if (process.env.TG_CAPTURE_DELETE) writeFileSync(process.env.TG_CAPTURE_DELETE, `${JSON.stringify(reply, null, 2)}\n`);
  const m = legTotals(reply, 'a-tag', 'b-tag');
  const [heardA, heardB] = [a.received(), b.received()];
  assert.deepEqual([heardA.lost, heardB.lost], [1, LEFT_OUT.size], 'the endpoints counted what the other side left out');
  assert.equal(m.a.packets, PACKETS - LEFT_OUT.size, 'rtpengine counted what the caller sent');
  assert.equal(m.b.packets, PACKETS - 1);
  assert.equal(m.a.lost, heardA.lost, 'leg a: the loss the caller reported');
  assert.equal(m.b.lost, heardB.lost, 'leg b: the loss the called side reported');
  // rtpengine averages the reports' jitter in whole milliseconds; the endpoints keep theirs in timestamp units (8 kHz).
  assert.ok(m.a.jitterMs !== null && Math.abs(m.a.jitterMs - heardA.jitter / 8) <= 2, `leg a jitter ${m.a.jitterMs} ms vs ${heardA.jitter / 8}`);
  assert.ok(m.b.jitterMs !== null && Math.abs(m.b.jitterMs - heardB.jitter / 8) <= 2, `leg b jitter ${m.b.jitterMs} ms vs ${heardB.jitter / 8}`);
  assert.ok(m.b.jitterMs > m.a.jitterMs, 'the unevenly sent side is the jittery one');
  // rtpengine's packet-loss percentage is an average over its MOS intervals, which start and end with its own timing
  // of the reports: present and in range on both legs, but which leg shows more in so short a call moves from run to run.
  for (const leg of [m.a, m.b]) assert.ok(leg.lossPercent !== null && leg.lossPercent >= 0 && leg.lossPercent <= 100, `loss ${m.a.lossPercent} % vs ${m.b.lossPercent} %`);
  assert.ok(m.a.mos !== null && m.a.mos >= 1 && m.a.mos <= 4.5, `MOS ${m.a.mos}`);
});
