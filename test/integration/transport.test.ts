import { createSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { TransportLayer, type TransportLayerOptions } from '../../src/sip/transport/transport-layer.js';
import type { TransportProtocol } from '../../src/sip/transport/types.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { runTransportSuite, type RawClient, type TransportHarness } from './transport.case.js';

async function ipv6Loopback(): Promise<boolean> {
  const s = createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '::1', () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    try {
      s.close();
    } catch {
      // never bound
    }
  }
}

const haveIpv6 = await ipv6Loopback();
const hosts = haveIpv6 ? ['127.0.0.1', '::1'] : ['127.0.0.1'];
// The ::1 half of each suite is not dropped in silence: the run reports it skipped, with why.
if (!haveIpv6) {
  for (const name of ['udp', 'tcp', 'tls']) test(`${name} ::1: every case`, { skip: 'IPv6 loopback ::1 cannot be bound on this host' }, () => undefined);
}
await requireOpenssl();
const ca = await createTestCa({ keyType: 'ec' });
const serverCert = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'IP:127.0.0.1', 'IP:::1'], keyType: 'rsa' });
const clientCert = await ca.issue({ cn: 'client.test', sans: ['DNS:client.test', 'URI:sip:client.test'] });
process.on('exit', () => void ca.cleanup());

async function startLayer(t: TestContext, protocol: TransportProtocol, host: string, options: Partial<TransportLayerOptions>): Promise<TransportLayer> {
  const layer = new TransportLayer({
    listeners: [
      {
        id: `${protocol}-test`,
        protocol,
        host,
        port: 0,
        tenant: 'acme',
        ...(protocol === 'tls'
          ? { tlsProfile: 'acme', tls: { key: serverCert.key, cert: serverCert.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: false } }
          : {}),
      },
    ],
    tlsClientOptions: () => ({ ca: ca.cert, key: clientCert.key, cert: clientCert.cert, servername: 'gw.test' }),
    ...options,
  });
  t.after(() => layer.close());
  await layer.start();
  return layer;
}

function streamClient(t: TestContext, socket: Socket, tcp: Socket = socket): RawClient {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  socket.on('error', () => undefined);
  const closed = once(socket, 'close').then(() => undefined);
  t.after(() => socket.destroy());
  return {
    localAddress: socket.localAddress!.replace(/^::ffff:/, ''),
    localPort: socket.localPort!,
    send: (d) => void socket.write(d),
    async receive(done, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(buf)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`nothing acceptable received: ${JSON.stringify(buf.toString())}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return buf;
    },
    closed,
    reset: () => tcp.resetAndDestroy(),
    close: () => socket.end(),
  };
}

function harness(protocol: TransportProtocol) {
  return async (t: TestContext, host: string, options: Partial<TransportLayerOptions>): Promise<TransportHarness> => {
    const layer = await startLayer(t, protocol, host, options);
    const listener = layer.listeners()[0]!;
    const client = async (): Promise<RawClient> => {
      if (protocol === 'udp') {
        const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
        await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
        t.after(() => s.close());
        let buf = Buffer.alloc(0);
        let wake: (() => void) | undefined;
        s.on('message', (d) => {
          buf = Buffer.concat([buf, d]);
          wake?.();
        });
        return {
          localAddress: host,
          localPort: s.address().port,
          send: (d) => s.send(typeof d === 'string' ? Buffer.from(d) : d, listener.port, host),
          async receive(done, timeoutMs = 5_000) {
            const deadline = Date.now() + timeoutMs;
            while (!done(buf)) {
              const left = deadline - Date.now();
              if (left <= 0) throw new Error('nothing acceptable received');
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, left);
                wake = () => {
                  clearTimeout(timer);
                  resolve();
                };
              });
            }
            return buf;
          },
          closed: new Promise(() => undefined),
          reset: () => s.close(),
          close: () => s.close(),
        };
      }
      if (protocol === 'tcp') {
        const socket = netConnect({ host, port: listener.port });
        await once(socket, 'connect');
        return streamClient(t, socket);
      }
      // TLS over a socket of our own, so that the test can reset the TCP connection underneath.
      const tcp = netConnect({ host, port: listener.port });
      await once(tcp, 'connect');
      const socket = tlsConnect({ socket: tcp, ca: ca.cert, key: clientCert.key, cert: clientCert.cert, servername: 'gw.test' });
      await once(socket, 'secureConnect');
      return streamClient(t, socket, tcp);
    };
    return { layer, listener, client };
  };
}

const streamOnly = { reason: 'UDP is connectionless: no connection to reuse, idle, reset or reopen', tests: [
  'an idle connection is closed by the server',
  'a connection whose messages the layer above did not mark used is closed at the unused timeout',
  'a peer reset in the middle of a message closes only that connection',
  'a response toward a vanished connection opens a new one to the given address (RFC 3261 §18.2.2)',
  'a connect that is refused rejects with ERR_SIP_TRANSPORT_CONNECT and is counted',
] };

runTransportSuite({
  name: 'udp',
  protocol: 'udp',
  hosts,
  create: harness('udp'),
  notApplicable: [
    streamOnly,
    {
      reason: 'RFC 5626 §4.4.1: UDP keepalives are STUN, a CRLF datagram is counted and not answered (transport-udp.test.ts asserts keepalivesIn and no reply)',
      tests: ['CRLF ping gets a CRLF pong'],
    },
    { reason: 'unreliable: datagrams carry no ordering; one datagram is one message', tests: ['1,000 pipelined messages on one connection arrive complete and in order'] },
  ],
});

runTransportSuite({ name: 'tcp', protocol: 'tcp', hosts, create: harness('tcp') });

runTransportSuite({
  name: 'tls',
  protocol: 'tls',
  hosts,
  create: harness('tls'),
  checkFlow: (flow) => {
    assert.ok(flow.tls, 'TLS flow carries peer info');
    assert.equal(flow.tls.authorized, true);
    assert.equal(flow.tls.version, 'TLSv1.3');
    assert.match(flow.tls.cipher, /^TLS_AES_/);
    assert.deepEqual(flow.tls.identities, ['dns:client.test', 'sip:client.test']);
    assert.equal(flow.tls.profile, 'acme');
    assert.equal(flow.tls.tenant, 'acme');
    assert.equal(flow.tls.servername, 'gw.test');
  },
});
