import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../../src/common/clock.js';
import { Invite2xxRetransmitter } from '../../../../src/sip/transaction/invite-2xx-retransmitter.js';
import { flowFrom, makeRequest, makeResponse, sendTimes, setup } from './support.js';

const none = Buffer.alloc(0);

function make(reliable: boolean, timers = {}) {
  const clock = new ManualClock();
  const sends: number[] = [];
  let timeouts = 0;
  const r = new Invite2xxRetransmitter({
    clock, timers, reliable, retransmit: () => sends.push(clock.now()), onTimeout: () => void timeouts++,
  });
  return { clock, sends, r, timeouts: () => timeouts };
}

test('2xx retransmission over UDP: T1 doubling to T2 (500, 1000, 2000, 4000, 4000 ...) and onTimeout at 64*T1', () => {
  const { clock, sends, r, timeouts } = make(false);
  r.start();
  clock.advance(31_999);
  assert.deepEqual(sends, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(timeouts(), 0);
  clock.advance(1);
  assert.equal(timeouts(), 1);
  assert.equal(r.state, 'timedOut');
  assert.equal(r.retransmissions, 10);
  assert.equal(clock.pending, 0);
});

test('2xx retransmission: ack() stops it and no timeout follows', () => {
  const { clock, sends, r, timeouts } = make(false);
  r.start();
  clock.advance(2000);
  r.ack();
  clock.advance(60_000);
  assert.deepEqual(sends, [500, 1500]);
  assert.equal(timeouts(), 0);
  assert.equal(r.state, 'acked');
});

test('2xx over TCP: sent once (by the transaction), no retransmission, still waits 64*T1 for the ACK', () => {
  const { clock, sends, r, timeouts } = make(true, { T1: 200 });
  r.start();
  clock.advance(12_799);
  assert.deepEqual(sends, []);
  assert.equal(timeouts(), 0);
  clock.advance(1);
  assert.equal(timeouts(), 1);
});

test('respond2xx: the IST sends the 2xx, the layer re-sends the same bytes until the ACK for the 2xx arrives', () => {
  const { layer, tu, transport, clock } = setup({ autoTrying: false });
  const invite = makeRequest('INVITE', { callId: 'c9', cseq: 5 });
  layer.receive(invite, none, flowFrom());
  const txn = tu.requests[0]!.txn;
  let timedOut = 0;
  const r = layer.respond2xx(txn, makeResponse(invite, 200), { onTimeout: () => void timedOut++ });
  assert.equal(txn.state, 'Accepted');
  const times = sendTimes(clock, transport, 'SIP/2.0 200 OK', 4000, 100);
  assert.deepEqual(times, [500, 1500, 3500]);
  assert.ok(transport.sent.every((s) => s.data.equals(transport.sent[0]!.data)), 'the kept bytes, not re-serialised');
  // an ACK for another CSeq does not stop it
  layer.receive(makeRequest('ACK', { branch: 'z9hG4bK-a1', callId: 'c9', cseq: 4, toTag: 'totag9', cseqMethod: 'ACK' }), none, flowFrom());
  assert.equal(r.state, 'waiting');
  layer.receive(makeRequest('ACK', { branch: 'z9hG4bK-a2', callId: 'c9', cseq: 5, toTag: 'totag9', cseqMethod: 'ACK' }), none, flowFrom());
  assert.equal(r.state, 'acked');
  assert.equal(tu.acks.length, 2, 'ACKs for 2xx still reach the TU');
  clock.advance(60_000);
  assert.equal(timedOut, 0);
  assert.equal(layer.stats().retransmissionsSent, 3);
});

test('respond2xx without an ACK: onTimeout after 64*T1 (the engine then sends BYE)', () => {
  const { layer, tu, clock } = setup({ autoTrying: false });
  const invite = makeRequest('INVITE');
  layer.receive(invite, none, flowFrom());
  let timedOut = 0;
  layer.respond2xx(tu.requests[0]!.txn, makeResponse(invite, 200), { onTimeout: () => void timedOut++ });
  clock.advance(32_000);
  assert.equal(timedOut, 1);
  assert.equal(layer.stats().timeouts, 1);
  assert.equal(clock.pending, 0);
});

test('respond2xx refuses a non-2xx and a non-INVITE transaction', () => {
  const { layer, tu } = setup({ autoTrying: false });
  const invite = makeRequest('INVITE');
  layer.receive(invite, none, flowFrom());
  layer.receive(makeRequest('BYE', { branch: 'z9hG4bK-bye' }), none, flowFrom());
  assert.throws(() => layer.respond2xx(tu.requests[0]!.txn, makeResponse(invite, 486), { onTimeout() {} }), RangeError);
  assert.throws(() => layer.respond2xx(tu.requests[1]!.txn, makeResponse(invite, 200), { onTimeout() {} }), TypeError);
});

test('stop() ends the retransmission without a timeout and reports its end once', () => {
  const clock = new ManualClock();
  const ends: string[] = [];
  let sends = 0;
  const r = new Invite2xxRetransmitter({
    clock, reliable: false, retransmit: () => void sends++, onTimeout: () => ends.push('timeout'), onEnd: (s) => ends.push(s),
  }).start();
  clock.advance(600);
  r.stop();
  r.ack();
  clock.advance(60_000);
  assert.equal(sends, 1);
  assert.deepEqual(ends, ['stopped']);
  assert.equal(clock.pending, 0);
});
