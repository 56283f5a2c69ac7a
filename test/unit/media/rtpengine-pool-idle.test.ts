// A reload that changes the relay settings makes a new pool, and the old one is closed only once nothing of a call
// is on it: no session open, no delete still to send, no request awaiting its answer.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { RtpenginePool } from '../../../src/media/rtpengine-pool.js';
import type { NgCommand, NgReply, NgTransport } from '../../../src/media/ng-transport.js';
import { captureLog } from '../../support/log-capture.js';
import { FAKE_SDP, fakeNgTransport, settle } from '../../support/fake-ng-transport.js';

const A = 22222;

function pool(transport: NgTransport): RtpenginePool {
  return new RtpenginePool({ instances: [{ host: '127.0.0.1', port: A }], transport, clock: new ManualClock(0), log: captureLog().log });
}

test('a pool with an offer awaiting its answer is not idle; once the offer is answered it holds a session, and not again until deleted', async () => {
  let answer: ((r: NgReply) => void) | undefined;
  const fake = fakeNgTransport({});
  const transport: NgTransport = {
    send: (to, command: NgCommand, params) => (command === 'offer' ? new Promise<NgReply>((ok) => { answer = ok; }) : fake.transport.send(to, command, params)),
    close: () => undefined,
  };
  const p = pool(transport);
  assert.equal(p.idle, true);
  const offered = p.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {});
  await settle();
  assert.ok(answer, 'the offer went out');
  assert.equal(p.idle, false, 'an offer under way');
  answer!({ result: 'ok', sdp: FAKE_SDP });
  const { session } = await offered;
  assert.equal(p.idle, false, 'a session open');
  await session.delete();
  assert.equal(p.idle, true);
  p.close();
});

test('a pool with a delete still to send to a live instance is not idle; one waiting for a dead instance does not keep it', async () => {
  // A answers the offer with no dictionary (it may have made the session) and the delete with "none here" before any
  // ping: the delete waits to be sent again after the next ping, and A is still up.
  const { transport } = fakeNgTransport({
    [A]: (command) => (command === 'offer' ? ([] as unknown as NgReply) : command === 'delete' ? { result: 'ok', warning: 'Call-ID not found' } : { result: 'pong' }),
  });
  const p = pool(transport);
  await p.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {}).catch(() => undefined);
  await settle();
  assert.equal(p.stats.orphans.pending, 1);
  assert.equal(p.stats.instances[0]!.up, true);
  assert.equal(p.idle, false, 'a delete waits for a live instance');
  p.close();

  // Here A stops answering altogether: it is marked down with the delete still waiting, which may never go out.
  const silent = fakeNgTransport({ [A]: () => 'silent' });
  const q = pool(silent.transport);
  await q.offer({ callId: 'c2', fromTag: 'fb' }, FAKE_SDP, {}).catch(() => undefined);
  await settle();
  assert.ok(q.stats.orphans.pending > 0);
  assert.equal(q.stats.instances[0]!.up, false);
  assert.equal(q.idle, true, 'a reload that removed the dead instance can close this pool');
  q.close();
});
