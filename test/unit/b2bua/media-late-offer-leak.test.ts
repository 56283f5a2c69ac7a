import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptBLeg, type PlaceCallSrf } from '../../../src/b2bua/b-leg-attempt.js';
import { answerRefused, prepareCallSdp, type CallSdp } from '../../../src/b2bua/call-sdp.js';
import type { PipelineRequest, PipelineResponse } from '../../../src/b2bua/pipeline-types.js';
import { ManualClock } from '../../../src/common/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { RtpenginePool } from '../../../src/media/index.js';
import { fakeNgTransport, settle } from '../../support/fake-ng-transport.js';

// A late-offer call's session is made when the B leg's 200 (the offer) comes. If the attempt was given up first
// (the caller's CANCEL, the no-answer timer) and the 200 crosses it, no session may be left on rtpengine.

const sdpB = 'v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const bRes = { get: (n: string) => (n === 'To' ? '<sip:x@y>;tag=btag' : undefined) };

function rig() {
  const ng = fakeNgTransport({});
  const pool = new RtpenginePool({ instances: [{ host: '127.0.0.1', port: 2222 }], transport: ng.transport, clock: new ManualClock(0), log: silentLogger() });
  const media = prepareCallSdp({
    body: '', callId: 'c1', from: '<sip:1001@pbx>;tag=ftag', pool,
    tenantIn: { name: 'pbx', policy: { media: { mode: 'flow-through', srtp: 'off' } } },
    tenantOut: { name: 'carrier', policy: { media: { mode: 'flow-through', srtp: 'off' } } },
  }) as CallSdp;
  return { ng, pool, media };
}

test('a 200 with the late offer after the attempt was given up (no answer in time, CANCEL sent): no session is opened', async (t) => {
  const { ng, pool, media } = rig();
  t.after(() => pool.close());
  const clock = new ManualClock(0);
  let answerLate: (() => Promise<unknown>) | undefined;
  // createB2BUA as drachtio-srf runs it: the INVITE goes out, and the B leg's 200 comes only after the timer fired.
  const srf: PlaceCallSrf = {
    createB2BUA: (_req, _res, _uri, opts, cbs) => new Promise((_ok, fail) => {
      cbs.cbRequest(null, { cancel: () => undefined });
      answerLate = () => Promise.resolve((opts.localSdpA as CallSdp['opts']['localSdpA'])(sdpB, bRes)).catch((err: unknown) => (fail(err), err));
    }),
  };
  const res = { finalResponseSent: false, send: () => undefined } as unknown as PipelineResponse;
  const attempt = attemptBLeg({ srf, req: {} as PipelineRequest, res, uri: 'sip:x', opts: { ...media.opts }, clock, noAnswerMs: 20 });
  clock.advance(20);
  assert.deepEqual(await attempt, { ok: false, noAnswer: true });
  await media.end(); // place-call.ts: the attempt is over
  const err = await answerLate!();
  assert.ok(answerRefused(err), 'the 200 is refused: createB2BUA releases that B leg');
  await settle();
  assert.deepEqual(ng.sent.filter((l) => !l.includes('ping')), [], 'rtpengine was asked nothing');
  assert.equal(pool.stats.sessionsOpen, 0);
  assert.equal(pool.idle, true);
});

test('an attempt given up while rtpengine makes the late offer\'s session: the session is deleted at once and counted', async (t) => {
  const { ng, pool, media } = rig();
  t.after(() => pool.close());
  const answered = Promise.resolve(media.opts.localSdpA(sdpB, bRes));
  const ended = media.end(); // the offer is on its way to rtpengine
  await assert.rejects(answered, (e: unknown) => answerRefused(e));
  assert.equal(await ended, undefined, 'no figures: the call had no media');
  await settle();
  assert.deepEqual(ng.sent, ['2222 offer c1 btag', '2222 delete c1 btag']);
  assert.equal(pool.stats.sessionsOpen, 0);
  assert.deepEqual([pool.stats.orphans.noted, pool.stats.orphans.deleted, pool.stats.orphans.pending], [1, 1, 0]);
  assert.equal(pool.idle, true);
});
