import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import { Inbox, nextEvent, sipRequest } from './transport.case.js';
import { captureLog } from '../support/log-capture.js';

async function setup(t: TestContext, o: { badRequestsPerSecond?: number } = {}): Promise<{ layer: TransportLayer; inbox: Inbox; client: () => Promise<{ s: Socket; text: () => string }> }> {
  const layer = new TransportLayer({ listeners: [{ id: 'tcp', protocol: 'tcp', host: '127.0.0.1', port: 0 }], ...o });
  t.after(() => layer.close());
  await layer.start();
  const inbox = new Inbox();
  layer.setUser(inbox);
  const port = layer.listeners()[0]!.port;
  return {
    layer,
    inbox,
    client: async () => {
      const s = connect({ host: '127.0.0.1', port });
      t.after(() => s.destroy());
      await once(s, 'connect');
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('error', () => undefined);
      return { s, text: () => got };
    },
  };
}

const noLength = (req: string): string => req.replace(/Content-Length: \d+\r\n/, '');

test('a request without Content-Length on a stream gets 400 (Missing Content-Length), then the connection closes', async (t) => {
  const { layer, inbox, client } = await setup(t);
  const c = await client();
  const closed = once(c.s, 'close');
  c.s.write(noLength(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test' })));
  await closed;
  assert.match(c.text(), /^SIP\/2\.0 400 Bad Request \(Missing Content-Length\)\r\n/);
  assert.match(c.text(), /\r\nVia: SIP\/2\.0\/TCP pbx\.test;branch=z9hG4bK-1;received=127\.0\.0\.1\r\n/);
  assert.equal(inbox.items.length, 0);
  assert.equal(layer.stats().drops.ERR_SIP_FRAME_NO_CONTENT_LENGTH, 1);
  assert.equal(layer.stats().badRequestsSent, 1);
});

test('a huge Content-Length gets 400 and a close before any body is read', async (t) => {
  const { layer, client } = await setup(t);
  const c = await client();
  const closed = once(c.s, 'close');
  c.s.write(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test' }).replace('Content-Length: 0', 'Content-Length: 99999999'));
  await closed;
  assert.match(c.text(), /^SIP\/2\.0 400 Bad Request \(Message Too Large\)\r\n/);
  assert.equal(layer.stats().drops.ERR_SIP_FRAME_TOO_LARGE, 1);
});

test('a response without Content-Length is dropped with a close and no answer', async (t) => {
  const { layer, client } = await setup(t);
  const c = await client();
  const closed = once(c.s, 'close');
  c.s.write('SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP x;branch=z9hG4bK-1\r\n\r\n');
  await closed;
  assert.equal(c.text(), '');
  assert.equal(layer.stats().drops.ERR_SIP_FRAME_NO_CONTENT_LENGTH, 1);
});

test('a malformed message with intact framing gets 400 and the connection stays usable', async (t) => {
  const { inbox, client } = await setup(t);
  const c = await client();
  c.s.write(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test', cseq: 1 }).replace('Max-Forwards: 70\r\n', 'not a header\r\n'));
  c.s.write(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test', cseq: 2 }));
  await inbox.waitFor(1);
  assert.equal(inbox.items[0]!.message.headers.find((h) => h.name === 'cseq')?.value, '2 OPTIONS');
  for (let i = 0; i < 100 && !c.text().includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(c.text(), /^SIP\/2\.0 400 /);
});

test('badRequestsPerSecond bounds the 400s one source is sent: at 1 a second (burst 2), four bad messages get two', async (t) => {
  const { layer, inbox, client } = await setup(t, { badRequestsPerSecond: 1 });
  const c = await client();
  const bad = (cseq: number) => sipRequest({ protocol: 'tcp', viaHost: 'pbx.test', cseq }).replace('Max-Forwards: 70\r\n', 'not a header\r\n');
  c.s.write(bad(1) + bad(2) + bad(3) + bad(4) + sipRequest({ protocol: 'tcp', viaHost: 'pbx.test', cseq: 5 }));
  await inbox.waitFor(1);
  for (let i = 0; i < 100 && (c.text().match(/SIP\/2\.0 400 /g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal((c.text().match(/SIP\/2\.0 400 /g) ?? []).length, 2, c.text());
  assert.equal(layer.stats().drops['ERR_SIP_TRANSPORT_BAD_REQUEST_RATE'], 2);
});

test('bytes written one at a time are framed into one message with a UTF-8 body', async (t) => {
  const { inbox, client } = await setup(t);
  const c = await client();
  const bytes = Buffer.from(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test', method: 'MESSAGE', body: 'ünïcødé ✓ 🎉' }));
  for (let i = 0; i < bytes.length; i++) c.s.write(bytes.subarray(i, i + 1));
  await inbox.waitFor(1);
  assert.deepEqual(inbox.items[0]!.raw, bytes);
  assert.equal(inbox.items[0]!.message.body.toString(), 'ünïcødé ✓ 🎉');
});

test('a peer that half-closes is closed on our side too', async (t) => {
  const { layer, client } = await setup(t);
  const c = await client();
  c.s.write(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test' }));
  const closed = nextEvent(layer, 'connectionClose');
  c.s.end();
  const [info, reason] = await closed;
  assert.equal(reason, 'peer closed');
  assert.equal(info.direction, 'inbound');
  assert.equal(layer.connections().length, 0);
});

test('a peer that sends but never reads: past the send bound its connection is closed, counted once, and the listener serves others', async (t) => {
  const layer = new TransportLayer({ listeners: [{ id: 'tcp', protocol: 'tcp', host: '127.0.0.1', port: 0 }], maxSendBufferBytes: 65_536 });
  t.after(() => layer.close());
  await layer.start();
  const big = Buffer.alloc(32_768, 0x61);
  let sendErrors = 0;
  const inbox = new Inbox();
  layer.setUser({
    onMessage: (message, raw, flow) => {
      inbox.onMessage(message, raw, flow);
      // Each request is answered with 32 KiB, which a peer that does not read leaves in the send buffer.
      layer.send(big, { protocol: 'tcp', address: flow.remoteAddress, port: flow.remotePort, ...(flow.connectionId ? { connectionId: flow.connectionId } : {}) })
        .catch(() => sendErrors++);
    },
  });
  const port = layer.listeners()[0]!.port;
  const s = connect({ host: '127.0.0.1', port });
  t.after(() => s.destroy());
  s.on('error', () => undefined);
  await once(s, 'connect');
  s.pause();
  let closed = false;
  s.once('close', () => (closed = true));
  // Bounded: at most 2,000 requests (64 MB of answers) or 20 s; the kernel's buffers take a few MB first.
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < 2_000 && !closed && Date.now() < deadline; i++) {
    s.write(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test', cseq: i + 1, branch: `z9hG4bK-sb${i}` }));
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
  for (let i = 0; i < 200 && !closed; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(closed, true, `closed after ${inbox.items.length} requests`);
  assert.equal(layer.stats().drops.ERR_SIP_TRANSPORT_SEND_BUFFER_FULL, 1);
  assert.ok(sendErrors >= 1, 'the write past the bound was refused');
  assert.equal(layer.stats().connectionsOpen, 0);
  // Another peer is served as before.
  const other = connect({ host: '127.0.0.1', port });
  t.after(() => other.destroy());
  await once(other, 'connect');
  const before = inbox.items.length;
  other.write(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test', branch: 'z9hG4bK-other' }));
  await inbox.waitFor(before + 1);
});

test('outbound connections are capped: past maxOutboundConnections a new target is refused, reuse is free, a close frees a slot', async (t) => {
  const { log, records } = captureLog('warn');
  const layer = new TransportLayer({ listeners: [{ id: 'tcp', protocol: 'tcp', host: '127.0.0.1', port: 0 }], maxOutboundConnections: 2, log });
  t.after(() => layer.close());
  await layer.start();
  // Three peers on loopback, each keeping the sockets it accepts so the test can close them from the peer's side.
  const peers: Array<{ server: Server; port: number; accepted: Socket[] }> = [];
  for (let i = 0; i < 3; i++) {
    const accepted: Socket[] = [];
    const server = createServer((s) => {
      s.on('error', () => undefined);
      accepted.push(s);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => {
      for (const s of accepted) s.destroy();
      server.close();
    });
    peers.push({ server, port: (server.address() as { port: number }).port, accepted });
  }
  const send = (i: number, cseq: number) => layer.send(Buffer.from(sipRequest({ protocol: 'tcp', viaHost: '127.0.0.1', cseq, branch: `z9hG4bK-out${cseq}` })),
    { protocol: 'tcp', address: '127.0.0.1', port: peers[i]!.port });

  const first = await send(0, 1);
  await send(1, 2);
  await assert.rejects(send(2, 3), (e: { code?: string }) => e.code === 'ERR_SIP_TRANSPORT_OUTBOUND_LIMIT');
  assert.equal(layer.stats().drops.ERR_SIP_TRANSPORT_OUTBOUND_LIMIT, 1);
  assert.equal(records.filter((r) => r['code'] === 'ERR_SIP_TRANSPORT_OUTBOUND_LIMIT').length, 1, 'one warn line');
  assert.equal(peers[2]!.accepted.length, 0, 'no connection reached the third peer');
  assert.equal(layer.stats().outboundSockets, 2, '/stats shows the two slots held');

  // A target already connected is reached on its connection: no slot is needed.
  const again = await send(0, 4);
  assert.equal(again.connectionId, first.connectionId);
  assert.equal(layer.stats().drops.ERR_SIP_TRANSPORT_OUTBOUND_LIMIT, 1);

  // The first peer closes its connection: its slot is free, and the third peer can be reached.
  const closed = nextEvent(layer, 'connectionClose');
  for (let i = 0; i < 100 && peers[0]!.accepted.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(peers[0]!.accepted.length, 1, 'the second send went on the first connection');
  peers[0]!.accepted[0]!.destroy();
  await closed;
  await send(2, 5);
  for (let i = 0; i < 100 && peers[2]!.accepted.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(peers[2]!.accepted.length, 1);
  assert.equal(layer.stats().drops.ERR_SIP_TRANSPORT_OUTBOUND_LIMIT, 1);
  assert.equal(layer.stats().connectionsOpen, 2);
  assert.equal(layer.stats().outboundSockets, 2);
});

test('a request the layer sends on an inbound connection makes it used; a response it sends there does not', async (t) => {
  const layer = new TransportLayer({ listeners: [{ id: 'tcp', protocol: 'tcp', host: '127.0.0.1', port: 0 }], unusedTimeoutMs: 250, idleTimeoutMs: 60_000 });
  t.after(() => layer.close());
  await layer.start();
  const inbox = new Inbox();
  layer.setUser(inbox);
  const port = layer.listeners()[0]!.port;
  const reasons = new Map<number, string>();
  layer.on('connectionClose', (info, reason) => reasons.set(info.remotePort, reason));
  const open = async (cseq: number): Promise<Socket> => {
    const s = connect({ host: '127.0.0.1', port });
    t.after(() => s.destroy());
    s.on('error', () => undefined);
    await once(s, 'connect');
    s.write(sipRequest({ protocol: 'tcp', viaHost: 'pbx.test', cseq, branch: `z9hG4bK-use${cseq}` }));
    await inbox.waitFor(cseq);
    return s;
  };
  const answered = await open(1);
  const asked = await open(2);
  const on = (i: number) => {
    const f = inbox.items[i]!.flow;
    return { protocol: 'tcp' as const, address: f.remoteAddress, port: f.remotePort, connectionId: f.connectionId! };
  };
  await layer.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), on(0));
  await layer.send(Buffer.from(sipRequest({ protocol: 'tcp', viaHost: '127.0.0.1', branch: 'z9hG4bK-ours' })), on(1));
  for (let i = 0; i < 200 && !reasons.has(answered.localPort!); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(reasons.get(answered.localPort!), 'unused timeout');
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(asked.destroyed, false, 'the connection our request went out on is kept');
  assert.equal(reasons.has(asked.localPort!), false);
});
