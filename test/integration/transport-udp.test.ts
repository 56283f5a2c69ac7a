import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { TransportLayer, type ListenerSpec } from '../../src/sip/transport/transport-layer.js';
import { Inbox, sipRequest } from './transport.case.js';

async function layer(t: TestContext, listeners: ListenerSpec[]): Promise<TransportLayer> {
  const l = new TransportLayer({ listeners });
  t.after(() => l.close());
  await l.start();
  return l;
}

async function peer(t: TestContext): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  return s;
}

const udp = (id: string): ListenerSpec => ({ id, protocol: 'udp', host: '127.0.0.1', port: 0 });

test('listeners() reports the real ports; start twice is refused', async (t) => {
  const l = await layer(t, [udp('a'), udp('b')]);
  const [a, b] = l.listeners();
  assert.ok(a!.port > 0 && b!.port > 0 && a!.port !== b!.port);
  await assert.rejects(l.start(), { code: 'ERR_SIP_TRANSPORT_STATE' });
});

test('a port in use fails start with ERR_SIP_TRANSPORT_BIND and closes what was opened', async (t) => {
  const busy = await peer(t);
  const l = new TransportLayer({ listeners: [udp('ok'), { id: 'busy', protocol: 'udp', host: '127.0.0.1', port: busy.address().port }] });
  await assert.rejects(l.start(), { code: 'ERR_SIP_TRANSPORT_BIND' });
  await assert.rejects(l.send(Buffer.from('x'), { protocol: 'udp', address: '127.0.0.1', port: 9 }), { code: 'ERR_SIP_TRANSPORT_STATE' });
});

test('a reply leaves from the listener the request came in on', async (t) => {
  const l = await layer(t, [udp('a'), udp('b')]);
  const inbox = new Inbox();
  l.setUser(inbox);
  const p = await peer(t);
  const b = l.listeners()[1]!;
  p.send(sipRequest({ protocol: 'udp', viaHost: '127.0.0.1' }), b.port, '127.0.0.1');
  await inbox.waitFor(1);
  const flow = inbox.items[0]!.flow;
  assert.equal(flow.listenerId, 'b');
  const got = once(p, 'message');
  const used = await l.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), { protocol: 'udp', address: flow.remoteAddress, port: flow.remotePort, listenerId: flow.listenerId! });
  const [, rinfo] = (await got) as [Buffer, { port: number }];
  assert.equal(rinfo.port, b.port);
  assert.equal(used.localPort, b.port);
});

test('targets the layer cannot reach are refused with a code', async (t) => {
  const l = await layer(t, [{ id: 'v6', protocol: 'udp', host: '::1', port: 0 }]);
  await assert.rejects(l.send(Buffer.from('x'), { protocol: 'udp', address: '127.0.0.1', port: 9 }), { code: 'ERR_SIP_TRANSPORT_NO_LISTENER' });
  await assert.rejects(l.send(Buffer.from('x'), { protocol: 'udp', address: 'sbc.example.com', port: 5060 }), { code: 'ERR_SIP_TRANSPORT_ADDRESS' });
  await assert.rejects(l.send(Buffer.from('x'), { protocol: 'tcp', address: '::1', port: 9 }), { code: 'ERR_SIP_TRANSPORT_NO_LISTENER' });
});

test('CRLF keepalives are counted and not answered; no user means drop; a throwing user is contained', async (t) => {
  const l = await layer(t, [udp('a')]);
  const port = l.listeners()[0]!.port;
  const p = await peer(t);
  let replies = 0;
  p.on('message', () => replies++);
  p.send('\r\n\r\n', port, '127.0.0.1');
  p.send(sipRequest({ protocol: 'udp', viaHost: '127.0.0.1', cseq: 1 }), port, '127.0.0.1');
  for (let i = 0; i < 300 && l.stats().dropped < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(l.stats().keepalivesIn, 1);
  assert.equal(l.stats().drops.ERR_SIP_TRANSPORT_NO_USER, 1);
  const inbox = new Inbox();
  let thrown = 0;
  l.setUser({
    onMessage(m, raw, flow) {
      if (thrown++ === 0) throw new Error('user bug');
      inbox.onMessage(m, raw, flow);
    },
  });
  p.send(sipRequest({ protocol: 'udp', viaHost: '127.0.0.1', cseq: 2 }), port, '127.0.0.1');
  p.send(sipRequest({ protocol: 'udp', viaHost: '127.0.0.1', cseq: 3 }), port, '127.0.0.1');
  await inbox.waitFor(1);
  assert.equal(l.stats().userErrors, 1);
  assert.equal(replies, 0);
});

test('a malformed ACK gets no 400; a response is delivered with its Via untouched', async (t) => {
  const l = await layer(t, [udp('a')]);
  const inbox = new Inbox();
  l.setUser(inbox);
  const port = l.listeners()[0]!.port;
  const p = await peer(t);
  let replies = 0;
  p.on('message', () => replies++);
  p.send(sipRequest({ protocol: 'udp', viaHost: 'x.test', method: 'ACK' }).replace('CSeq: 1 ACK\r\n', 'CSeq: 1 ACK\r\nno header here\r\n'), port, '127.0.0.1');
  p.send('SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP other.test;branch=z9hG4bK-9;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: r@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n', port, '127.0.0.1');
  await inbox.waitFor(1);
  const m = inbox.items[0]!.message;
  assert.equal(m.kind, 'response');
  assert.equal(m.headers.find((h) => h.name === 'via')?.value, 'SIP/2.0/UDP other.test;branch=z9hG4bK-9;rport');
  assert.equal(l.stats().dropped, 1);
  assert.equal(l.stats().badRequestsSent, 0);
  assert.equal(replies, 0);
});
