import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonInviteClientTransaction } from '../../../../src/sip/transaction/non-invite-client-transaction.js';
import { flowTo, flush, makeRequest, makeResponse, recordingClientUser, sendTimes, setup, targetOf } from './support.js';

const OPTIONS = 'OPTIONS sip:bob@127.0.0.3:5080 SIP/2.0';

test('NICT over UDP: Timer E backs off from T1 to T2 (500, 1000, 2000, 4000, 4000 ...) until Timer F at 64*T1', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const txn = layer.sendRequest(makeRequest('OPTIONS'), { target: targetOf('udp'), user });
  assert.ok(txn instanceof NonInviteClientTransaction);
  assert.equal(txn.state, 'Trying');
  assert.deepEqual(transport.lines(), [OPTIONS]);
  const times = sendTimes(clock, transport, OPTIONS, 32_000, 50);
  // retransmissions at 500, 1500, 3500, 7500, then every 4000 while Trying, up to 31500
  assert.deepEqual(times, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.deepEqual(user.events, [{ type: 'timeout', state: 'Terminated' }]);
  assert.equal(txn.state, 'Terminated');
  assert.equal(layer.stats().timeouts, 1);
  assert.equal(layer.stats().retransmissionsSent, 10);
  assert.equal(layer.stats().live.nict, 0);
});

test('NICT over UDP: a provisional moves Trying → Proceeding and Timer E is then reset to T2', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const req = makeRequest('OPTIONS');
  const txn = layer.sendRequest(req, { target: targetOf('udp'), user });
  clock.advance(600); // one retransmission at 500, next due at 1500
  layer.receive(makeResponse(req, 100), Buffer.alloc(0), flowTo(targetOf('udp')));
  assert.equal(txn.state, 'Proceeding');
  assert.deepEqual(user.events, [{ type: 'response', status: 100, state: 'Proceeding' }]);
  // the pending E (due 1500) fires, then every T2
  const times = sendTimes(clock, transport, OPTIONS, 10_000, 50);
  assert.deepEqual(times, [1500, 5500, 9500]);
});

test('NICT over UDP: a final response completes it; Timer K = T4 absorbs retransmitted responses, then Terminated', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const req = makeRequest('OPTIONS');
  const txn = layer.sendRequest(req, { target: targetOf('udp'), user });
  const flow = flowTo(targetOf('udp'));
  layer.receive(makeResponse(req, 200), Buffer.alloc(0), flow);
  assert.equal(txn.state, 'Completed');
  layer.receive(makeResponse(req, 200), Buffer.alloc(0), flow);
  assert.equal(user.events.length, 1, 'the retransmitted 200 is not passed up');
  assert.equal(layer.stats().retransmissionsAbsorbed, 1);
  clock.advance(10_000);
  assert.deepEqual(transport.lines(), [OPTIONS], 'no retransmission after the final response');
  assert.equal(txn.state, 'Terminated');
});

test('NICT Timer K fires exactly at T4', () => {
  const { clock, layer } = setup({ timers: { T4: 3000 } });
  const req = makeRequest('OPTIONS');
  const txn = layer.sendRequest(req, { target: targetOf('udp'), user: recordingClientUser() });
  layer.receive(makeResponse(req, 404), Buffer.alloc(0), flowTo(targetOf('udp')));
  clock.advance(2999);
  assert.equal(txn.state, 'Completed');
  clock.advance(1);
  assert.equal(txn.state, 'Terminated');
});

test('NICT over TCP: no Timer E, Timer F still 64*T1, Timer K zero', () => {
  const { clock, transport, layer } = setup();
  const user = recordingClientUser();
  const req = makeRequest('OPTIONS', { protocol: 'TCP' });
  const txn = layer.sendRequest(req, { target: targetOf('tcp'), user });
  assert.deepEqual((txn as NonInviteClientTransaction).runningTimers(), ['F']);
  clock.advance(31_999);
  assert.deepEqual(transport.lines(), [OPTIONS]);
  assert.equal(txn.state, 'Trying');
  clock.advance(1);
  assert.deepEqual(user.events, [{ type: 'timeout', state: 'Terminated' }]);

  const req2 = makeRequest('OPTIONS', { protocol: 'TCP', branch: 'z9hG4bK-tcp-2' });
  const txn2 = layer.sendRequest(req2, { target: targetOf('tcp'), user });
  layer.receive(makeResponse(req2, 200), Buffer.alloc(0), flowTo(targetOf('tcp')));
  assert.equal(txn2.state, 'Terminated', 'Timer K is zero on reliable transports');
  assert.equal(layer.stats().live.nict, 0);
});

test('NICT: the flow is known once the transport sent the request; retransmissions reuse its connection', async () => {
  const { layer } = setup();
  const txn = layer.sendRequest(makeRequest('OPTIONS'), { target: targetOf('udp'), user: recordingClientUser() });
  assert.equal(txn.flow, undefined);
  await flush();
  const flow = txn.flow as { remotePort: number } | undefined;
  assert.equal(flow?.remotePort, 5080);
});

test('NICT: a final response in Trying and a provisional after it are handled per state', () => {
  const { layer } = setup();
  const user = recordingClientUser();
  const req = makeRequest('REGISTER');
  layer.sendRequest(req, { target: targetOf('udp'), user });
  const flow = flowTo(targetOf('udp'));
  layer.receive(makeResponse(req, 486), Buffer.alloc(0), flow);
  layer.receive(makeResponse(req, 180), Buffer.alloc(0), flow);
  assert.deepEqual(user.events, [{ type: 'response', status: 486, state: 'Completed' }]);
});
