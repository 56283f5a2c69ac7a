import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'node:test';
import { EngineCore } from '../../src/engine/core/engine-core.js';
import { parseAppText } from '../../src/sip/message/index.js';
import type { AppHub, SipFrameMeta } from '../../src/engine/types.js';
import { silentLogger } from '../../src/log/index.js';
import { TransactionLayer } from '../../src/sip/transaction/index.js';
import type { Flow, ListenerInfo, SendTarget, TransportSender } from '../../src/sip/transport/types.js';
import { UdpTransport } from '../../src/sip/transport/udp-transport.js';

/** The engine core over a real UDP listener, with an app hub that answers every INVITE 200 and every BYE 200. */
test('a UDP caller places an INVITE through the engine core to an answering app, ACKs and hangs up with BYE', async (t) => {
  const frames: SipFrameMeta[] = [];
  let core!: EngineCore;
  const hub: AppHub = {
    selectApp: () => 'app',
    isConnected: () => true,
    sendSip(_c, meta, sip) {
      frames.push(meta);
      if (/^(INVITE|BYE) /.test(sip)) {
        setImmediate(() => core.onAppSip({ connId: 'app', msgId: 'x', transactionId: meta.transactionId, dialogId: '', sip: 'SIP/2.0 200 OK\r\n\r\n' }));
      }
    },
    reply() {},
    sendCdr() {},
  };
  const udp = new UdpTransport({
    id: 'udp-1', host: '127.0.0.1', port: 0, log: silentLogger(),
    user: { onDatagram: (data, rinfo, tr) => {
      const m = parseAppText(data.toString('utf8'));
      if (m) core.onMessage(m, data, tr.flowFor(rinfo));
    } },
  });
  const info = await udp.listen();
  t.after(() => udp.close());
  const transport: TransportSender = {
    send: (data: Buffer, target: SendTarget): Promise<Flow> => udp.send(data, target.address, target.port),
    listeners: (): ListenerInfo[] => [info],
  };
  const transactions = new TransactionLayer({ transport });
  t.after(() => transactions.close());
  core = new EngineCore({ transactions, transport, hub });
  t.after(() => core.close());

  const caller: Socket = createSocket('udp4');
  caller.bind(0, '127.0.0.1');
  await once(caller, 'listening');
  t.after(() => caller.close());
  const cport = caller.address().port;
  const received: string[] = [];
  const waitFor = (prefix: string): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${prefix}`)), 3000);
    const check = (): void => {
      const i = received.findIndex((r) => r.startsWith(prefix));
      if (i >= 0) {
        clearTimeout(timer);
        caller.off('message', onMsg);
        resolve(received.splice(i, 1)[0]!);
      }
    };
    const onMsg = (): void => check();
    caller.on('message', onMsg);
    check();
  });
  caller.on('message', (b) => received.push(b.toString('utf8')));
  const send = (text: string): void => void caller.send(Buffer.from(text.replace(/\n/g, '\r\n')), info.port, '127.0.0.1');

  const common = `From: <sip:alice@127.0.0.1>;tag=a1\nCall-ID: it-1\nMax-Forwards: 70\n`;
  send(`INVITE sip:bob@127.0.0.1:${info.port} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${cport};branch=z9hG4bKit1;rport\n${common}To: <sip:bob@127.0.0.1>\nCSeq: 1 INVITE\nContact: <sip:alice@127.0.0.1:${cport}>\nContent-Length: 0\n\n`);
  assert.match(await waitFor('SIP/2.0 100'), /CSeq: 1 INVITE/);
  const ok = await waitFor('SIP/2.0 200');
  const toTag = /To: [^\r]*;tag=([^;\r]+)/.exec(ok)![1]!;
  assert.match(ok, new RegExp(`Contact: <sip:127\\.0\\.0\\.1:${info.port}>`));
  send(`ACK sip:127.0.0.1:${info.port} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${cport};branch=z9hG4bKit2;rport\n${common}To: <sip:bob@127.0.0.1>;tag=${toTag}\nCSeq: 1 ACK\nContent-Length: 0\n\n`);
  send(`BYE sip:127.0.0.1:${info.port} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${cport};branch=z9hG4bKit3;rport\n${common}To: <sip:bob@127.0.0.1>;tag=${toTag}\nCSeq: 2 BYE\nContent-Length: 0\n\n`);
  assert.match(await waitFor('SIP/2.0 200'), /CSeq: 2 BYE/);
  assert.deepEqual(frames.map((f) => [f.dialogId === '' ? '' : 'dlg', f.source]), [['', 'network'], ['dlg', 'network'], ['dlg', 'network']]);
  assert.equal(frames[1]!.transactionId, frames[0]!.transactionId, 'the ACK carries the INVITE transactionId');
  assert.equal(frames[2]!.dialogId, 'it-1;from-tag=a1');
  assert.equal(core.stats().dialogs, 0);
});
