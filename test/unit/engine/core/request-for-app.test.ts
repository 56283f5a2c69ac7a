// The tenant of the listener a request arrived on, as X-Trunkgate-Peer tells the app: a listener bound after the
// first request (Engine.retryListeners binds a tenant listener that could not bind at start) names its tenant too.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RequestForApp } from '../../../../src/engine/core/request-for-app.js';
import { ProxyIdentity } from '../../../../src/engine/core/proxy-identity.js';
import { parsePeerHeader } from '../../../../src/b2bua/peer-header.js';
import { header, type SipRequest } from '../../../../src/sip/message/index.js';
import type { Flow, ListenerInfo } from '../../../../src/sip/transport/types.js';

const bye = {
  type: 'request', method: 'BYE', uri: 'sip:x@192.0.2.10', version: 'SIP/2.0',
  headers: [header('Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1'), header('To', '<sip:x@192.0.2.10>;tag=1')],
  body: Buffer.alloc(0),
} as unknown as SipRequest;

const udp = (id: string, port: number, tenant?: string): ListenerInfo =>
  ({ id, protocol: 'udp', address: '127.0.0.1', port, ...(tenant !== undefined ? { tenant } : {}) });

const flowOn = (listenerId: string, localPort: number): Flow =>
  ({ protocol: 'udp', localAddress: '127.0.0.1', localPort, remoteAddress: '192.0.2.1', remotePort: 5060, listenerId });

/** A RequestForApp over a listener list the test changes, counting how often it is read. */
function setup(initial: ListenerInfo[]) {
  const state = { listeners: initial, reads: 0 };
  const forApp = new RequestForApp({
    listeners: () => {
      state.reads++;
      return state.listeners.map((l) => ({ ...l }));
    },
    proxyIds: new ProxyIdentity([]), onProxyIdentityTaken: () => undefined,
  });
  const peer = (flow: Flow) => parsePeerHeader(/^X-Trunkgate-Peer: (.*)$/m.exec(forApp.text(bye, flow))?.[1] ?? '');
  return { state, peer };
}

test('a listener bound after the first request names its tenant to the app', () => {
  const { state, peer } = setup([udp('udp-1', 5060, 'a')]);
  assert.equal(peer(flowOn('udp-1', 5060))?.tenant, 'a');
  state.listeners = [...state.listeners, udp('udp-2', 5062, 'b')]; // bound later, on a configuration reload
  const p = peer(flowOn('udp-2', 5062));
  assert.equal(p?.tenant, 'b');
  assert.equal(p?.transport, 'udp');
  assert.equal(peer(flowOn('udp-1', 5060))?.tenant, 'a', 'the first listener keeps its tenant');
});

test('the listeners are read once per listener not seen before, not once per request', () => {
  const { state, peer } = setup([udp('udp-1', 5060, 'a'), udp('udp-plain', 5070)]);
  for (let i = 0; i < 5; i++) {
    assert.equal(peer(flowOn('udp-1', 5060))?.tenant, 'a');
    assert.equal(peer(flowOn('udp-plain', 5070))?.tenant, undefined, 'a listener without a tenant names none');
  }
  assert.equal(state.reads, 1);
  state.listeners = [...state.listeners, udp('udp-2', 5062, 'b')];
  for (let i = 0; i < 5; i++) assert.equal(peer(flowOn('udp-2', 5062))?.tenant, 'b');
  assert.equal(state.reads, 2);
});

test('a request before any listener is open names no tenant, and one after they open does', () => {
  const { state, peer } = setup([]);
  assert.equal(peer(flowOn('udp-1', 5060))?.tenant, undefined);
  state.listeners = [udp('udp-1', 5060, 'a')];
  assert.equal(peer(flowOn('udp-1', 5060))?.tenant, 'a');
});
