import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import { Inbox, nextEvent, sipRequest } from './transport.case.js';
import { captureLog } from '../support/log-capture.js';

/** A peer on loopback that accepts every connection and keeps it, so it can be closed from the peer's side. */
async function peer(t: TestContext, host: string): Promise<{ port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((s) => {
    s.on('error', () => undefined);
    accepted.push(s);
  });
  server.listen(0, host);
  await once(server, 'listening');
  t.after(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, accepted };
}

const waitFor = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('a peer whose inbound connections close before the answer cannot fill every outbound slot with connect-backs', async (t) => {
  const { log, records } = captureLog('warn');
  const layer = new TransportLayer({
    listeners: [{ id: 'tcp', protocol: 'tcp', host: '127.0.0.1', port: 0 }], maxOutboundConnections: 8, maxOutboundConnectionsPerAddress: 3, log,
  });
  t.after(() => layer.close());
  await layer.start();
  const inbox = new Inbox();
  layer.setUser(inbox);
  const gatewayPort = layer.listeners()[0]!.port;

  // The peer sends requests and closes each connection before the answer; its "ephemeral" ports accept the connect-back.
  const hostile = await Promise.all([0, 1, 2, 3, 4].map(() => peer(t, '127.0.0.1')));
  const answers: Array<Promise<unknown>> = [];
  for (let i = 0; i < hostile.length; i++) {
    const closed = nextEvent(layer, 'connectionClose');
    const opened = nextEvent(layer, 'connectionOpen');
    const s = connect({ host: '127.0.0.1', port: gatewayPort });
    s.on('error', () => undefined);
    await once(s, 'connect');
    const [info] = await opened;
    s.end(sipRequest({ protocol: 'tcp', viaHost: '127.0.0.1', cseq: i + 1, branch: `z9hG4bK-cb${i}` }));
    await closed;
    const response = Buffer.from(`SIP/2.0 200 OK\r\nCSeq: ${i + 1} OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    const sent = layer.send(response, { protocol: 'tcp', address: '127.0.0.1', port: hostile[i]!.port, connectionId: info.id });
    sent.catch(() => undefined);
    answers.push(sent);
  }
  const results = await Promise.allSettled(answers);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
  for (const r of results.slice(3)) {
    assert.equal((r as PromiseRejectedResult).reason.code, 'ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT');
  }
  const stats = layer.stats();
  assert.equal(stats.drops.ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT, 2);
  assert.equal(stats.drops.ERR_SIP_TRANSPORT_OUTBOUND_LIMIT, undefined);
  assert.deepEqual([stats.outboundSockets, stats.outboundSocketsMax, stats.outboundSocketsPerAddressMax], [3, 8, 3]);
  assert.equal(records.filter((r) => r['code'] === 'ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT').length, 1, 'one warn line');
  assert.deepEqual(hostile.map((p) => p.accepted.length), [1, 1, 1, 0, 0], 'no socket opened past the address bound');

  // A trunk on another address is still reached.
  const trunk = await peer(t, '127.0.0.2');
  await layer.send(Buffer.from(sipRequest({ protocol: 'tcp', viaHost: '127.0.0.1', cseq: 9, branch: 'z9hG4bK-trunk' })),
    { protocol: 'tcp', address: '127.0.0.2', port: trunk.port });
  assert.equal(layer.stats().outboundSockets, 4);

  // The peer closes one connect-back: its slot is free and the next answer to that address goes out.
  await waitFor(() => hostile[0]!.accepted.length === 1);
  const gone = nextEvent(layer, 'connectionClose');
  hostile[0]!.accepted[0]!.destroy();
  await gone;
  await waitFor(() => layer.stats().outboundSockets === 3);
  await layer.send(Buffer.from('SIP/2.0 200 OK\r\nCSeq: 4 OPTIONS\r\nContent-Length: 0\r\n\r\n'), { protocol: 'tcp', address: '127.0.0.1', port: hostile[3]!.port });
  await waitFor(() => hostile[3]!.accepted.length === 1);
  assert.equal(hostile[3]!.accepted.length, 1);
});
