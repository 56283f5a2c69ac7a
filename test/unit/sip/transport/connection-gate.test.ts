import { strict as assert } from 'node:assert';
import { EventEmitter, once } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionGate, tcpSocketOf, type ConnectionLimitCode } from '../../../../src/sip/transport/connection-gate.js';

let nextPort = 40_000;
type FakeSocket = Socket & { close(): void };
function socket(remoteAddress: string): FakeSocket {
  const s = new EventEmitter() as unknown as FakeSocket;
  let destroyed = false;
  Object.defineProperty(s, 'destroyed', { get: () => destroyed });
  // Each read of a real socket's local port is a getsockname(2); the gate must not need one.
  Object.defineProperty(s, 'localPort', {
    get: () => {
      throw new Error('the gate needs no local port: the listener id stands for it');
    },
  });
  Object.assign(s, {
    remoteAddress, remotePort: nextPort++,
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
  assert.equal(g.admit(socket('10.0.0.1')), true, 'a plain TCP connection is no handshake');
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

test('connections and handshakes from one IPv6 /64 count as one source, whichever addresses of it they come from', () => {
  const { g, refused } = gate({ maxConnectionsPerSource: 2, maxHandshakesPerSource: 100 });
  const a = ['2001:db8:5:5::1', '2001:db8:5:5::2', '2001:db8:5:5:ffff::3'].map(socket);
  assert.deepEqual(a.map((s) => g.admit(s)), [true, true, false]);
  assert.deepEqual(refused, ['ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT']);
  assert.equal(g.admit(socket('2001:db8:5:6::1')), true, 'another /64');
  a[0]!.close();
  assert.equal(g.admit(socket('2001:db8:5:5::9')), true, 'a closed one frees its place');
});

test('the same remote address and port on two TLS listeners are two handshakes, each ended by its own socket', () => {
  const { g } = gate({ maxHandshakesPerSource: 10 });
  const one = socket('10.0.3.1');
  const two = socket('10.0.3.1');
  Object.assign(two, { remotePort: one.remotePort });
  assert.equal(g.admit(one, true), true);
  assert.equal(g.admit(two, true), true);
  assert.equal(g.handshakes, 2);
  g.handshakeDone(two);
  assert.equal(g.handshakes, 1, 'only the second socket\'s handshake ended');
  g.handshakeDone(two);
  assert.equal(g.handshakes, 1, 'ending it twice changes nothing');
  g.handshakeDone(one);
  assert.equal(g.handshakes, 0);
});

test('a socket that reports its close twice is let go once', () => {
  const { g } = gate({});
  const a = socket('10.0.4.1');
  const b = socket('10.0.4.1');
  assert.equal(g.admit(a, true), true);
  assert.equal(g.admit(b, true), true);
  a.close();
  a.close();
  assert.equal(g.open, 1, 'one of two closed');
  assert.equal(g.handshakes, 1, 'the other one is still in its handshake');
  g.handshakeDone(a);
  assert.equal(g.handshakes, 1, 'a closed socket has no handshake left to end');
});

test('the total handshake cap refuses a new source once the cap is reached, and counts the code', () => {
  const { g, refused } = gate({ maxHandshakes: 3, maxHandshakesPerSource: 10 });
  const ok = [1, 2, 3].map((i) => g.admit(socket(`10.0.1.${i}`), true));
  assert.deepEqual(ok, [true, true, true]);
  assert.equal(g.admit(socket('10.0.1.9'), true), false);
  assert.deepEqual(refused, ['ERR_SIP_TRANSPORT_HANDSHAKE_LIMIT']);
  assert.equal(g.admit(socket('10.0.1.9')), true, 'TCP is still taken while handshakes are full');
});

test('the connection caps come before the handshake caps', () => {
  const { g, refused } = gate({ maxConnections: 2, maxHandshakes: 1 });
  assert.equal(g.admit(socket('10.0.2.1')), true);
  assert.equal(g.admit(socket('10.0.2.2'), true), true);
  assert.equal(g.admit(socket('10.0.2.3'), true), false);
  assert.deepEqual(refused, ['ERR_SIP_TRANSPORT_CONN_LIMIT']);
});

test('a real TLS handshake is ended through the TCP socket under the TLS one, without asking either socket for its peer again', async () => {
  const { createServer, connect } = await import('node:tls');
  const { createLocalCa, issueGatewayCertificate } = await import('../../../../src/pki/index.js');
  const ca = createLocalCa({ key: { type: 'ec' } });
  const tp = issueGatewayCertificate(ca, { domain: 'gw.example.com', key: { type: 'ec' } });
  const { g } = gate({});
  let raw: Socket | undefined;
  const peerReads: string[] = [];
  let underTls: Socket | undefined;
  let handshakesAfterDone: number | undefined;
  const server = createServer({ key: tp.keyPem, cert: tp.certPem }, (tls) => {
    // Any read of the TLS socket's peer from here on would be a second getpeername(2).
    const read = (name: string) => () => {
      peerReads.push(name);
      return undefined;
    };
    Object.defineProperty(tls, 'remoteAddress', { get: read('remoteAddress') });
    Object.defineProperty(tls, 'remotePort', { get: read('remotePort') });
    underTls = tcpSocketOf(tls);
    g.handshakeDone(tls);
    handshakesAfterDone = g.handshakes;
    tls.end();
  });
  let admitted: boolean | undefined;
  server.prependListener('connection', (s: Socket) => {
    raw = s;
    admitted = g.admit(s, true);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, rejectUnauthorized: false });
  client.on('error', () => undefined);
  await once(client, 'close');
  assert.ok(raw, 'the server accepted the connection');
  if (!raw.closed) await once(raw, 'close');
  server.close();
  assert.equal(admitted, true);
  assert.equal(underTls, raw, 'the TCP socket the server accepted');
  assert.equal(handshakesAfterDone, 0, 'the handshake ended at once');
  assert.deepEqual(peerReads, []);
  assert.equal(g.handshakes, 0);
  assert.equal(g.open, 0, 'the close freed the connection');
});

test('a socket with nothing under it is its own TCP socket', () => {
  const s = socket('10.0.9.1');
  assert.equal(tcpSocketOf(s), s);
});
