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

test('a pool with a delete still to send is not idle', async () => {
  const { transport } = fakeNgTransport({ [A]: () => 'silent' });
  const p = pool(transport);
  await p.offer({ callId: 'c1', fromTag: 'fa' }, FAKE_SDP, {}).catch(() => undefined);
  await settle();
  assert.ok(p.stats.orphans.pending > 0, 'the timed-out offer left a delete to send');
  assert.equal(p.idle, false);
  p.close();
});
