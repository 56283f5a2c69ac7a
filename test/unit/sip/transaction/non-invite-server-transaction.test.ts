import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonInviteServerTransaction } from '../../../../src/sip/transaction/non-invite-server-transaction.js';
import { flowFrom, makeRequest, makeResponse, setup } from './support.js';

const none = Buffer.alloc(0);

function start(protocol: 'udp' | 'tcp' = 'udp') {
  const s = setup();
  const request = makeRequest('BYE', { protocol: protocol.toUpperCase(), toTag: 'totag9' });
  const flow = flowFrom(protocol);
  s.layer.receive(request, none, flow);
  const txn = s.tu.requests[0]!.txn as NonInviteServerTransaction;
  assert.ok(txn instanceof NonInviteServerTransaction);
  return { ...s, request, flow, txn };
}

test('NIST: Trying absorbs retransmissions silently; a provisional → Proceeding, re-sent on retransmission', () => {
  const { transport, txn, request, flow, layer, tu } = start();
  assert.equal(txn.state, 'Trying');
  layer.receive(request, none, flow);
  assert.equal(transport.sent.length, 0);
  txn.respond(makeResponse(request, 100));
  assert.equal(txn.state, 'Proceeding');
  layer.receive(request, none, flow);
  assert.deepEqual(transport.lines(), ['SIP/2.0 100 Trying', 'SIP/2.0 100 Trying']);
  assert.equal(tu.requests.length, 1);
  assert.equal(layer.stats().retransmissionsAbsorbed, 2);
  assert.equal(layer.stats().retransmissionsSent, 1);
});

test('NIST over UDP: a final response → Completed; retransmitted requests get it again; Timer J = 64*T1', () => {
  const { clock, transport, txn, request, flow, layer } = start();
  txn.respond(makeResponse(request, 200));
  assert.equal(txn.state, 'Completed');
  layer.receive(request, none, flow);
  assert.deepEqual(transport.lines(), ['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
  assert.equal(txn.respond(makeResponse(request, 500)), false, 'further finals are discarded');
  assert.equal(transport.sent.length, 2);
  clock.advance(31_999);
  assert.equal(txn.state, 'Completed');
  clock.advance(1);
  assert.equal(txn.state, 'Terminated');
  assert.equal(layer.stats().live.nist, 0);
});

test('NIST over TCP: Timer J is zero; the response goes on the request\'s connection', () => {
  const { transport, txn, request } = start('tcp');
  txn.respond(makeResponse(request, 200));
  assert.equal(txn.state, 'Terminated');
  assert.equal(transport.sent[0]!.target.connectionId, 'conn-in-1');
});

test('NIST: provisional from Proceeding, then final from Proceeding', () => {
  const { txn, request, transport } = start();
  txn.respond(makeResponse(request, 100));
  txn.respond(makeResponse(request, 183));
  assert.equal(txn.state, 'Proceeding');
  txn.respond(makeResponse(request, 481));
  assert.equal(txn.state, 'Completed');
  assert.deepEqual(transport.lines(), ['SIP/2.0 100 Trying', 'SIP/2.0 183 Session Progress', 'SIP/2.0 481 Status']);
});
