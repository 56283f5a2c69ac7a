import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionGate, type ConnectionLimitCode } from '../../../../src/sip/transport/connection-gate.js';

let nextPort = 40_000;
type FakeSocket = Socket & { close(): void };
function socket(remoteAddress: string): FakeSocket {
  const s = new EventEmitter() as unknown as FakeSocket;
  let destroyed = false;
  Object.defineProperty(s, 'destroyed', { get: () => destroyed });
  Object.assign(s, {
    remoteAddress, remotePort: nextPort++, localPort: 5061,
    destroy: () => {
      destroyed = true;
      return s;
    },
    close: () => s.emit('close'),
  });
  return s;
}

function gate(limits: Partial<{ maxConnections: number; maxConnectionsPerSource: number; maxHandshakes: number; maxHandshakesPerSource: number }>) {
  const refused: ConnectionLimitCode[] = [];
  return { g: new ConnectionGate(limits, (code) => refused.push(code)), refused };
}

test('TLS handshakes in progress are capped per source, apart from the connection caps; a finished one frees its place', () => {
  const { g, refused } = gate({ maxHandshakesPerSource: 2, maxHandshakes: 100 });
  const a = [socket('10.0.0.1'), socket('10.0.0.1'), socket('10.0.0.1')];
  assert.deepEqual(a.map((s) => g.admit(s, true)), [true, true, false]);
  assert.deepEqual(refused, ['ERR_SIP_TRANSPORT_HANDSHAKE_SOURCE_LIMIT']);
  assert.equal(a[2]!.destroyed, true, 'a refused socket is destroyed at accept');
  assert.equal(g.admit(socket('10.0.0.1'), false), true, 'a plain TCP connection is no handshake');
  assert.equal(g.handshakes, 2);
  g.handshakeDone(a[0]!);
  assert.equal(g.handshakes, 1);
  assert.equal(g.admit(socket('10.0.0.1'), true), true, 'the finished handshake made room');
  a[0]!.close();
  assert.equal(g.handshakes, 2, 'closing a connection whose handshake finished does not count it again');
  a[1]!.close();
  assert.equal(g.handshakes, 1, 'a connection closed during its handshake frees its place');
  assert.equal(g.open, 2, 'four admitted, two closed');
});

test('the total handshake cap refuses a new source once the cap is reached, and counts the code', () => {
  const { g, refused } = gate({ maxHandshakes: 3, maxHandshakesPerSource: 10 });
  const ok = [1, 2, 3].map((i) => g.admit(socket(`10.0.1.${i}`), true));
  assert.deepEqual(ok, [true, true, true]);
  assert.equal(g.admit(socket('10.0.1.9'), true), false);
  assert.deepEqual(refused, ['ERR_SIP_TRANSPORT_HANDSHAKE_LIMIT']);
  assert.equal(g.admit(socket('10.0.1.9'), false), true, 'TCP is still taken while handshakes are full');
});

test('the connection caps come before the handshake caps', () => {
  const { g, refused } = gate({ maxConnections: 2, maxHandshakes: 1 });
  assert.equal(g.admit(socket('10.0.2.1'), false), true);
  assert.equal(g.admit(socket('10.0.2.2'), true), true);
  assert.equal(g.admit(socket('10.0.2.3'), true), false);
  assert.deepEqual(refused, ['ERR_SIP_TRANSPORT_CONN_LIMIT']);
});
