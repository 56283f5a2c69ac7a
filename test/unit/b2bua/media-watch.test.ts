import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchMedia } from '../../../src/b2bua/media-watch.js';
import { ManualClock } from '../../../src/common/index.js';
import { lastPacketAt } from '../../../src/media/index.js';

const reply = (lastPacket: number) => ({ result: 'ok', tags: { a: { medias: [{ streams: [{ 'last packet': lastPacket - 5 }, { 'last packet': lastPacket }] }] }, b: { medias: [] } } });
const settle = () => new Promise((r) => setImmediate(r));

test('lastPacketAt: the latest last packet of any stream of any tag; none without streams', () => {
  assert.equal(lastPacketAt(reply(1_700_000_100)), 1_700_000_100);
  assert.equal(lastPacketAt({ result: 'ok' }), undefined);
});

test('the media watch ends a call rtpengine has had no media on for longer than the timeout, once, and not before', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  let last = 1_700_000_000;
  let answering = true;
  const silent: number[] = [];
  watchMedia({ query: async () => (answering ? reply(last) : undefined) }, clock, 4_000, (s) => silent.push(s));
  for (let i = 0; i < 4; i++) {
    clock.advance(2_000);
    last = Math.floor(clock.now() / 1000); // media keeps coming
    await settle();
  }
  assert.deepEqual(silent, []);
  answering = false; // a query rtpengine does not answer proves nothing
  clock.advance(6_000);
  await settle();
  assert.deepEqual(silent, []);
  answering = true;
  clock.advance(2_000);
  await settle();
  assert.deepEqual(silent, [8]);
  clock.advance(10_000);
  await settle();
  assert.deepEqual(silent, [8], 'once');
});

test('a stopped watch asks nothing more', async () => {
  const clock = new ManualClock(0);
  let queries = 0;
  const stop = watchMedia({ query: async () => (queries++, reply(0)) }, clock, 1_000, () => assert.fail('not silent'));
  stop();
  clock.advance(10_000);
  await settle();
  assert.equal(queries, 0);
});
