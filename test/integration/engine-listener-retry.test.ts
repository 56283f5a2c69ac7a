/**
 * A tenant's own listener that could not bind at start is tried again (Engine.retryListeners, as a configuration
 * reload asks): while its port is still held it stays failed with the new OS error, logged ERR_SIP_TRANSPORT_BIND
 * again; once the port is free it binds with the spec it had at start, leaves the failed list and carries SIP. A TLS
 * one does not stop a TLS reload while it is down, and serves the profiles in force when it binds.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { startEngine } from '../../src/engine/index.js';
import { engineSnapshot } from '../../src/engine/engine-snapshot.js';
import { captureLog } from '../support/log-capture.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { profile, tryTls } from './engine-tls-support.js';

function options(protocol: 'UDP' | 'TCP', port: number, localPort: number, branch: string): Buffer {
  return Buffer.from([`OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/${protocol} 127.0.0.1:${localPort};branch=z9hG4bK${branch};rport`,
    'Max-Forwards: 70', `From: <sip:probe@127.0.0.1:${localPort}>;tag=p1`, `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: ${branch}@127.0.0.1`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
}

async function holdUdp(): Promise<UdpSocket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

async function holdTcp(): Promise<Server> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

const portOf = (s: UdpSocket | Server): number => (s.address() as { port: number }).port;

test('a tenant listener whose port was taken at start binds on retry once the port is free, and answers OPTIONS over UDP and TCP', async (t) => {
  const udpHold = await holdUdp();
  const tcpHold = await holdTcp();
  const udpPort = portOf(udpHold);
  const tcpPort = portOf(tcpHold);
  const c = captureLog();
  const engine = await startEngine({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { id: 'backup-udp', transport: 'udp', host: '127.0.0.1', port: udpPort, tenant: 'backup', optional: true },
      { id: 'backup-tcp', transport: 'tcp', host: '127.0.0.1', port: tcpPort, tenant: 'backup', optional: true },
    ],
    control: { port: 0, secret: 's' },
    log: c.log,
  });
  t.after(() => engine.close());
  assert.deepEqual(engine.transport.failedListeners().map((f) => f.id), ['backup-udp', 'backup-tcp']);
  assert.equal(engineSnapshot(engine).listenersDown.length, 2, 'starts degraded');

  // Still held: both stay failed, with the OS error, logged LISTEN_SOCKET again.
  const before = c.records.filter((r) => r.code === 'ERR_SIP_TRANSPORT_BIND').length;
  const held = await engine.retryListeners();
  assert.deepEqual(held.bound, []);
  assert.deepEqual(held.stillFailed.map((f) => [f.id, f.tenant, f.port]), [['backup-udp', 'backup', udpPort], ['backup-tcp', 'backup', tcpPort]]);
  for (const f of held.stillFailed) assert.match(f.error, /EADDRINUSE/);
  assert.equal(c.records.filter((r) => r.code === 'ERR_SIP_TRANSPORT_BIND').length, before + 2);
  assert.equal(engine.transport.failedListeners().length, 2);

  udpHold.close();
  await new Promise<void>((resolve) => tcpHold.close(() => resolve()));
  const r = await engine.retryListeners();
  assert.deepEqual(r.stillFailed, []);
  assert.deepEqual(r.bound.map((l) => [l.id, l.protocol, l.port, l.tenant]), [['backup-udp', 'udp', udpPort, 'backup'], ['backup-tcp', 'tcp', tcpPort, 'backup']]);
  assert.deepEqual(engine.transport.failedListeners(), []);
  assert.deepEqual(engineSnapshot(engine).listenersDown, []);
  assert.ok(engine.transport.listeners().some((l) => l.id === 'backup-tcp' && l.port === tcpPort));
  assert.ok(engine.addresses()!.sip.some((l) => l.id === 'backup-udp'), 'the engine\'s addresses name it');
  const logged = c.records.filter((x) => typeof x.msg === 'string' && x.msg.includes('bound on retry'));
  assert.deepEqual(logged.map((x) => [x.listener, x.level]), [['backup-udp', 30], ['backup-tcp', 30]]);
  // Nothing left to try: an empty answer, no new log line.
  assert.deepEqual(await engine.retryListeners(), { bound: [], stillFailed: [] });

  // UDP: an OPTIONS to the gateway itself sent to the retried listener's port is answered 200 (as from a listener
  // bound at start, the answer leaves from the first UDP listener).
  const probe = createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  t.after(() => probe.close());
  const answered = once(probe, 'message');
  probe.send(options('UDP', udpPort, portOf(probe), 'retry-udp'), udpPort, '127.0.0.1');
  const [msg] = await answered as [Buffer];
  assert.match(msg.toString(), /^SIP\/2\.0 200 /);

  // TCP: the same over a connection to the retried listener.
  const s = connect(tcpPort, '127.0.0.1');
  await once(s, 'connect');
  t.after(() => s.destroy());
  let text = '';
  const got = new Promise<void>((resolve) => s.on('data', (d: Buffer) => {
    text += d.toString();
    if (text.includes('\r\n\r\n')) resolve();
  }));
  s.write(options('TCP', tcpPort, s.localPort!, 'retry-tcp'));
  await got;
  assert.match(text, /^SIP\/2\.0 200 /);
  assert.ok(engine.transport.stats().connectionsOpened >= 1);
});

test('a tenant TLS listener down at start: a TLS reload meanwhile is applied, and the listener bound on retry serves the reloaded certificate', async (t) => {
  await requireOpenssl();
  const ca = await createTestCa({ cn: 'listener retry CA' });
  t.after(() => ca.cleanup());
  const one = await ca.issue({ cn: 'one.test', sans: ['DNS:one.test'] });
  const two = await ca.issue({ cn: 'two.test', sans: ['DNS:two.test'] });
  const tcpHold = await holdTcp();
  const port = portOf(tcpHold);
  const engine = await startEngine({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { id: 'backup-tls', transport: 'tls', host: '127.0.0.1', port, tenant: 'backup', tlsProfile: 'edge', sniProfiles: ['edge'], optional: true },
    ],
    control: { port: 0, secret: 's' },
    tls: { profiles: [profile({ name: 'edge' }, ca, one)] },
  });
  t.after(() => engine.close());
  assert.deepEqual(engine.transport.failedListeners().map((f) => f.id), ['backup-tls']);

  const reloaded = engine.reloadTls([profile({ name: 'edge' }, ca, two)]);
  assert.equal(reloaded.ok, true, JSON.stringify(reloaded));

  await new Promise<void>((resolve) => tcpHold.close(() => resolve()));
  const r = await engine.retryListeners();
  assert.deepEqual(r.bound.map((l) => [l.id, l.protocol, l.tenant, l.tlsProfile]), [['backup-tls', 'tls', 'backup', 'edge']]);
  const seen = await tryTls({ port, servername: 'two.test', ca: ca.cert });
  assert.equal(seen.connected, true, seen.error);
  assert.match(seen.peerSan ?? '', /two\.test/, 'the certificate of the reload, not the one built at start');
  seen.socket?.destroy();
});
