import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import { TransportLayer, type ListenerSpec } from '../../src/sip/transport/transport-layer.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';

// Sockets the connection gate refuses at accept are destroyed there and nothing else: no connection, no event.

async function layerWith(t: TestContext, spec: ListenerSpec): Promise<{ layer: TransportLayer; opened: string[]; closed: string[] }> {
  const layer = new TransportLayer({ listeners: [spec], connections: { maxConnectionsPerSource: 1 } });
  t.after(() => layer.close());
  await layer.start();
  const opened: string[] = [];
  const closed: string[] = [];
  layer.on('connectionOpen', (c) => opened.push(c.id));
  layer.on('connectionClose', (c) => closed.push(c.id));
  return { layer, opened, closed };
}

const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('TCP: sockets refused past maxConnectionsPerSource get no connection, no events and no counts', async (t) => {
  const { layer, opened, closed } = await layerWith(t, { id: 'tcp', protocol: 'tcp', host: '127.0.0.1', port: 0 });
  const port = layer.listeners()[0]!.port;
  const sockets: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    t.after(() => s.destroy());
    sockets.push(s);
    await once(s, 'connect');
  }
  await settle();
  const st = layer.stats();
  assert.equal(st.drops.ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT, 3);
  assert.equal(layer.connections().length, 1);
  assert.equal(st.connectionsOpen, 1);
  assert.equal(st.connectionsOpened, 1);
  assert.equal(st.connectionsClosed, 0);
  assert.equal(st.inboundSockets, 1);
  assert.equal(opened.length, 1);
  assert.equal(closed.length, 0);
});

test('TLS: sockets refused past maxConnectionsPerSource are neither connections nor handshake failures', async (t) => {
  await requireOpenssl();
  const ca = await createTestCa();
  t.after(() => ca.cleanup());
  const cert = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'IP:127.0.0.1'] });
  const { layer, opened, closed } = await layerWith(t, { id: 'tls', protocol: 'tls', host: '127.0.0.1', port: 0, tls: { key: cert.key, cert: cert.cert } });
  const port = layer.listeners()[0]!.port;
  const first = tlsConnect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'gw.test' });
  first.on('error', () => undefined);
  t.after(() => first.destroy());
  await once(first, 'secureConnect');
  for (let i = 0; i < 3; i++) {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    t.after(() => s.destroy());
    await once(s, 'connect');
  }
  await settle();
  const st = layer.stats();
  assert.equal(st.drops.ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT, 3);
  assert.equal(st.tlsHandshakeFailures, 0);
  assert.equal(st.tlsHandshakes, 0);
  assert.equal(layer.connections().length, 1);
  assert.equal(st.connectionsOpened, 1);
  assert.equal(st.connectionsClosed, 0);
  assert.equal(opened.length, 1);
  assert.equal(closed.length, 0);
});
