import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerRefused, prepareCallSdp, type CallSdpInput, type CallSdpResult } from '../../../src/b2bua/call-sdp.js';
import { MediaError, type RtpenginePool } from '../../../src/media/index.js';

const offer = 'v=0\r\no=pbx.internal 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const relayed = 'v=0\r\no=pbx.internal 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 30000 RTP/SAVP 0\r\n' +
  'a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:K1\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:K2\r\n';

/** A pool that records what it is asked and answers with `relayed`, or fails as told. */
function fakePool(fail?: 'unavailable' | 'refused' | 'answer') {
  const calls: string[] = [];
  const pool = {
    offer: async (key: { callId: string; fromTag: string }, _sdp: string, params: Record<string, unknown>) => {
      calls.push(`offer ${key.callId} ${key.fromTag} ${String(params['transport-protocol'])}`);
      if (fail === 'unavailable') throw new MediaError('ERR_MEDIA_UNAVAILABLE', 'none');
      if (fail === 'refused') throw new MediaError('ERR_MEDIA_REFUSED', 'rtpengine refused offer: Unsupported SDP');
      return {
        sdp: relayed,
        session: {
          answer: async (toTag: string) => {
            calls.push(`answer ${toTag}`);
            if (fail === 'answer') throw new MediaError('ERR_MEDIA_TIMEOUT', 'late');
            return 'v=0\r\no=carrier 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 30002 RTP/AVP 0\r\n';
          },
          delete: async () => {
            calls.push('delete');
            return { a: { packets: 1, bytes: 2, errors: 0, rtcpPackets: 0 }, b: { packets: 3, bytes: 4, errors: 0, rtcpPackets: 0 } };
          },
        },
      };
    },
  };
  return { pool: pool as unknown as RtpenginePool, calls };
}

const input = (o: Partial<CallSdpInput> = {}): CallSdpInput => ({
  body: offer, callId: 'c1', from: '"pbx" <sip:1001@10.1.1.1>;tag=ftag',
  tenantIn: { name: 'pbx', policy: { media: { mode: 'flow-through', srtp: 'off' } } },
  tenantOut: { name: 'carrier', policy: { media: { mode: 'flow-through', srtp: 'required', suites: ['AES_CM_128_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_80'] } } },
  ...o,
});

test('flow-around tenants: the result comes synchronously and the SDP passes as before', () => {
  const r = prepareCallSdp(input({ tenantIn: { name: 'pbx', policy: {} }, tenantOut: { name: 'carrier', policy: {} } }));
  assert.ok(!(r instanceof Promise));
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.anchored, false);
  assert.equal(r.opts.localSdpB, undefined);
  assert.equal(r.opts.localSdpA('v=0\r\n'), 'v=0\r\n');
});

test('anchored: rtpengine writes the offer (suites in the carrier\'s order, o= user hidden), the answer goes back with the B leg\'s To tag, delete runs once', async () => {
  const { pool, calls } = fakePool();
  const r = (await prepareCallSdp(input({ pool }))) as CallSdpResult;
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.anchored, true);
  const toB = String(r.opts.localSdpB);
  assert.match(toB, /^o=- 1 1 IN IP4 192\.0\.2\.10$/m);
  assert.deepEqual([...toB.matchAll(/a=crypto:\d+ (\S+)/g)].map((m) => m[1]), ['AES_CM_128_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_80']);
  const toCaller = await r.opts.localSdpA('v=0\r\n', { get: (n) => (n === 'To' ? '<sip:3001@x>;tag=btag' : undefined) });
  assert.match(toCaller!, /^o=- /m);
  assert.deepEqual(await r.end(), { a: { packets: 1, bytes: 2, errors: 0, rtcpPackets: 0 }, b: { packets: 3, bytes: 4, errors: 0, rtcpPackets: 0 } });
  assert.deepEqual(calls, ['offer c1 ftag RTP/SAVP', 'answer btag', 'delete']);
});

test('anchored with no live rtpengine, or no rtpengine at all: 503 with a Reason', async () => {
  const { pool } = fakePool('unavailable');
  for (const r of [await prepareCallSdp(input({ pool })), await prepareCallSdp(input())]) {
    assert.ok(!r.ok);
    if (r.ok) continue;
    assert.equal(r.refusal.status, 503);
    assert.equal(r.refusal.cause, 'media-unavailable');
    assert.match(r.refusal.reasonHeader, /^SIP;cause=503;text="No media relay available"$/);
    assert.equal(r.refusal.code, 'ERR_MEDIA_UNAVAILABLE');
  }
});

test('an offer rtpengine refuses: 503 with a Reason, and the code and cause for the one line place-call writes', async () => {
  const { pool } = fakePool('refused');
  const r = await prepareCallSdp(input({ pool }));
  assert.ok(!r.ok);
  if (r.ok) return;
  assert.deepEqual({ status: r.refusal.status, code: r.refusal.code, mediaCode: r.refusal.detail?.mediaCode }, { status: 503, code: 'ERR_MEDIA_REFUSED', mediaCode: 'ERR_MEDIA_REFUSED' });
  assert.match(r.refusal.reasonHeader, /^SIP;cause=503;text="Media relay refused the offer"$/);
  assert.match(r.refusal.detail?.err ?? '', /Unsupported SDP/);
});

test('rtpengine failing on the answer refuses it with 503, which place-call turns into the caller\'s failure', async () => {
  const { pool } = fakePool('answer');
  const r = (await prepareCallSdp(input({ pool }))) as CallSdpResult;
  assert.ok(r.ok);
  if (!r.ok) return;
  await assert.rejects(Promise.resolve(r.opts.localSdpA('v=0\r\n', {})), (e: unknown) => answerRefused(e) && e.status === 503 && e.cause === 'media-unavailable');
});

test('an offer an srtp: required caller cannot secure: 488 before rtpengine is asked', () => {
  const { pool, calls } = fakePool();
  const r = prepareCallSdp(input({ pool, tenantIn: { name: 'carrier', policy: { media: { mode: 'flow-through', srtp: 'required' } } } }));
  assert.ok(!(r instanceof Promise) && !r.ok);
  if (r instanceof Promise || r.ok) return;
  assert.equal(r.refusal.status, 488);
  assert.equal(r.refusal.code, 'ERR_B2BUA_SRTP_REFUSED');
  assert.match(r.refusal.reasonHeader, /^SIP;cause=488;text="SRTP \(SDES\) required on tenant carrier: the offer has audio RTP\/AVP"$/);
  assert.deepEqual(calls, []);
});

test('whenDown: flow-around lets a call whose rtpengines are all down through unanchored, unless an SRTP policy then cannot hold', async () => {
  const { pool } = fakePool('unavailable');
  const around = (await prepareCallSdp(input({ pool, whenDown: 'flow-around', tenantOut: { name: 'carrier', policy: { media: { mode: 'flow-through', srtp: 'optional' } } } }))) as CallSdpResult;
  assert.ok(around.ok);
  if (around.ok) {
    assert.equal(around.anchored, false);
    assert.equal(around.opts.localSdpB, undefined, 'the offer goes as it came');
  }
  // Towards an srtp: required carrier a plain offer can only be secured by rtpengine: still 503.
  const secured = await prepareCallSdp(input({ pool, whenDown: 'flow-around' }));
  assert.ok(!secured.ok);
  if (!secured.ok) assert.equal(secured.refusal.status, 503);
});
