import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { prepareCallSdp, type CallSdp } from '../../../src/b2bua/call-sdp.js';
import { systemClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { createNgTransport, mediaSections, RtpenginePool } from '../../../src/media/index.js';
import { inlineOf, newInline, protect, rtpPacket, sessionKeys, unprotect } from '../../interop/rtpengine/srtp-packets.js';
import { ngListCalls, startRtpengine } from '../../support/rtpengine.js';

// A call that begins with plain RTP between tenants that both allow SRTP (srtp: optional, or required towards the
// carrier) and takes up SDES in a re-INVITE: rtpengine copies an offerer's keys to the other side unless the call is
// two sessions, so the call must have been anchored as two from its first offer. The test plays both endpoints with
// real SRTP: a packet counts only if it verifies under the key the gateway's SDP declared.
const SUITE = 'AES_CM_128_HMAC_SHA1_80';
const PACKETS = 10;
const media = (srtp: 'optional' | 'required') => ({ mode: 'flow-through', srtp, allowedNetworks: ['127.0.0.0/8'] }) as const;
const head = (port: number, v: number) => ['v=0', `o=side 1 ${v} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0'].concat(`m=audio ${port} RTP/%P 0`, 'a=rtpmap:0 PCMU/8000');
const plain = (port: number) => [...head(port, 1), 'a=sendrecv', ''].join('\r\n').replace('%P', 'AVP');
const sdes = (port: number, inline: string, v: number, tag = 1) => [...head(port, v), `a=crypto:${tag} ${SUITE} inline:${inline}`, 'a=sendrecv', ''].join('\r\n').replace('%P', 'SAVP');
const tagOf = (sdp: string) => Number(new RegExp(`^a=crypto:(\\d+) ${SUITE} `, 'm').exec(sdp)?.[1] ?? 1);

async function udp(t: { after(fn: () => void): void }): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  return s;
}

/** Sends SRTP under `inline` to `port` and counts what `to` receives that verifies under `expect`. */
async function carry(from: Socket, inline: string, port: number, to: Socket, expect: string, ssrc: number): Promise<number> {
  const [tx, rx] = [sessionKeys(inline), sessionKeys(expect)];
  let [good, bad] = [0, 0];
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

for (const carrier of ['optional', 'required'] as const) {
  test(`a plain first offer (pbx optional → carrier ${carrier}), then SDES in re-INVITEs from each side: no side ever gets the other's key, and SRTP flows both ways`, async (t) => {
    const rtpe = await startRtpengine();
    t.after(() => rtpe.stop());
    const pool = new RtpenginePool({ instances: [rtpe.ng], transport: createNgTransport({ timeoutMs: 2_000 }), clock: systemClock, log: silentLogger() });
    t.after(() => pool.close());
    await pool.start();
    const [a, b] = [await udp(t), await udp(t)];
    const call = await prepareCallSdp({
      body: plain(a.address().port), callId: `plain-first-${carrier}`, from: '<sip:100@pbx>;tag=a-tag', pool,
      tenantIn: { name: 'pbx', policy: { media: media('optional') } }, tenantOut: { name: 'carrier', policy: { media: media(carrier) } },
    }) as CallSdp;
    assert.ok(call.ok && call.anchored);
    const toB = call.opts.localSdpB as string;
    const bAnswer = carrier === 'required' ? sdes(b.address().port, newInline(), 1, tagOf(toB)) : plain(b.address().port);
    await call.opts.localSdpA(bAnswer, { get: (n) => (n === 'To' ? '<sip:200@carrier>;tag=b-tag' : undefined) });

    // The caller takes up SRTP in a re-INVITE; the carrier answers with a key of its own.
    const [keyA, keyB] = [newInline(), newInline()];
    const reToB = await call.inDialog!.offer('A', sdes(a.address().port, keyA, 2));
    const sentToB = inlineOf(reToB);
    assert.ok(sentToB, `the re-offer to the carrier has an ${SUITE} key`);
    assert.ok(!reToB.includes(keyA), 'the carrier does not get the caller\'s key');
    const reToA = await call.inDialog!.answer('A', sdes(b.address().port, keyB, 2, tagOf(reToB)));
    const sentToA = inlineOf(reToA);
    assert.ok(sentToA && !reToA.includes(keyB), 'the caller gets a key of rtpengine\'s, not the carrier\'s');
    assert.deepEqual([
      await carry(a, keyA, mediaSections(reToA)[0]!.port, b, sentToB, 0x1111),
      await carry(b, keyB, mediaSections(reToB)[0]!.port, a, sentToA, 0x2222),
    ], [PACKETS, PACKETS], 'every packet arrived and verified, both ways');

    // The carrier rekeys in a re-INVITE of its own.
    const keyB2 = newInline();
    const reB = await call.inDialog!.offer('B', sdes(b.address().port, keyB2, 3));
    assert.ok(inlineOf(reB) && !reB.includes(keyB2) && !reB.includes(keyB), 'the caller never gets a key the carrier sent');
    await call.inDialog!.answer('B', sdes(a.address().port, newInline(), 3, tagOf(reB)));

    await call.end();
    assert.deepEqual(await ngListCalls(rtpe.ng.host, rtpe.ng.port), [], 'both rtpengine sessions of the call are deleted');
  });
}
