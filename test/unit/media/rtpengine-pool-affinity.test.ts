// A call's media stays on one rtpengine instance: both sessions of a split-key call, its answer, its in-dialog
// offers and its delete go to the instance that took its first offer. An instance that fails while the call is being
// anchored fails the call over as a whole; one that fails later fails that request, never moving it elsewhere.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { RtpenginePool } from '../../../src/media/rtpengine-pool.js';
import { SPLIT_KEY_SUFFIX, SplitKeySession } from '../../../src/media/split-key-session.js';
import { silentLogger } from '../../../src/log/index.js';
import { answering, FAKE_SDP, fakeNgTransport, settle, type FakeInstance } from '../../support/fake-ng-transport.js';

const A = 22222;
const B = 22223;
const HOP2 = SPLIT_KEY_SUFFIX;

function rig(instances: Record<number, FakeInstance> = {}) {
  const ng = fakeNgTransport(instances);
  const pool = new RtpenginePool({
    instances: [{ host: '127.0.0.1', port: A }, { host: '127.0.0.1', port: B }], transport: ng.transport, clock: new ManualClock(0), log: silentLogger(),
  });
  return { ...ng, pool };
}

test('both sessions of a split-key call, its answer, re-offer and delete go to one instance; the next call to the next one', async () => {
  const { pool, to } = rig();
  for (const callId of ['c1', 'c2']) {
    const { session } = await SplitKeySession.open(pool, { callId, fromTag: 'fa' }, FAKE_SDP, {});
    await session.answer('tb', FAKE_SDP, {});
    await session.reoffer('B', FAKE_SDP, {});
    await session.reanswer('B', FAKE_SDP, {});
    await session.delete();
  }
  const call = (id: string) => [
    `offer ${id} fa`, `offer ${id}${HOP2} fa`, `answer ${id}${HOP2} fa tb`, `answer ${id} fa tb`,
    `offer ${id}${HOP2} tb fa`, `offer ${id} tb fa`, `answer ${id} tb fa`, `answer ${id}${HOP2} tb fa`,
    `delete ${id} fa tb`, `delete ${id}${HOP2} fa tb`,
  ];
  assert.deepEqual(to(A), call('c1'));
  assert.deepEqual(to(B), call('c2'));
  assert.equal(pool.stats.sessionsOpen, 0);
  pool.close();
});

test('the instance that took the first session times out on the second: the whole call goes to the next instance', async () => {
  let stalled = false;
  const { pool, to } = rig({
    [A]: (command, p) => {
      if (command === 'offer' && String(p['call-id']).endsWith(HOP2)) stalled = true;
      return stalled && command !== 'delete' ? 'silent' : answering(command, p);
    },
  });
  const { session } = await SplitKeySession.open(pool, { callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  await session.answer('tb', FAKE_SDP, {});
  await session.delete();
  await settle();
  assert.deepEqual(to(B), ['offer c1 fa', `offer c1${HOP2} fa`, `answer c1${HOP2} fa tb`, `answer c1 fa tb`, 'delete c1 fa tb', `delete c1${HOP2} fa tb`]);
  // What the call left on A (its first session, and the second's offer A may have taken without answering) is deleted there.
  assert.deepEqual(to(A).sort(), ['delete c1 fa', `delete c1${HOP2} fa`, 'offer c1 fa', `offer c1${HOP2} fa`]);
  const s = pool.stats;
  assert.equal(s.failovers, 1);
  assert.deepEqual(s.instances.map((i) => [i.up, i.sessions]), [[false, 0], [true, 0]]);
  pool.close();
});

test('the second session refused: the first is deleted on its instance, the call fails, and no other instance is asked', async () => {
  const { pool, to } = rig({
    [A]: (command, p) => (command === 'offer' && String(p['call-id']).endsWith(HOP2) ? { result: 'error', 'error-reason': 'Unsupported SDP' } : answering(command, p)),
  });
  await assert.rejects(SplitKeySession.open(pool, { callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {}), { code: 'ERR_MEDIA_REFUSED' });
  await settle();
  assert.deepEqual(to(A), ['offer c1 fa', `offer c1${HOP2} fa`, 'delete c1 fa']);
  assert.deepEqual(to(B), []);
  assert.equal(pool.stats.sessionsOpen, 0);
  pool.close();
});

test('an instance that fails after the offer fails that request; the call never moves to an instance that did not see its offer', async () => {
  let dead = false;
  const { pool, to } = rig({ [A]: (command, p) => (dead ? 'silent' : answering(command, p)) });
  const { session } = await pool.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  dead = true;
  await pool.checkNow();
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [false, true]);
  await assert.rejects(session.answer('tb', FAKE_SDP, {}), { code: 'ERR_MEDIA_TIMEOUT' });
  assert.equal(await session.delete(), undefined);
  assert.deepEqual(to(A), ['offer c1 fa', 'ping', 'answer c1 fa tb', 'delete c1 fa tb']);
  assert.deepEqual(to(B), ['ping']);
  pool.close();
});
