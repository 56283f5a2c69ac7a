import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InviteServerTransaction } from '../../../../src/sip/transaction/invite-server-transaction.js';
import type { SipRequest } from '../../../../src/sip/message/types.js';
import { flowFrom, makeRequest, makeResponse, sendTimes, setup } from './support.js';

const none = Buffer.alloc(0);

function start(protocol: 'udp' | 'tcp' = 'udp', opts: Parameters<typeof setup>[0] = {}) {
  const s = setup(opts);
  const invite = makeRequest('INVITE', { protocol: protocol.toUpperCase() });
  const flow = flowFrom(protocol);
  s.layer.receive(invite, none, flow);
  assert.equal(s.tu.requests.length, 1);
  const txn = s.tu.requests[0]!.txn as InviteServerTransaction;
  assert.ok(txn instanceof InviteServerTransaction);
  const ack = (toTag = 'totag9'): SipRequest => makeRequest('ACK', { protocol: protocol.toUpperCase(), toTag, cseqMethod: 'ACK' });
  return { ...s, invite, flow, txn, ack };
}

test('IST starts in Proceeding and sends 100 Trying itself when the TU is silent for 200 ms', () => {
  const { clock, transport, txn } = start();
  assert.equal(txn.state, 'Proceeding');
  clock.advance(199);
  assert.equal(transport.sent.length, 0);
  clock.advance(1);
  assert.deepEqual(transport.lines(), ['SIP/2.0 100 Trying']);
  assert.deepEqual(transport.sent[0]!.target, { protocol: 'udp', address: '127.0.0.2', port: 5070 });
});

test('IST without autoTrying: a retransmitted INVITE before any response re-sends nothing, then the last provisional', () => {
  const { transport, layer, txn, invite, flow, tu } = start('udp', { autoTrying: false });
  layer.receive(invite, none, flow);
  assert.equal(transport.sent.length, 0);
  txn.respond(makeResponse(invite, 180));
  txn.respond(makeResponse(invite, 183));
  layer.receive(invite, none, flow);
  assert.deepEqual(transport.lines(), ['SIP/2.0 180 Ringing', 'SIP/2.0 183 Session Progress', 'SIP/2.0 183 Session Progress']);
  assert.ok(transport.sent[2]!.data.equals(transport.sent[1]!.data));
  assert.equal(tu.requests.length, 1, 'retransmissions are absorbed');
  assert.equal(layer.stats().retransmissionsAbsorbed, 2);
});

test('IST over UDP: 300-699 → Completed; Timer G 500, 1000, 2000, 4000, 4000 ... until Timer H at 64*T1 informs the TU', () => {
  const { clock, transport, txn, invite, tu, layer } = start();
  txn.respond(makeResponse(invite, 486));
  assert.equal(txn.state, 'Completed');
  assert.deepEqual(txn.runningTimers(), ['G', 'H']);
  const times = sendTimes(clock, transport, 'SIP/2.0 486 Busy Here', 32_000, 50);
  assert.deepEqual(times, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(txn.state, 'Terminated');
  assert.deepEqual(tu.errors.map((e) => e.code), ['ERR_SIP_TRANSACTION_NO_ACK']);
  assert.equal(layer.stats().timeouts, 1);
  assert.equal(layer.stats().live.ist, 0);
});

test('IST: a retransmitted INVITE in Completed re-sends the final; the ACK moves it to Confirmed, Timer I = T4 absorbs ACKs', () => {
  const { clock, transport, txn, invite, flow, layer, tu, ack } = start();
  txn.respond(makeResponse(invite, 404));
  layer.receive(invite, none, flow);
  assert.deepEqual(transport.lines(), ['SIP/2.0 404 Not Found', 'SIP/2.0 404 Not Found']);
  layer.receive(ack(), none, flow);
  assert.equal(txn.state, 'Confirmed');
  assert.deepEqual(txn.runningTimers(), ['I']);
  layer.receive(ack(), none, flow);
  assert.equal(tu.acks.length, 0, 'the ACK for a non-2xx stays in the transaction');
  clock.advance(4999);
  assert.equal(txn.state, 'Confirmed');
  assert.equal(transport.sent.length, 2, 'Timer G stopped');
  clock.advance(1);
  assert.equal(txn.state, 'Terminated');
});

test('IST over TCP: no Timer G, Timer H 64*T1, Timer I zero', () => {
  const { clock, transport, txn, invite, flow, layer, ack } = start('tcp');
  txn.respond(makeResponse(invite, 486));
  assert.deepEqual(txn.runningTimers(), ['H']);
  clock.advance(10_000);
  assert.equal(transport.sent.length, 1);
  assert.equal(transport.sent[0]!.target.connectionId, 'conn-in-1', 'responses go back on the request\'s connection');
  layer.receive(ack(), none, flow);
  assert.equal(txn.state, 'Terminated');
});

test('IST (RFC 6026): 2xx → Accepted with Timer L; no retransmission by the transaction; INVITE retransmissions absorbed', () => {
  const { clock, transport, txn, invite, flow, layer, tu } = start();
  const ok = makeResponse(invite, 200);
  txn.respond(ok);
  assert.equal(txn.state, 'Accepted');
  assert.deepEqual(txn.runningTimers(), ['L']);
  layer.receive(invite, none, flow);
  clock.advance(10_000);
  assert.deepEqual(transport.lines(), ['SIP/2.0 200 OK'], 'neither Timer G nor the retransmitted INVITE re-sends the 2xx');
  assert.equal(tu.requests.length, 1);
  // "While in the "Accepted" state, if the TU passes a 2xx response, the server transaction MUST pass the response to the transport"
  assert.equal(txn.respond(ok), true);
  assert.equal(transport.sent.length, 2);
  assert.ok(transport.sent[1]!.data.equals(transport.sent[0]!.data), 'the same response object re-sends the kept bytes');
  assert.equal(txn.respond(makeResponse(invite, 486)), false, 'a non-2xx is refused in Accepted');
  clock.advance(21_999);
  assert.equal(txn.state, 'Accepted');
  clock.advance(1);
  assert.equal(txn.state, 'Terminated');
});

test('IST (RFC 6026): an ACK matched to the transaction in Accepted is passed to the TU', () => {
  const { txn, invite, flow, layer, tu, ack } = start();
  txn.respond(makeResponse(invite, 200));
  layer.receive(ack(), none, flow); // same branch as the INVITE (an RFC 2543-style UAC)
  assert.equal(tu.acks.length, 1);
  assert.equal(txn.state, 'Accepted');
});

test('IST: responses after the final one are refused; a provisional after 100 replaces it as the one re-sent', () => {
  const { transport, txn, invite, flow, layer, clock } = start();
  clock.advance(200); // 100 Trying
  txn.respond(makeResponse(invite, 180));
  layer.receive(invite, none, flow);
  assert.deepEqual(transport.lines(), ['SIP/2.0 100 Trying', 'SIP/2.0 180 Ringing', 'SIP/2.0 180 Ringing']);
  txn.respond(makeResponse(invite, 486));
  assert.equal(txn.respond(makeResponse(invite, 200)), false);
  assert.equal(txn.respond(makeResponse(invite, 180)), false);
  assert.throws(() => txn.respond(makeResponse(invite, 99)), RangeError);
});

test('IST Timer H over TCP still fires at 64*T1', () => {
  const { clock, txn, invite, tu } = start('tcp', { timers: { T1: 250 } });
  txn.respond(makeResponse(invite, 500));
  clock.advance(15_999);
  assert.equal(txn.state, 'Completed');
  clock.advance(1);
  assert.equal(txn.state, 'Terminated');
  assert.equal(tu.errors.length, 1);
});
