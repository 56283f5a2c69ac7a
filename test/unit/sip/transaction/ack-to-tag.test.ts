// The 2xx to an INVITE is re-sent until "an ACK request for the response" (RFC 3261 §13.3.1.4). Call-ID, CSeq and
// From tag are the INVITE's, which anyone who saw it can copy; only the To tag is the 2xx's own. An ACK with another
// To tag (or none) must leave the retransmission and its ACK timeout running, else the engine never sends the BYE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowFrom, makeRequest, makeResponse, sendTimes, setup } from './support.js';

const none = Buffer.alloc(0);

test('an ACK with a To tag other than the 2xx\'s does not stop the retransmission, and the ACK timeout still fires', () => {
  const { layer, tu, transport, clock } = setup({ autoTrying: false });
  const invite = makeRequest('INVITE', { callId: 'c-stray', cseq: 7 });
  layer.receive(invite, none, flowFrom());
  let timedOut = 0;
  const r = layer.respond2xx(tu.requests[0]!.txn, makeResponse(invite, 200, 'ours'), { onTimeout: () => void timedOut++ });
  const stray = { callId: 'c-stray', cseq: 7, cseqMethod: 'ACK' };
  layer.receive(makeRequest('ACK', { ...stray, branch: 'z9hG4bK-s1', toTag: 'someone-else' }), none, flowFrom('udp', 6000));
  layer.receive(makeRequest('ACK', { ...stray, branch: 'z9hG4bK-s2' }), none, flowFrom('udp', 6000));
  assert.equal(r.state, 'waiting');
  assert.equal(tu.acks.length, 2, 'the TU still sees them (and drops them: they match no dialog)');
  assert.deepEqual(sendTimes(clock, transport, 'SIP/2.0 200 OK', 4000, 100), [500, 1500, 3500], 'the 2xx is still re-sent');
  clock.advance(28_000);
  assert.equal(timedOut, 1, 'no ACK for our 2xx came: the timeout that ends the call with a BYE');
  assert.equal(r.state, 'timedOut');
});

test('the ACK with the 2xx\'s own To tag stops it, from any branch', () => {
  const { layer, tu, clock } = setup({ autoTrying: false });
  const invite = makeRequest('INVITE', { callId: 'c-own', cseq: 2 });
  layer.receive(invite, none, flowFrom());
  let timedOut = 0;
  const r = layer.respond2xx(tu.requests[0]!.txn, makeResponse(invite, 200, 'ours'), { onTimeout: () => void timedOut++ });
  layer.receive(makeRequest('ACK', { branch: 'z9hG4bK-o1', callId: 'c-own', cseq: 2, toTag: 'ours', cseqMethod: 'ACK' }), none, flowFrom());
  assert.equal(r.state, 'acked');
  clock.advance(64_000);
  assert.equal(timedOut, 0);
});
