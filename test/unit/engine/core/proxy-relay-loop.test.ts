import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, header, invite, setup, type SipRequest } from './core-harness.js';

const B1 = { protocol: 'udp' as const, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5080, listenerId: 'udp-1' };

/** `gw.test` is a name of the gateway itself (127.0.0.1, where the harness listens). */
const lookup = (host: string): Promise<string> => Promise.resolve(host === 'gw.test' ? '127.0.0.1' : host);

/** A call the app proxied with Record-Route to 127.0.0.3, answered 200 with `extra` (Contact, Record-Route) in the 200. */
async function proxiedCall(extra: string): Promise<ReturnType<typeof setup>> {
  const h = setup(undefined, { lookup });
  h.fromNet(invite());
  const txnId = h.hub.sips.at(-1)!.meta.transactionId;
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px1', transactionId: txnId, remainInDialog: true, fullResponse: false, followRedirects: false,
    simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:127.0.0.3:5080'], sip: 'INVITE sip:127.0.0.3:5080 SIP/2.0\r\n\r\n',
  });
  await flush();
  const fwd = h.transport.sent.find((s) => s.target.address === '127.0.0.3' && s.text.startsWith('INVITE '))!.msg;
  const vias = fwd.headers.filter((x) => x.name === 'via').map((x) => `Via: ${x.value}`).join('\n');
  h.fromNet(`SIP/2.0 200 OK\n${vias}\nFrom: ${header(fwd, 'from')}\nTo: ${header(fwd, 'to')};tag=dtag\nCall-ID: call-1\n`
    + `CSeq: 1 INVITE\n${extra}Content-Length: 0\n\n`, B1);
  assert.equal(h.core.stats().proxiedDialogs, 1);
  return h;
}

function fromCaller(h: ReturnType<typeof setup>, method: string, cseq: number, uri: string, route: string, mf = 70): void {
  h.fromNet(`${method} ${uri} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK${method}${cseq}\nRoute: ${route}\n`
    + `Max-Forwards: ${mf}\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>;tag=dtag\nCall-ID: call-1\nCSeq: ${cseq} ${method}\nContent-Length: 0\n\n`);
}

const toUs = (h: ReturnType<typeof setup>) => h.transport.sent.filter((s) => s.target.address === '127.0.0.1' && s.target.port === 5060).length;

test('a Record-Route below ours naming the gateway by another name: 482 with a Reason, never sent to ourselves, counted', async () => {
  // Without the check each round trip through our own listener adds a Via and is relayed again.
  const h = await proxiedCall('Record-Route: <sip:gw.test:5060;lr>, <sip:127.0.0.1:5060;lr>\nContact: <sip:b@127.0.0.3:5080>\n');
  const route = '<sip:127.0.0.1:5060;lr>, <sip:gw.test:5060;lr>';
  fromCaller(h, 'MESSAGE', 2, 'sip:b@127.0.0.3:5080', route);
  await flush();
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 482 Loop Detected');
  assert.equal(header(h.transport.last(), 'reason'), 'SIP;cause=482;text="next hop is this gateway"');
  fromCaller(h, 'ACK', 1, 'sip:b@127.0.0.3:5080', route);
  await flush();
  assert.equal(toUs(h), 0, 'nothing sent to our own listener');
  assert.equal(h.core.stats().relayLoop, 2, 'the MESSAGE and the dropped ACK');
});

test('a Contact naming the gateway by another name: the same 482', async () => {
  const h = await proxiedCall('Contact: <sip:b@gw.test:5060>\n');
  fromCaller(h, 'INFO', 2, 'sip:b@gw.test:5060', '<sip:127.0.0.1:5060;lr>');
  await flush();
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 482 Loop Detected');
  assert.equal(toUs(h), 0);
  assert.equal(h.core.stats().relayLoop, 1);
});

test('a relayed request carries at most 70 in Max-Forwards, and its own value less one below that', async () => {
  const h = await proxiedCall('Contact: <sip:b@127.0.0.3:5080>\n');
  fromCaller(h, 'INFO', 2, 'sip:b@127.0.0.3:5080', '<sip:127.0.0.1:5060;lr>', 999_999_999);
  fromCaller(h, 'INFO', 3, 'sip:b@127.0.0.3:5080', '<sip:127.0.0.1:5060;lr>', 50);
  await flush();
  const infos = h.transport.sent.filter((s) => s.target.address === '127.0.0.3' && s.text.startsWith('INFO ')).map((s) => s.msg as SipRequest);
  assert.deepEqual(infos.map((m) => header(m, 'max-forwards')), ['70', '49']);
  assert.equal(h.core.stats().relayLoop, 0);
});
