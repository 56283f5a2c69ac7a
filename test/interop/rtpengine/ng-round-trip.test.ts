import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { systemClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';
import {
  answerParams, createNgTransport, hideOriginUser, mediaSections, offerParams, RtpenginePool, sdpAddresses,
} from '../../../src/media/index.js';
import { startRtpengine } from '../../support/rtpengine.js';

// The PBX side names an address that is not rtpengine's (127.0.0.77 is loopback, so nothing leaves the host).
const PBX = '127.0.0.77';
const CARRIER = '127.0.0.88';
const pbxOffer = (port: number) => ['v=0', `o=pbx.internal 1 1 IN IP4 ${PBX}`, 's=-', `c=IN IP4 ${PBX}`, 't=0 0',
  `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
  'a=candidate:1 1 udp 2130706431 10.20.30.40 4000 typ host', 'a=sendrecv', ''].join('\r\n');
const carrierAnswer = (port: number, tag: string, suite: string) => ['v=0', `o=carrier 1 1 IN IP4 ${CARRIER}`, 's=-',
  `c=IN IP4 ${CARRIER}`, 't=0 0', `m=audio ${port} RTP/SAVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000',
  `a=crypto:${tag} ${suite} inline:${Buffer.alloc(30, 'C').toString('base64')}`, 'a=sendrecv', ''].join('\r\n');

const pbx = { mode: 'flow-through', srtp: 'off' } as const;
const carrier = { mode: 'flow-through', srtp: 'required', suites: ['AES_CM_128_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_80'] } as const;

test('offer, answer and delete through a real rtpengine: each side sees only rtpengine, SRTP towards the carrier, RTP towards the PBX, and the delete counts the packets', async (t) => {
  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const pool = new RtpenginePool({ instances: [rtpe.ng], transport: createNgTransport({ timeoutMs: 2_000 }), clock: systemClock, log: silentLogger() });
  t.after(() => pool.close());
  await pool.start();
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [true]);

  // The PBX's RTP comes from a socket of the test (rtpengine learns its real source address).
  const pbxSock = createSocket('udp4');
  pbxSock.bind(0, '127.0.0.1');
  await once(pbxSock, 'listening');
  t.after(() => pbxSock.close());

  const { session, sdp: toCarrier } = await pool.offer({ callId: 'rt-1', fromTag: 'a-tag' }, pbxOffer(pbxSock.address().port), offerParams(pbx, carrier));
  const out = hideOriginUser(toCarrier);
  const [m] = mediaSections(out);
  assert.equal(m?.proto, 'RTP/SAVP');
  assert.equal(m?.sdes, true);
  assert.ok(m!.port >= rtpe.portMin && m!.port <= rtpe.portMax, `m= port ${m!.port} in rtpengine's range`);
  assert.deepEqual(sdpAddresses(out), ['127.0.0.1']);
  assert.doesNotMatch(out, /127\.0\.0\.77|10\.20\.30\.40|pbx\.internal|a=candidate/);
  const suites = [...out.matchAll(/^a=crypto:\d+ (\S+)/gm)].map((x) => x[1]);
  assert.deepEqual(suites.sort(), ['AES_256_CM_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_80']);

  const chosen = /^a=crypto:(\d+) (AES_CM_128_HMAC_SHA1_80) /m.exec(out)!;
  const toPbx = await session.answer('b-tag', carrierAnswer(40_000, chosen[1]!, chosen[2]!), answerParams(pbx, carrier));
  const [pm] = mediaSections(toPbx);
  assert.equal(pm?.proto, 'RTP/AVP');
  assert.equal(pm?.sdes, false);
  assert.deepEqual(sdpAddresses(toPbx), ['127.0.0.1']);
  assert.doesNotMatch(toPbx, /127\.0\.0\.88|a=crypto/);

  // Ten RTP packets from the PBX side to the port rtpengine gave it.
  for (let i = 0; i < 10; i++) {
    const pkt = Buffer.alloc(172);
    pkt[0] = 0x80;
    pkt.writeUInt16BE(i, 2);
    pkt.writeUInt32BE(i * 160, 4);
    pkt.writeUInt32BE(0x1234, 8);
    pbxSock.send(pkt, pm!.port, '127.0.0.1');
  }
  // rtpengine counts as it receives; wait (bounded) until a query shows all ten, then delete.
  const transport = createNgTransport({ timeoutMs: 1_000 });
  t.after(() => transport.close());
  const until = Date.now() + 5_000;
  for (;;) {
    const q = await transport.send(rtpe.ng, 'query', { 'call-id': 'rt-1', 'from-tag': 'a-tag' });
    const rtp = (q.totals as { RTP?: { packets?: number } } | undefined)?.RTP?.packets ?? 0;
    if (rtp >= 10 || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const totals = await session.delete();
  assert.deepEqual(totals?.a, { packets: 10, bytes: 1720, errors: 0, rtcpPackets: 0, lost: null, lossPercent: null, jitterMs: null, mos: null },
    'no RTCP from the PBX: no reported loss or jitter');
  assert.equal(totals?.b.packets, 0);
  assert.equal(pool.stats.sessionsOpen, 0);
  assert.deepEqual(pool.stats.requests, { offer: 1, answer: 1, delete: 1, query: 0, ping: 1 });
});

// One rtpengine session passes SDES through when both sides agree on a suite (the keys of one side reach the other),
// so this checks that both legs are secured, not that their keys differ; the b2bua chains two sessions for such a
// call (separate-keys.test.ts).
test('SRTP on both sides through a real rtpengine: the carrier gets an SDES offer in its suite, the PBX an SDES answer to the tag it offered', async (t) => {
  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const pool = new RtpenginePool({ instances: [rtpe.ng], transport: createNgTransport({ timeoutMs: 2_000 }), clock: systemClock, log: silentLogger() });
  t.after(() => pool.close());
  const keyA = Buffer.alloc(30, 'A').toString('base64');
  const keyB = Buffer.alloc(30, 'B').toString('base64');
  const secure = { mode: 'flow-through', srtp: 'required', suites: ['AES_CM_128_HMAC_SHA1_80'] } as const;
  const offer = ['v=0', `o=pbx 1 1 IN IP4 ${PBX}`, 's=-', `c=IN IP4 ${PBX}`, 't=0 0', 'm=audio 4000 RTP/SAVP 0',
    `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${keyA}`, ''].join('\r\n');
  const { session, sdp: toCarrier } = await pool.offer({ callId: 'srtp-2', fromTag: 'a' }, offer, offerParams(secure, secure));
  const out = /^a=crypto:(\d+) (AES_CM_128_HMAC_SHA1_80) inline:(\S+)/m.exec(toCarrier);
  assert.ok(out, toCarrier);
  assert.equal([...toCarrier.matchAll(/^a=crypto:/gm)].length, 1, 'only the carrier\'s suite is offered');
  const answer = ['v=0', `o=carrier 1 1 IN IP4 ${CARRIER}`, 's=-', `c=IN IP4 ${CARRIER}`, 't=0 0', 'm=audio 4002 RTP/SAVP 0',
    `a=crypto:${out[1]} AES_CM_128_HMAC_SHA1_80 inline:${keyB}`, ''].join('\r\n');
  const toPbx = await session.answer('b', answer, answerParams(secure, secure));
  const back = /^a=crypto:(\d+) AES_CM_128_HMAC_SHA1_80 inline:(\S+)/m.exec(toPbx);
  assert.ok(back, toPbx);
  assert.equal(back[1], '1', 'the answer names the tag the PBX offered');
  assert.match(toPbx, /^m=audio \d+ RTP\/SAVP /m);
  await session.delete();
});
