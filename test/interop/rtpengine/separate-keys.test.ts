import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { prepareCallSdp, type CallSdp } from '../../../src/b2bua/call-sdp.js';
import { systemClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { createNgTransport, mediaSections, RtpenginePool } from '../../../src/media/index.js';
import { ngListCalls, startRtpengine } from '../../support/rtpengine.js';
import { inlineOf, newInline, protect, rtpPacket, sessionKeys, unprotect } from './srtp-packets.js';

// Both tenants SRTP with the same suite first, the case in which rtpengine on its own passes each side's key to the
// other. The test plays both endpoints with real SRTP: it encrypts with the key its SDP declared and decrypts with
// the key the gateway's SDP declared, so a packet is counted only if its authentication tag verifies.
const SUITE = 'AES_CM_128_HMAC_SHA1_80';
const PACKETS = 10;
const sdes = { mode: 'flow-through', srtp: 'required', suites: [SUITE, 'AES_256_CM_HMAC_SHA1_80'], allowedNetworks: ['127.0.0.0/8'] } as const;

const body = (port: number, inline: string, tag = 1) => ['v=0', 'o=side 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  `m=audio ${port} RTP/SAVP 0`, 'a=rtpmap:0 PCMU/8000', `a=crypto:${tag} ${SUITE} inline:${inline}`, 'a=sendrecv', ''].join('\r\n');

async function udp(t: { after(fn: () => void): void }): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  return s;
}

/** Sends `count` SRTP packets with `inline` to `port` and counts those `to` receives that verify under `expect`. */
async function carry(from: Socket, inline: string, port: number, to: Socket, expect: string, ssrc: number): Promise<number> {
  const tx = sessionKeys(inline);
  const rx = sessionKeys(expect);
  let good = 0;
  let bad = 0;
  const onMessage = (m: Buffer): void => {
    const rtp = unprotect(rx, m);
    if (rtp && rtp.subarray(12).equals(Buffer.alloc(160, 0x55))) good++;
    else bad++;
  };
  to.on('message', onMessage);
  for (let i = 1; i <= PACKETS; i++) {
    from.send(protect(tx, rtpPacket(i, ssrc, Buffer.alloc(160, 0x55))), port, '127.0.0.1');
    await new Promise((ok) => setTimeout(ok, 20));
  }
  for (let i = 0; i < 50 && good + bad < PACKETS; i++) await new Promise((ok) => setTimeout(ok, 20));
  to.off('message', onMessage);
  assert.equal(bad, 0, `${bad} packets did not verify under the key the gateway's SDP declared`);
  return good;
}

test('SRTP on both sides through rtpengine: each side gets a key of its own (never the other side\'s), and SRTP flows both ways under those keys, also after a re-INVITE from the called side', async (t) => {
  const rtpe = await startRtpengine();
  t.after(() => rtpe.stop());
  const pool = new RtpenginePool({ instances: [rtpe.ng], transport: createNgTransport({ timeoutMs: 2_000 }), clock: systemClock, log: silentLogger() });
  t.after(() => pool.close());
  await pool.start();
  const [a, b] = [await udp(t), await udp(t)];
  const [keyA, keyB] = [newInline(), newInline()];

  const prepared = await prepareCallSdp({
    body: body(a.address().port, keyA), callId: 'split-keys-1', from: '<sip:100@pbx>;tag=a-tag',
    tenantIn: { name: 'pbx', policy: { media: sdes } }, tenantOut: { name: 'carrier', policy: { media: sdes } },
    pool,
  });
  assert.ok(prepared.ok && prepared.anchored, 'the call is anchored');
  const call = prepared as CallSdp;
  const toB = call.opts.localSdpB as string;
  const sentToB = inlineOf(toB);
  assert.ok(sentToB, `the offer to the called side has an ${SUITE} key:\n${toB.replace(/inline:\S+/g, 'inline:…')}`);
  assert.notEqual(sentToB, keyA, 'the called side does not get the caller\'s key');

  const tagB = /^a=crypto:(\d+) AES_CM_128_HMAC_SHA1_80 /m.exec(toB)![1]!;
  const toA = await call.opts.localSdpA(body(b.address().port, keyB, Number(tagB)), { get: (n) => (n === 'To' ? '<sip:200@carrier>;tag=b-tag' : undefined) });
  const sentToA = inlineOf(toA ?? '');
  assert.ok(sentToA, 'the answer to the caller has a key');
  assert.notEqual(sentToA, keyB, 'the caller does not get the called side\'s key');
  assert.notEqual(sentToA, sentToB, 'the two keys the gateway sent differ');
  assert.equal(mediaSections(toA!)[0]?.proto, 'RTP/SAVP');
  assert.equal(mediaSections(toB)[0]?.proto, 'RTP/SAVP');

  // The caller sends to the port of its answer under its own key; the called side decrypts with the key of its offer.
  const aToB = await carry(a, keyA, mediaSections(toA!)[0]!.port, b, sentToB!, 0x1111);
  const bToA = await carry(b, keyB, mediaSections(toB)[0]!.port, a, sentToA!, 0x2222);
  assert.deepEqual([aToB, bToA], [PACKETS, PACKETS], 'every packet arrived and verified, both ways');

  // A re-INVITE from the called side with a new key (RFC 4568 §7.1.4: a new offer may rekey), through both sessions
  // the other way round; the caller answers with a new key of its own. Each side again gets a key nobody else sent.
  const [keyB2, keyA2] = [newInline(), newInline()];
  const toA2 = await call.inDialog!.offer('B', body(b.address().port, keyB2, 7));
  const sentToA2 = inlineOf(toA2);
  assert.ok(sentToA2 && sentToA2 !== keyB2 && sentToA2 !== keyA2, 'the re-offer to the caller has a key of rtpengine\'s');
  const tagA2 = /^a=crypto:(\d+) AES_CM_128_HMAC_SHA1_80 /m.exec(toA2)![1]!;
  const toB2 = await call.inDialog!.answer('B', body(a.address().port, keyA2, Number(tagA2)));
  const sentToB2 = inlineOf(toB2);
  assert.ok(sentToB2 && sentToB2 !== keyA2 && sentToB2 !== keyB2, 'the answer to the called side has a key of rtpengine\'s');
  assert.deepEqual([
    await carry(b, keyB2, mediaSections(toB2)[0]!.port, a, sentToA2, 0x3333),
    await carry(a, keyA2, mediaSections(toA2)[0]!.port, b, sentToB2, 0x4444),
  ], [PACKETS, PACKETS], 'after the re-INVITE, every packet arrived and verified under the new keys, both ways');

  const totals = await call.end();
  assert.equal(totals?.a.packets, 2 * PACKETS, 'the CDR figures: packets from the caller');
  assert.equal(totals?.b.packets, 2 * PACKETS, 'the CDR figures: packets from the called side');
  assert.equal(totals?.a.errors, 0);
  assert.deepEqual(await ngListCalls(rtpe.ng.host, rtpe.ng.port), [], 'both rtpengine sessions of the call are deleted');
});
