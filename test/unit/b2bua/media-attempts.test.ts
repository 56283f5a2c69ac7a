import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerRefused, prepareCallSdp, type CallSdp, type CallSdpInput, type CallSdpResult } from '../../../src/b2bua/call-sdp.js';
import { ManualClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { RtpenginePool, SPLIT_KEY_SUFFIX, type SrtpPolicy } from '../../../src/media/index.js';
import { fakeNgTransport, settle } from '../../support/fake-ng-transport.js';

// An anchored call's attempts and offers as rtpengine sees them: which sessions are opened, under which identity,
// and what never reaches it.

const plain = 'v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const sdes = plain.replace('RTP/AVP', 'RTP/SAVP') + 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n';
const bRes = (tag: string) => ({ get: (n: string) => (n === 'To' ? `<sip:x@y>;tag=${tag}` : undefined) });

function rig() {
  const ng = fakeNgTransport({});
  const pool = new RtpenginePool({ instances: [{ host: '127.0.0.1', port: 2222 }], transport: ng.transport, clock: new ManualClock(0), log: silentLogger() });
  const input = (a: SrtpPolicy, b: SrtpPolicy, o: Partial<CallSdpInput> = {}): CallSdpInput => ({
    body: plain, callId: 'c1', from: '<sip:1001@pbx>;tag=ftag', pool,
    tenantIn: { name: 'pbx', policy: { media: { mode: 'flow-through', srtp: a } } },
    tenantOut: { name: 'carrier', policy: { media: { mode: 'flow-through', srtp: b } } }, ...o,
  });
  const ngSent = () => ng.sent.filter((l) => !l.includes('ping')).map((l) => l.slice('2222 '.length));
  return { ng, pool, input, ngSent };
}

const ok = (r: CallSdpResult): CallSdp => {
  assert.ok(r.ok, 'prepared');
  return r as CallSdp;
};

test('a plain first offer between tenants neither of which is srtp: off is anchored with a key per side (two sessions), ready for SDES later in the call', async () => {
  for (const [a, b] of [['optional', 'optional'], ['optional', 'required']] as const) {
    const { pool, input, ngSent } = rig();
    const call = ok(await prepareCallSdp(input(a, b)));
    assert.deepEqual(ngSent(), ['offer c1 ftag', `offer c1${SPLIT_KEY_SUFFIX} ftag`], `${a} → ${b}`);
    await call.end();
    pool.close();
  }
  const { pool, input, ngSent } = rig();
  await prepareCallSdp(input('optional', 'off'));
  assert.deepEqual(ngSent(), ['offer c1 ftag'], 'towards an srtp: off tenant: one session (rtpengine gives that side no keys)');
  pool.close();
});

test('a single-session call (one tenant srtp: off): an in-dialog SDES offer towards the other tenant is refused 488 before rtpengine sees it; towards the off tenant it goes on', async () => {
  const { pool, input, ngSent } = rig();
  const call = ok(await prepareCallSdp(input('optional', 'off')));
  await call.opts.localSdpA(plain, bRes('btag'));
  const before = ngSent().length;
  await assert.rejects(call.inDialog!.offer('B', sdes), (e: unknown) => answerRefused(e) && e.status === 488 && e.cause === 'srtp' && e.code === 'ERR_B2BUA_SRTP_REFUSED'
    && /^SIP;cause=488;text="SRTP \(SDES\) cannot be offered towards tenant pbx in this call/.test(e.reasonHeader));
  assert.equal(ngSent().length, before, 'rtpengine was asked nothing');
  await call.inDialog!.offer('A', sdes);
  assert.deepEqual(ngSent().slice(before), ['offer c1 ftag btag'], 'an SDES offer towards the off tenant: rtpengine removes the keys');
  pool.close();
});

test('an answer after its attempt was given up opens nothing: the session is deleted and rtpengine is asked nothing more', async () => {
  const { pool, input, ngSent } = rig();
  const call = ok(await prepareCallSdp(input('off', 'off')));
  await call.end();
  await assert.rejects(Promise.resolve(call.opts.localSdpA(plain, bRes('b1'))), (e: unknown) => answerRefused(e) && e.status === 503);
  await settle();
  assert.deepEqual(ngSent(), ['offer c1 ftag', 'delete c1 ftag']);
  assert.equal(pool.idle, true);
  pool.close();
});

test('each B-leg attempt has an rtpengine identity of its own: what one given up leaves never reaches the next', async () => {
  const { pool, input, ngSent } = rig();
  const first = ok(await prepareCallSdp(input('off', 'off')));
  const second = ok(await prepareCallSdp(input('off', 'off', { attempt: 1 })));
  await first.end();
  await second.opts.localSdpA(plain, bRes('b2'));
  await second.end();
  assert.deepEqual(ngSent(), ['offer c1 ftag', 'offer c1;tg-try2 ftag', 'delete c1 ftag', 'answer c1;tg-try2 ftag b2', 'delete c1;tg-try2 ftag b2']);
  pool.close();
});

test('an SDP body too large for one ng request is refused 488 before rtpengine sees it, counted on the pool (failures.tooLarge)', async () => {
  const { pool, input, ngSent } = rig();
  const big = `${plain}${`a=x-pad:${'y'.repeat(90)}\r\n`.repeat(700)}`;
  const r = await prepareCallSdp(input('off', 'off', { body: big }));
  assert.ok(!r.ok);
  assert.deepEqual([r.refusal.status, r.refusal.cause, r.refusal.code], [488, 'sdp-size', 'ERR_MEDIA_SDP_TOO_LARGE']);
  assert.match(r.refusal.reasonHeader, /^SIP;cause=488;text="The offer is too large for the media relay: \d+ bytes of SDP, at most 16384"$/);
  const call = ok(await prepareCallSdp(input('off', 'off')));
  await call.opts.localSdpA(plain, bRes('b1'));
  await assert.rejects(call.inDialog!.offer('B', big), (e: unknown) => answerRefused(e) && e.status === 488 && e.cause === 'sdp-size');
  assert.deepEqual(ngSent(), ['offer c1 ftag', 'answer c1 ftag b1']);
  assert.equal(pool.stats.failures.tooLarge, 2);
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [true]);
  pool.close();
});

test('a ringing late-offer call holds its pool (not idle) until its session is opened or it ends', async () => {
  const { pool, input } = rig();
  const ringing = ok(await prepareCallSdp(input('off', 'off', { body: '' })));
  assert.equal(pool.idle, false, 'no session yet, but the 200 will need one');
  await ringing.end();
  assert.equal(pool.idle, true);
  const answered = ok(await prepareCallSdp(input('off', 'off', { body: '' })));
  await answered.opts.localSdpA(plain, bRes('b1'));
  assert.equal(pool.idle, false, 'its session is open');
  await answered.end();
  assert.equal(pool.idle, true);
  pool.close();
});
