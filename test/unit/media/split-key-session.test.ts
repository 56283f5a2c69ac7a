import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaError, SplitKeySession, SPLIT_KEY_SUFFIX, type MediaSession, type MediaTarget, type SessionOpener } from '../../../src/media/index.js';

const leg = (packets: number) => ({ packets, bytes: packets * 172, errors: 0, rtcpPackets: 0, lost: null, lossPercent: null, jitterMs: null, mos: null });

/** Two fake rtpengine sessions (`first` for the call's own Call-ID, `second` for the suffixed one); each step is logged. */
function opener(o: { failSecond?: boolean } = {}) {
  const log: string[] = [];
  const session = (name: string): MediaSession => ({
    answer: async (toTag: string, sdp: string) => (log.push(`${name} answer ${toTag} ${sdp}`), `${name}(${sdp})`),
    reoffer: async (from: string, sdp: string, p: Record<string, unknown>) => (log.push(`${name} reoffer ${from} ${sdp} ${String(p['transport-protocol'])}`), `${name}(${sdp})`),
    reanswer: async (from: string, sdp: string) => (log.push(`${name} reanswer ${from} ${sdp}`), `${name}(${sdp})`),
    query: async () => ({ from: name }),
    delete: async () => (log.push(`${name} delete`), name === 'first' ? { a: leg(10), b: leg(11) } : { a: leg(12), b: leg(13) }),
  }) as unknown as MediaSession;
  const target: MediaTarget = {
    offer: async (key, sdp, params) => {
      const name = key.callId.endsWith(SPLIT_KEY_SUFFIX) ? 'second' : 'first';
      log.push(`${name} offer ${key.callId} ${key.fromTag} ${sdp} ${String(params['transport-protocol'])}`);
      if (name === 'second' && o.failSecond) throw new MediaError('ERR_MEDIA_REFUSED', 'no');
      return { session: session(name), sdp: `${name}(${sdp})` };
    },
  };
  // One instance; the real pool's anchor (what it deletes, where it fails over) is tested in rtpengine-pool-affinity.test.ts.
  const pool: SessionOpener = {
    anchor: async (open) => {
      log.push('anchor');
      try {
        return await open(target);
      } catch (err) {
        log.push('anchor failed');
        throw err;
      }
    },
  };
  return { pool, log };
}

test('a key per side: the offer crosses the caller\'s session (to plain RTP) and then the called side\'s (to SRTP); the answer comes back the other way', async () => {
  const { pool, log } = opener();
  const { session, sdp } = await SplitKeySession.open(pool, { callId: 'c1', fromTag: 'fa' }, 'A', { 'transport-protocol': 'RTP/SAVP' });
  assert.equal(sdp, 'second(first(A))');
  assert.equal(await session.answer('tb', 'B', {}), 'first(second(B))');
  assert.deepEqual(log, ['anchor', 'first offer c1 fa A RTP/AVP', `second offer c1${SPLIT_KEY_SUFFIX} fa first(A) RTP/SAVP`, 'second answer tb B', 'first answer tb second(B)']);
});

const SDES = 'v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n';
const PLAIN = 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n';

test('an optional tenant gets the transport of the offer: SRTP from the second session when it came with SDES keys (plain RTP from the hop), plain RTP when it came without', async () => {
  const { pool, log } = opener();
  await SplitKeySession.open(pool, { callId: 'c1', fromTag: 'fa' }, SDES, {});
  assert.match(log[2]!, /RTP\/SAVP$/);
  const plain = opener();
  await SplitKeySession.open(plain.pool, { callId: 'c1', fromTag: 'fa' }, PLAIN, {});
  assert.match(plain.log[2]!, / undefined$/, 'no transport asked of rtpengine: the hop\'s plain RTP goes on');
});

test('in-dialog offers and answers cross the sessions in the direction of the message', async () => {
  const { pool, log } = opener();
  const { session } = await SplitKeySession.open(pool, { callId: 'c1', fromTag: 'fa' }, 'A', { 'transport-protocol': 'RTP/SAVP' });
  log.length = 0;
  assert.equal(await session.reoffer('B', 'B2', { 'transport-protocol': 'RTP/SAVP' }), 'first(second(B2))');
  assert.equal(await session.reanswer('B', 'A2', {}), 'second(first(A2))');
  assert.equal(await session.reoffer('A', 'A3', {}), 'second(first(A3))');
  assert.equal(await session.reanswer('A', 'B3', {}), 'first(second(B3))');
  assert.equal(await session.reoffer('A', SDES, {}), `second(first(${SDES}))`);
  assert.deepEqual(log, [
    'second reoffer B B2 RTP/AVP', 'first reoffer B second(B2) RTP/SAVP',
    'first reanswer B A2', 'second reanswer B first(A2)',
    'first reoffer A A3 RTP/AVP', 'second reoffer A first(A3) undefined',
    'second reanswer A B3', 'first reanswer A second(B3)',
    `first reoffer A ${SDES} RTP/AVP`, `second reoffer A first(${SDES}) RTP/SAVP`,
  ]);
  assert.deepEqual(await session.query(), { from: 'first' }, 'the media watch asks the first session, which sees both sides\' media');
});

test('delete ends both sessions once: the caller\'s figures from the first, the called side\'s from the second', async () => {
  const { pool, log } = opener();
  const { session } = await SplitKeySession.open(pool, { callId: 'c1', fromTag: 'fa' }, 'A', {});
  const [x, y] = await Promise.all([session.delete(), session.delete()]);
  assert.deepEqual(x, { a: leg(10), b: leg(13) });
  assert.equal(x, y);
  assert.deepEqual(log.filter((l) => l.endsWith('delete')), ['first delete', 'second delete']);
});

test('the second session refused: both offers were one anchoring, which fails with the error (the pool deletes the first)', async () => {
  const { pool, log } = opener({ failSecond: true });
  await assert.rejects(SplitKeySession.open(pool, { callId: 'c1', fromTag: 'fa' }, 'A', { 'transport-protocol': 'RTP/SAVP' }), { code: 'ERR_MEDIA_REFUSED' });
  assert.deepEqual(log, ['anchor', 'first offer c1 fa A RTP/AVP', `second offer c1${SPLIT_KEY_SUFFIX} fa first(A) RTP/SAVP`, 'anchor failed']);
});
