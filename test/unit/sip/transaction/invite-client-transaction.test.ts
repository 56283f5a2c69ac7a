import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCancel } from '../../../../src/sip/transaction/build-cancel.js';
import { InviteClientTransaction } from '../../../../src/sip/transaction/invite-client-transaction.js';
import { flowTo, flush, headerOf, makeRequest, makeResponse, recordingClientUser, sendTimes, setup, targetOf } from './support.js';

const INVITE = 'INVITE sip:bob@127.0.0.3:5080 SIP/2.0';
const ACK = 'ACK sip:bob@127.0.0.3:5080 SIP/2.0';
const none = Buffer.alloc(0);

test('ICT over UDP: Timer A doubles without cap (500, 1000, 2000, 4000, 8000, 16000) until Timer B at 64*T1', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const txn = layer.sendRequest(makeRequest('INVITE'), { target: targetOf('udp'), user });
  assert.ok(txn instanceof InviteClientTransaction);
  assert.equal(txn.state, 'Calling');
  assert.deepEqual(txn.runningTimers(), ['A', 'B']);
  const times = sendTimes(clock, transport, INVITE, 32_000, 50);
  assert.deepEqual(times, [500, 1500, 3500, 7500, 15500, 31500]);
  assert.deepEqual(user.events, [{ type: 'timeout', state: 'Terminated' }]);
  assert.ok(!transport.lines().includes(ACK), 'Timer B generates no ACK');
  assert.equal(layer.stats().timeouts, 1);
  assert.equal(layer.stats().live.ict, 0);
});

test('ICT timers follow T1: with T1 = 100 ms Timer A starts at 100 and Timer B fires at 6400', () => {
  const { clock, transport, layer } = setup({ timers: { T1: 100 } });
  const user = recordingClientUser();
  layer.sendRequest(makeRequest('INVITE'), { target: targetOf('udp'), user });
  const times = sendTimes(clock, transport, INVITE, 6_400, 10);
  assert.deepEqual(times, [100, 300, 700, 1500, 3100, 6300]);
  assert.equal(user.events.length, 1);
  assert.equal(clock.now(), 6400);
});

test('ICT over TCP: no Timer A; Timer B still fires at 64*T1', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const txn = layer.sendRequest(makeRequest('INVITE', { protocol: 'TCP' }), { target: targetOf('tcp'), user });
  assert.deepEqual((txn as InviteClientTransaction).runningTimers(), ['B']);
  clock.advance(31_999);
  assert.deepEqual(transport.lines(), [INVITE]);
  clock.advance(1);
  assert.deepEqual(user.events, [{ type: 'timeout', state: 'Terminated' }]);
});

test('ICT: a provisional moves Calling → Proceeding, stops retransmission and Timer B', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const req = makeRequest('INVITE');
  const txn = layer.sendRequest(req, { target: targetOf('udp'), user });
  layer.receive(makeResponse(req, 180), none, flowTo(targetOf('udp')));
  layer.receive(makeResponse(req, 183), none, flowTo(targetOf('udp')));
  assert.equal(txn.state, 'Proceeding');
  clock.advance(100_000);
  assert.deepEqual(transport.lines(), [INVITE]);
  assert.equal(txn.state, 'Proceeding', 'an INVITE waits in Proceeding until a final response (Timer C is the TU\'s)');
  assert.deepEqual(user.events.map((e) => e.type === 'response' && e.status), [180, 183]);
});

test('ICT: 300-699 → Completed, ACK sent by the transaction (§17.1.1.3), retransmitted final re-sends the ACK only', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const req = makeRequest('INVITE', { route: ['<sip:proxy1.example;lr>', '<sip:proxy2.example;lr>'] });
  const txn = layer.sendRequest(req, { target: targetOf('udp'), user });
  layer.receive(makeResponse(req, 180), none, flowTo(targetOf('udp')));
  const busy = makeResponse(req, 486, 'calleetag');
  layer.receive(busy, none, flowTo(targetOf('udp')));
  assert.equal(txn.state, 'Completed');
  assert.deepEqual(transport.lines(), [INVITE, ACK]);
  const ack = transport.sent[1]!;
  assert.deepEqual(ack.target, targetOf('udp'), 'the ACK goes where the INVITE went');
  assert.deepEqual(headerOf(ack.text, 'via'), ['SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-test-1'], 'single Via, the INVITE\'s top Via (same branch)');
  assert.deepEqual(headerOf(ack.text, 'to'), ['<sip:bob@127.0.0.3>;tag=calleetag'], 'To from the response');
  assert.deepEqual(headerOf(ack.text, 'from'), headerOf(transport.sent[0]!.text, 'from'));
  assert.deepEqual(headerOf(ack.text, 'call-id'), ['call-1@127.0.0.2']);
  assert.deepEqual(headerOf(ack.text, 'cseq'), ['1 ACK']);
  assert.deepEqual(headerOf(ack.text, 'route'), ['<sip:proxy1.example;lr>', '<sip:proxy2.example;lr>']);
  layer.receive(busy, none, flowTo(targetOf('udp')));
  assert.deepEqual(transport.lines(), [INVITE, ACK, ACK]);
  assert.ok(transport.sent[2]!.data.equals(ack.data), 'the kept ACK bytes are re-sent');
  assert.deepEqual(user.events.map((e) => e.type === 'response' && e.status), [180, 486], 'the retransmitted 486 is not passed up');
  assert.equal(layer.stats().retransmissionsAbsorbed, 1);
});

test('ICT over UDP: Timer D is 32 s; over TCP Timer D is zero', () => {
  const { clock, layer } = setup();
  const req = makeRequest('INVITE');
  const txn = layer.sendRequest(req, { target: targetOf('udp'), user: recordingClientUser() });
  layer.receive(makeResponse(req, 404), none, flowTo(targetOf('udp')));
  clock.advance(31_999);
  assert.equal(txn.state, 'Completed');
  clock.advance(1);
  assert.equal(txn.state, 'Terminated');

  const req2 = makeRequest('INVITE', { protocol: 'TCP', branch: 'z9hG4bK-2' });
  const txn2 = layer.sendRequest(req2, { target: targetOf('tcp'), user: recordingClientUser() });
  layer.receive(makeResponse(req2, 404), none, flowTo(targetOf('tcp')));
  assert.equal(txn2.state, 'Terminated');
  assert.equal(layer.stats().live.ict, 0);
});

test('ICT (RFC 6026): 2xx → Accepted, no ACK from the transaction, further 2xx (forks, retransmissions) reach the TU, Timer M ends it', () => {
  const { clock, transport, layer, tu } = setup();
  const user = recordingClientUser();
  const req = makeRequest('INVITE');
  const txn = layer.sendRequest(req, { target: targetOf('udp'), user });
  layer.receive(makeResponse(req, 200, 'a'), none, flowTo(targetOf('udp')));
  assert.equal(txn.state, 'Accepted');
  assert.deepEqual((txn as InviteClientTransaction).runningTimers(), ['M']);
  layer.receive(makeResponse(req, 200, 'a'), none, flowTo(targetOf('udp')));
  layer.receive(makeResponse(req, 200, 'b'), none, flowTo(targetOf('udp')));
  layer.receive(makeResponse(req, 486), none, flowTo(targetOf('udp')));
  assert.deepEqual(user.events.map((e) => e.type === 'response' && e.status), [200, 200, 200]);
  assert.deepEqual(transport.lines(), [INVITE], 'the ACK for a 2xx is the TU\'s');
  clock.advance(31_999);
  assert.equal(txn.state, 'Accepted');
  clock.advance(1);
  assert.equal(txn.state, 'Terminated');
  layer.receive(makeResponse(req, 200, 'a'), none, flowTo(targetOf('udp')));
  assert.equal(tu.strays.length, 1, 'after Timer M a 2xx is a stray response');
});

test('ICT: a 2xx straight from Calling stops Timer A and B', () => {
  const { clock, transport, layer } = setup();
  const req = makeRequest('INVITE');
  const txn = layer.sendRequest(req, { target: targetOf('udp'), user: recordingClientUser() });
  layer.receive(makeResponse(req, 200), none, flowTo(targetOf('udp')));
  clock.advance(20_000);
  assert.deepEqual(transport.lines(), [INVITE]);
  assert.equal(txn.state, 'Accepted');
});

test('ICT: the ACK for a non-2xx goes on the INVITE\'s connection', async () => {
  const { transport, layer } = setup();
  const req = makeRequest('INVITE', { protocol: 'TLS' });
  layer.sendRequest(req, { target: targetOf('tls'), user: recordingClientUser() });
  await flush();
  layer.receive(makeResponse(req, 603), none, flowTo(targetOf('tls')));
  assert.equal(transport.sent[1]!.line, ACK);
  assert.equal(transport.sent[1]!.target.connectionId, 'conn-out-1');
});

test('ICT CANCELled in Proceeding with no final response ends 64*T1 after the CANCEL, its TU told of a timeout (§9.1)', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const invite = makeRequest('INVITE', { branch: 'z9hG4bK-cx' });
  const txn = layer.sendRequest(invite, { target: targetOf('udp'), user });
  layer.receive(makeResponse(invite, 180), none, flowTo(targetOf('udp')));
  clock.advance(10_000);
  assert.equal(layer.cancel(txn, recordingClientUser()), 'sent');
  assert.equal(transport.lines().filter((l) => l.startsWith('CANCEL ')).length, 1);
  layer.receive(makeResponse(buildCancel(invite), 200), none, flowTo(targetOf('udp')));
  clock.advance(32_000 - 1);
  assert.equal(txn.state, 'Proceeding');
  clock.advance(1);
  assert.equal(txn.state, 'Terminated');
  assert.deepEqual(user.events, [{ type: 'response', status: 180, state: 'Proceeding' }, { type: 'timeout', state: 'Terminated' }]);
  assert.equal(layer.stats().timeouts, 1);
  assert.deepEqual(layer.stats().live, { ict: 0, nict: 0, ist: 0, nist: 0 });
});

test('ICT CANCELled: a final response before 64*T1 stops that wait; no timeout', () => {
  const { clock, layer } = setup();
  const user = recordingClientUser();
  const invite = makeRequest('INVITE', { branch: 'z9hG4bK-cy' });
  const txn = layer.sendRequest(invite, { target: targetOf('udp'), user });
  layer.receive(makeResponse(invite, 180), none, flowTo(targetOf('udp')));
  layer.cancel(txn, recordingClientUser());
  layer.receive(makeResponse(buildCancel(invite), 200), none, flowTo(targetOf('udp')));
  assert.ok(txn.runningTimers().includes('Cancel'));
  layer.receive(makeResponse(invite, 487), none, flowTo(targetOf('udp')));
  assert.ok(!txn.runningTimers().includes('Cancel'));
  clock.advance(64_000);
  assert.equal(layer.stats().timeouts, 0);
  assert.deepEqual(user.events.map((e) => e.type), ['response', 'response']);
});

test('the CANCEL goes out on the connection the INVITE left on, as its ACK would', async () => {
  const { transport, layer } = setup();
  const invite = makeRequest('INVITE', { branch: 'z9hG4bK-cz', protocol: 'TCP' });
  const txn = layer.sendRequest(invite, { target: targetOf('tcp'), user: recordingClientUser() });
  await flush();
  layer.receive(makeResponse(invite, 180), none, flowTo(targetOf('tcp')));
  assert.equal(layer.cancel(txn, recordingClientUser()), 'sent');
  assert.deepEqual(transport.sent.at(-1)!.target, { ...targetOf('tcp'), connectionId: 'conn-out-1' });
});
