// An offer that timed out may still have made a session on its instance (the reply was lost, or came late), and a
// delete that timed out may have left one: the pool deletes it there at once, and again when the instance answers
// pings again, before that instance takes a new call. Bounded, counted, logged once per interval.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { RtpenginePool } from '../../../src/media/rtpengine-pool.js';
import { captureLog } from '../../support/log-capture.js';
import { answering, FAKE_SDP, fakeNgTransport, settle, type FakeInstance } from '../../support/fake-ng-transport.js';

const A = 22222;
const B = 22223;

function rig(instances: Record<number, FakeInstance>, ports = [A, B], maxOrphans?: number) {
  const ng = fakeNgTransport(instances);
  const capture = captureLog();
  const pool = new RtpenginePool({
    instances: ports.map((port) => ({ host: '127.0.0.1', port })), transport: ng.transport, clock: new ManualClock(0), log: capture.log,
    ...(maxOrphans !== undefined ? { maxOrphans } : {}),
  });
  const lines = (code: string) => capture.records.filter((r) => r.code === code);
  return { ...ng, pool, lines };
}

test('an offer that timed out on one instance and went to another is deleted on the first, by its call-id and from-tag', async () => {
  // A took the offer but its reply was lost: it answers the delete.
  const { pool, to } = rig({ [A]: (command, p) => (command === 'offer' ? 'silent' : answering(command, p)) });
  const { session } = await pool.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  assert.equal(session.instance.port, B);
  await settle();
  assert.deepEqual(to(A), ['offer c1 fa', 'delete c1 fa']);
  assert.deepEqual(to(B), ['offer c1 fa']);
  assert.deepEqual(pool.stats.orphans, { noted: 1, deletesSent: 1, deleted: 1, dropped: 0, pending: 0 });
  pool.close();
});

test('a delete the first instance does not answer either is sent again when it answers pings, before it takes a new call', async () => {
  let back = false;
  const { pool, to, lines } = rig({ [A]: (command, p) => (back ? answering(command, p) : 'silent') });
  await pool.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  await settle();
  assert.deepEqual(pool.stats.orphans, { noted: 1, deletesSent: 1, deleted: 0, dropped: 0, pending: 1 });
  assert.deepEqual(pool.stats.instances.map((i) => [i.up, i.orphans]), [[false, 1], [true, 0]]);
  assert.equal(lines('ERR_MEDIA_ORPHAN').length, 1);

  await pool.checkNow();
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [false, true], 'still silent: still down, still waiting');
  back = true;
  await pool.checkNow();
  assert.deepEqual(pool.stats.instances.map((i) => [i.up, i.orphans]), [[true, 0], [true, 0]]);
  assert.deepEqual(pool.stats.orphans, { noted: 1, deletesSent: 2, deleted: 1, dropped: 0, pending: 0 });
  // New calls may go to A again, after the delete (round robin: the second from here is A's).
  await pool.offer({ callId: 'c2', fromTag: 'fb' }, FAKE_SDP, {});
  await pool.offer({ callId: 'c3', fromTag: 'fc' }, FAKE_SDP, {});
  assert.deepEqual(to(A), ['offer c1 fa', 'delete c1 fa', 'ping', 'ping', 'delete c1 fa', 'offer c3 fc']);
  assert.equal(lines('ERR_MEDIA_ORPHAN').length, 1, 'one line per instance and interval');
  pool.close();
});

test('a delete that finds nothing before the instance answered a ping is sent again after one: the offer may still be in the works there', async () => {
  let offerDone = false;
  const { pool, to } = rig({
    [A]: (command, p) => command === 'offer' ? 'silent'
      : command === 'delete' && !offerDone ? { result: 'ok', warning: 'Call-ID not found or tags didn\'t match' } : answering(command, p),
  });
  await pool.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  await settle();
  assert.deepEqual(pool.stats.orphans, { noted: 1, deletesSent: 1, deleted: 0, dropped: 0, pending: 1 });
  offerDone = true;
  await pool.checkNow();
  assert.deepEqual(to(A), ['offer c1 fa', 'delete c1 fa', 'ping', 'delete c1 fa']);
  assert.deepEqual(pool.stats.orphans, { noted: 1, deletesSent: 2, deleted: 1, dropped: 0, pending: 0 });
  assert.deepEqual(pool.stats.instances.map((i) => i.up), [true, true]);
  pool.close();
});

test('a call\'s delete its instance does not answer is kept and sent again when the instance is back', async () => {
  let dead = false;
  const { pool, to } = rig({ [A]: (command, p) => (dead ? 'silent' : answering(command, p)) });
  const { session } = await pool.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  await session.answer('tb', FAKE_SDP, {});
  dead = true;
  assert.equal(await session.delete(), undefined);
  assert.equal(pool.stats.orphans.pending, 1);
  dead = false;
  await pool.checkNow();
  assert.deepEqual(to(A), ['offer c1 fa', 'answer c1 fa tb', 'delete c1 fa tb', 'ping', 'delete c1 fa tb']);
  assert.deepEqual(pool.stats.orphans, { noted: 1, deletesSent: 1, deleted: 1, dropped: 0, pending: 0 });
  pool.close();
});

test('no more than maxOrphans wait: the oldest is dropped to rtpengine\'s own timeout, counted, one error line', async () => {
  const C = 22224;
  const D = 22225;
  const silent: FakeInstance = () => 'silent';
  const { pool, lines } = rig({ [A]: silent, [B]: silent, [C]: silent }, [A, B, C, D], 2);
  const { session } = await pool.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  assert.equal(session.instance.port, D);
  await settle();
  assert.deepEqual(pool.stats.orphans, { noted: 3, deletesSent: 3, deleted: 0, dropped: 1, pending: 2 });
  assert.deepEqual(pool.stats.instances.map((i) => i.orphans), [0, 1, 1, 0], 'the oldest, on A, was dropped');
  assert.equal(lines('ERR_MEDIA_ORPHAN').filter((r) => r.level === 50).length, 1);
  pool.close();
});

test('an offer for a call whose left session is being deleted on that instance waits for the delete, and no delete follows it', async () => {
  // A answers the first offer with no dictionary: the pool notes the session it may have made and deletes it at
  // once. That delete is held on the wire while the call is offered to A again (a retry of the same call).
  const order: string[] = [];
  let releaseDelete: (() => void) | undefined;
  let offers = 0;
  const transport = {
    send: async (_to: unknown, command: string, params: Record<string, unknown> = {}) => {
      order.push(`${command} ${String(params['call-id'] ?? '')}`);
      if (command === 'ping') return { result: 'pong' };
      if (command === 'offer') return ++offers === 1 ? ([] as unknown as Record<string, unknown>) : { result: 'ok', sdp: FAKE_SDP };
      if (command === 'delete') {
        await new Promise<void>((ok) => { releaseDelete = ok; });
        order.push('delete answered');
        return { result: 'ok' };
      }
      return { result: 'ok' };
    },
    close: () => undefined,
  };
  const pool = new RtpenginePool({
    instances: [{ host: '127.0.0.1', port: A }], transport: transport as never, clock: new ManualClock(0), log: captureLog().log,
  });
  await pool.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {}).catch(() => undefined);
  await settle();
  assert.deepEqual(order, ['offer c1', 'delete c1'], 'the left session is being deleted');
  const again = pool.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  await settle();
  assert.deepEqual(order, ['offer c1', 'delete c1'], 'the second offer waits for the delete on its way');
  releaseDelete!();
  const { session } = await again;
  assert.equal(session.instance.port, A);
  assert.deepEqual(order, ['offer c1', 'delete c1', 'delete answered', 'offer c1']);
  await pool.checkNow();
  assert.ok(!order.slice(3).includes('delete c1'), 'no delete of the call\'s own session after its offer');
  assert.equal(pool.stats.orphans.pending, 0);
  pool.close();
});
