import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { sentBy, type ProxiedEnds } from '../../../../src/engine/core/proxy-hop.js';
import type { Flow } from '../../../../src/sip/transport/types.js';

const flow = (remoteAddress: string, remotePort: number, protocol: Flow['protocol'] = 'udp'): Flow =>
  ({ protocol, localAddress: '127.0.0.1', localPort: 5060, remoteAddress, remotePort });

const ends = (over: Partial<ProxiedEnds> = {}): ProxiedEnds => ({
  callerTag: 'a', toCaller: '127.0.0.2:5070', toCallee: '127.0.0.3:5080',
  caller: { protocol: 'udp', address: '127.0.0.2', port: 5070 },
  callee: { protocol: 'udp', address: '127.0.0.3', port: 5080 },
  ...over,
});

test('a request counts as a side\'s only from where that side was heard', () => {
  const e = ends();
  assert.equal(sentBy(e, true, flow('127.0.0.2', 5070)), true);
  assert.equal(sentBy(e, false, flow('127.0.0.3', 5080)), true);
  // Another port or a new TCP connection of the same host is the same side.
  assert.equal(sentBy(e, true, flow('127.0.0.2', 40000, 'tcp')), true);
  // The tags swapped: from the caller's address, claiming the callee; and the reverse.
  assert.equal(sentBy(e, false, flow('127.0.0.2', 5070)), false);
  assert.equal(sentBy(e, true, flow('127.0.0.3', 5080)), false);
  assert.equal(sentBy(e, true, flow('127.0.0.9', 5070)), false);
});

test('a side behind a proxy that did not record-route may send from the host of its hop', () => {
  // The caller's INVITE came through 127.0.0.7; its Contact (the hop toward it) is 127.0.0.2.
  const e = ends({ caller: { protocol: 'udp', address: '127.0.0.7', port: 5060 } });
  assert.equal(sentBy(e, true, flow('127.0.0.2', 5070)), true);
  assert.equal(sentBy(e, true, flow('127.0.0.7', 5060)), true);
  assert.equal(sentBy(e, false, flow('127.0.0.2', 5070)), false);
  // A caller whose Contact names the callee's address still cannot speak for the caller from there.
  const toCallee = ends({ toCaller: '127.0.0.3:5080' });
  assert.equal(sentBy(toCallee, true, flow('127.0.0.3', 5080)), false);
});

test('sides on one address are told apart by transport and port', () => {
  const e = ends({ callee: { protocol: 'udp', address: '127.0.0.2', port: 5080 } });
  assert.equal(sentBy(e, true, flow('127.0.0.2', 5070)), true);
  assert.equal(sentBy(e, false, flow('127.0.0.2', 5080)), true);
  assert.equal(sentBy(e, false, flow('127.0.0.2', 5070)), false);
  assert.equal(sentBy(e, true, flow('127.0.0.2', 5080)), false);
  assert.equal(sentBy(e, true, flow('127.0.0.2', 5070, 'tcp')), false);
});

test('both sides heard on one flow (one proxy in front of both): either tag is taken from it', () => {
  const sbc = { protocol: 'udp' as const, address: '127.0.0.8', port: 5060 };
  const e = ends({ caller: sbc, callee: sbc });
  assert.equal(sentBy(e, true, flow('127.0.0.8', 5060)), true);
  assert.equal(sentBy(e, false, flow('127.0.0.8', 5060)), true);
});
