// The engine core with a fake transport (nothing leaves the process): a carrier at 198.51.100.7 whose 200 carries a
// Record-Route naming this host, and a caller whose INVITE does. The engine's listener is 127.0.0.1:5060.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, header, setup } from './core-harness.js';
import type { Flow } from '../../../../src/sip/transport/types.js';

const CARRIER: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '198.51.100.7', remotePort: 5080, listenerId: 'udp-1' };
const targets = (h: ReturnType<typeof setup>, from: number) => h.transport.sent.slice(from).map((s) => `${s.text.slice(0, s.text.indexOf(' '))} ${s.target.address}:${s.target.port}`);

async function calledCarrier(h: ReturnType<typeof setup>, recordRoute: string): Promise<string> {
  h.fromApp('INVITE sip:+442071234567@198.51.100.7:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\nv=0\r\n');
  await flush();
  const req = h.transport.sent[0]!.msg;
  const lines = ['via', 'from', 'to', 'call-id', 'cseq'].map((n) => `${n}: ${header(req, n)}${n === 'to' ? ';tag=carrier' : ''}`);
  h.fromNet(`SIP/2.0 200 OK\n${lines.join('\n')}\nContact: <sip:+442071234567@198.51.100.7:5080>\nRecord-Route: ${recordRoute}\nContent-Length: 0\n\n`, CARRIER);
  return `${header(req, 'call-id')};from-tag=${/tag=(\S+)$/.exec(header(req, 'from')!)![1]}`;
}

for (const [what, rr] of [['loopback', '<sip:127.0.0.1:9022;lr>'], ['the gateway\'s other listener', '<sip:203.0.113.5:5060;lr>']] as const) {
  test(`a carrier's 200 whose Record-Route names ${what}: the app's ACK and the engine's BYE go to the 200's source, the call ends`, async () => {
    const h = setup();
    const listeners = h.transport.listeners();
    h.transport.listeners = () => [...listeners, { id: 'udp-2', protocol: 'udp', address: '203.0.113.5', port: 5060 }];
    const dialogId = await calledCarrier(h, rr);
    const n = h.transport.sent.length;
    h.fromApp('ACK sip:placeholder SIP/2.0\n\n', '', dialogId);
    await flush();
    assert.deepEqual(targets(h, n), ['ACK 198.51.100.7:5080', 'BYE 198.51.100.7:5080']);
    assert.match(header(h.transport.last(), 'reason')!, /^SIP;cause=403;/);
    const told = h.hub.sips.at(-1)!;
    assert.deepEqual([told.sip.slice(0, 4), told.meta.transactionId, told.meta.dialogId], ['BYE ', 'unsolicited', dialogId]);
    assert.deepEqual(h.hub.cdrs.map((c) => c.kind), ['attempt', 'start', 'stop']);
    const stats = h.core.stats();
    assert.equal(stats.dialogHopRefused, 1);
    assert.equal(stats.dialogs, 0);
    // A request the app sends in the ended dialog goes nowhere.
    h.fromApp('INFO sip:placeholder SIP/2.0\n\n', '', dialogId);
    await flush();
    assert.equal(h.transport.sent.length, n + 2);
  });
}

test('a caller whose INVITE carries such a Record-Route: the app\'s BYE goes to the INVITE\'s source', async () => {
  const h = setup();
  h.fromNet(`INVITE sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5080;branch=z9hG4bKc1;rport
Max-Forwards: 70
From: <sip:alice@198.51.100.7>;tag=atag
To: <sip:bob@127.0.0.1>
Call-ID: uas-1
CSeq: 1 INVITE
Record-Route: <sip:127.0.0.1:9022;lr>
Contact: <sip:alice@198.51.100.7:5080>
Content-Length: 0

`, CARRIER);
  h.fromApp('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', h.hub.sips[0]!.meta.transactionId);
  const n = h.transport.sent.length;
  h.fromApp('BYE sip:placeholder SIP/2.0\n\n', '', 'uas-1;from-tag=atag');
  await flush();
  assert.deepEqual(targets(h, n), ['BYE 198.51.100.7:5080']);
});

test('a callee on loopback may name another loopback hop: the ACK follows its Record-Route', async () => {
  const h = setup();
  h.fromApp('INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\nv=0\r\n');
  await flush();
  const req = h.transport.sent[0]!.msg;
  const lines = ['via', 'from', 'to', 'call-id', 'cseq'].map((n) => `${n}: ${header(req, n)}${n === 'to' ? ';tag=c' : ''}`);
  h.fromNet(`SIP/2.0 200 OK\n${lines.join('\n')}\nContact: <sip:carol@127.0.0.3:5080>\nRecord-Route: <sip:127.0.0.1:9022;lr>\nContent-Length: 0\n\n`,
    { ...CARRIER, remoteAddress: '127.0.0.3' });
  const n = h.transport.sent.length;
  h.fromApp('ACK sip:placeholder SIP/2.0\n\n', '', `${header(req, 'call-id')};from-tag=${/tag=(\S+)$/.exec(header(req, 'from')!)![1]}`);
  await flush();
  assert.deepEqual(targets(h, n), ['ACK 127.0.0.1:9022']);
  assert.equal(h.core.stats().dialogHopRefused, 0);
  assert.equal(h.core.stats().dialogs, 1);
});
