import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../../src/common/clock.js';
import { LocalAddresses } from '../../../../src/engine/core/addressing.js';
import { EngineCore } from '../../../../src/engine/core/engine-core.js';
import { parseAppText } from '../../../../src/sip/message/index.js';
import { TransactionLayer } from '../../../../src/sip/transaction/index.js';
import type { ListenerInfo, TransportSender } from '../../../../src/sip/transport/types.js';
import { FakeHub, FakeTransport, flush, invite } from './core-harness.js';

const sender = (listeners: ListenerInfo[]): TransportSender => ({ listeners: () => listeners, send: () => Promise.reject(new Error('not used')) });
const wildcard: ListenerInfo = { id: 'u', protocol: 'udp', address: '0.0.0.0', port: 5060 };

test('behind a wildcard listener every address of the host on its port is the engine itself: loopback, ::1, each interface', () => {
  let now = 0;
  let interfaces = ['192.0.2.44', 'fe80::1', '2001:db8::44'];
  const a = new LocalAddresses(sender([wildcard]), '203.0.113.5', { interfaceAddresses: () => interfaces, now: () => now });
  for (const x of ['127.0.0.1', '127.8.8.8', '::1', '[::1]', '::ffff:127.0.0.1', '0.0.0.0', '::', '192.0.2.44', 'FE80::1', '2001:db8::44', '203.0.113.5']) {
    assert.equal(a.isLocal(x, 5060), true, `${x}:5060 is ours`);
  }
  assert.equal(a.isLocal('127.0.0.1', 5061), false, 'another port is not ours');
  assert.equal(a.isLocal('198.51.100.1', 5060), false);
  interfaces = ['192.0.2.45'];
  now = 9_999;
  assert.equal(a.isLocal('192.0.2.45', 5060), false, 'the interfaces are read again only after 10 s');
  now = 10_000;
  assert.equal(a.isLocal('192.0.2.45', 5060), true);
  assert.equal(a.isLocal('192.0.2.44', 5060), false, 'an address the host gave up is no longer ours');
});

test('a listener bound to one address is reached there and at the unspecified address, not at the rest of loopback', () => {
  const a = new LocalAddresses(sender([{ id: 'u', protocol: 'udp', address: '127.0.0.1', port: 5060 }]), '127.0.0.1', { interfaceAddresses: () => ['192.0.2.44'] });
  assert.equal(a.isLocal('127.0.0.1', 5060), true);
  assert.equal(a.isLocal('0.0.0.0', 5060), true);
  assert.equal(a.isLocal('127.0.0.2', 5060), false);
  assert.equal(a.isLocal('192.0.2.44', 5060), false);
});

/** An engine core whose only listener is 0.0.0.0:5060, with names resolved by `lookup`. */
function wildcardCore(lookup: (host: string) => Promise<string>) {
  const clock = new ManualClock(0);
  const hub = new FakeHub();
  const transport = new (class extends FakeTransport {
    override listeners(): ListenerInfo[] {
      return [wildcard];
    }
  })();
  const transactions = new TransactionLayer({ transport, clock, autoTrying: false });
  const core = new EngineCore({ transactions, transport, hub, clock, advertiseHost: '203.0.113.5', lookup });
  return { hub, transport, core };
}

test('an app\'s INVITE to 127.0.0.1:5060, or to a name resolving there, is refused when the engine listens on 0.0.0.0:5060', async () => {
  const h = wildcardCore((host) => Promise.resolve(host === 'self.example' ? '127.0.0.1' : '192.0.2.99'));
  let n = 0;
  for (const uri of ['sip:bob@127.0.0.1:5060', 'sip:bob@self.example:5060', 'sip:bob@[::1]']) {
    h.core.onAppSip({ connId: 'app1', msgId: `m${++n}`, transactionId: '', dialogId: '', sip: `INVITE ${uri} SIP/2.0\r\nFrom: <sip:1@localhost>\r\nContact: <sip:1@localhost>\r\n\r\n` });
    await flush();
    const r = h.hub.replies.find((x) => x.appMsgId === `m${n}`);
    assert.deepEqual(r?.fields.slice(0, 2), ['NOK', 'can not send request to myself'], uri);
  }
  assert.equal(h.transport.sent.length, 0, 'no INVITE sent to the engine itself');
});

test('a request the app proxies to 127.0.0.1:5060 behind a wildcard listener is not sent to ourselves', async () => {
  const h = wildcardCore((host) => Promise.resolve(host));
  const text = invite().replace(/\n/g, '\r\n');
  h.core.onMessage(parseAppText(text)!, Buffer.from(text),
    { protocol: 'udp', localAddress: '0.0.0.0', localPort: 5060, remoteAddress: '127.0.0.2', remotePort: 5070, listenerId: 'u' });
  const txnId = h.hub.sips.at(-1)!.meta.transactionId;
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px1', transactionId: txnId, remainInDialog: false, fullResponse: false, followRedirects: false,
    simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:127.0.0.1:5060'], sip: 'INVITE sip:127.0.0.1:5060 SIP/2.0\r\n\r\n',
  });
  await flush();
  assert.equal(h.transport.sent.filter((s) => s.text.startsWith('INVITE ')).length, 0, 'no INVITE proxied to ourselves');
});
