import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../../src/common/clock.js';
import { EngineCore } from '../../../../src/engine/core/engine-core.js';
import { connName, connectionIdOf, parseRouteHeader, peerHeader } from '../../../../src/engine/core/internal-headers.js';
import { pinToConnection } from '../../../../src/engine/core/pinned-flow.js';
import { parseAppText } from '../../../../src/sip/message/index.js';
import { TransactionLayer } from '../../../../src/sip/transaction/index.js';
import type { ConnectionInfo } from '../../../../src/sip/transport/index.js';
import type { Flow, SendTarget } from '../../../../src/sip/transport/types.js';
import { FakeHub, FakeTransport, flush, header, invite } from './core-harness.js';

// An app may pin a request to the TCP/TLS connection a request came on (X-Trunkgate-Peer `conn=` given back in
// X-Trunkgate-Route): it goes over that connection or is answered 430 Flow Failed by the engine, never sent
// over another connection from the same address and port, nor over a new one (RFC 5626 §5.3).

const PHONE = { address: '127.0.0.5', port: 40_001 };

function conn(id: string, o: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return {
    id, protocol: 'tcp', direction: 'inbound', state: 'open', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: PHONE.address,
    remotePort: PHONE.port, createdAt: 0, lastActivityAt: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, ...o,
  };
}

class ConnTransport extends FakeTransport {
  open: ConnectionInfo[] = [];
  connectionInfo(id: string): ConnectionInfo | undefined {
    return this.open.find((c) => c.id === id);
  }
}

function rig() {
  const clock = new ManualClock(0);
  const hub = new FakeHub();
  const transport = new ConnTransport();
  const transactions = new TransactionLayer({ transport, clock, autoTrying: false });
  const core = new EngineCore({ transactions, transport, hub, clock });
  let n = 0;
  const fromApp = (sip: string): string => {
    const msgId = `m${++n}`;
    core.onAppSip({ connId: 'app1', msgId, transactionId: '', dialogId: '', sip: sip.replace(/\n/g, '\r\n') });
    return msgId;
  };
  const fromNet = (text: string, flow: Flow): void => core.onMessage(parseAppText(text.replace(/\n/g, '\r\n'))!, Buffer.from(text), flow);
  return { hub, transport, core, fromApp, fromNet };
}

/** An app's INVITE to the phone's address over TCP, pinned to `name`. */
const pinnedInvite = (name: string): string => `INVITE sip:phone1@${PHONE.address}:${PHONE.port};transport=tcp SIP/2.0
From: <sip:2000@localhost>
Contact: <sip:2000@localhost>
X-Trunkgate-Route: conn=${name}

v=0\r\n`;

test('conn= names a TCP or TLS connection of this engine run; UDP has none; X-Trunkgate-Route gives it back', () => {
  const tcp: Flow = { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: PHONE.address, remotePort: PHONE.port, connectionId: 'tcp-7' };
  const value = peerHeader(tcp, 'phones').value;
  const name = /;conn=([^;]+)$/.exec(value)?.[1];
  assert.ok(name, value);
  assert.equal(connectionIdOf(name), 'tcp-7');
  assert.equal(connName('tcp-7'), name);
  assert.equal(parseRouteHeader(`tenant=a;profile=p;conn=${name}`).conn, name);
  assert.equal(peerHeader({ ...tcp, protocol: 'udp', connectionId: undefined }, 'phones').value, 'tenant=phones;verified=0;transport=udp');
  // A name from another run (the same id before a restart) or made up names no connection.
  assert.equal(connectionIdOf('tcp-7.AAAAAAAA'), undefined);
  assert.equal(connectionIdOf('tcp-7'), undefined);
});

test('pinning: only an open connection of the target\'s transport, address and port; anything else is refused with a reason', () => {
  const open = [conn('tcp-4'), conn('tcp-5', { state: 'closing' }), conn('tcp-6', { remotePort: 40_002 }), conn('tls-7', { protocol: 'tls' })];
  const list = { connectionInfo: (id: string) => open.find((c) => c.id === id) };
  const target = (): SendTarget => ({ protocol: 'tcp', address: PHONE.address, port: PHONE.port });
  const ok = target();
  assert.equal(pinToConnection(ok, connName('tcp-4'), list), undefined);
  assert.equal(ok.connectionId, 'tcp-4');
  for (const [name, t] of [
    [connName('tcp-9'), target()], // closed and gone
    [connName('tcp-5'), target()], // closing
    [connName('tcp-6'), target()], // another port of the same host
    [connName('tls-7'), target()], // another transport
    ['tcp-4.AAAAAAAA', target()], // another run's name
    [connName('tcp-4'), { protocol: 'udp', address: PHONE.address, port: PHONE.port }],
  ] as Array<[string, SendTarget]>) {
    assert.match(pinToConnection(t, name, list) ?? '', /127\.0\.0\.5:40001/, name);
    assert.equal(t.connectionId, undefined, `${name}: not pinned`);
  }
  assert.ok(pinToConnection(target(), connName('tcp-4'), undefined), 'no connection list: refused');
});

test('an app\'s INVITE pinned to an open connection goes over it; the header does not leave', async () => {
  const h = rig();
  h.transport.open = [conn('tcp-4')];
  h.fromApp(pinnedInvite(connName('tcp-4')));
  await flush();
  assert.equal(h.transport.sent.length, 1);
  assert.deepEqual(h.transport.sent[0]!.target, { protocol: 'tcp', address: PHONE.address, port: PHONE.port, connectionId: 'tcp-4' });
  assert.equal(header(h.transport.sent[0]!.msg, 'x-trunkgate-route'), undefined);
});

test('pinned to a closed connection: nothing is sent, the app gets its transaction then the engine\'s 430 with a Reason', async () => {
  const h = rig();
  // The phone's connection tcp-4 closed; a new one from its address and port is open (NAT port reuse).
  h.transport.open = [conn('tcp-9')];
  const msgId = h.fromApp(pinnedInvite(connName('tcp-4')));
  await flush();
  assert.equal(h.transport.sent.length, 0, 'nothing over the new connection, nor over one the engine would open');
  const echo = h.hub.replies.find((r) => r.appMsgId === msgId)!;
  assert.equal(echo.fields[0], 'OK');
  const txnId = echo.fields[7];
  assert.equal(h.hub.sips.length, 1);
  const res = parseAppText(h.hub.sips[0]!.sip)!;
  assert.equal(h.hub.sips[0]!.meta.transactionId, txnId);
  assert.equal(res.kind === 'response' && `${res.status} ${res.reason}`, '430 Flow Failed');
  assert.equal(header(res, 'reason'), 'SIP;cause=430;text="the connection for tcp 127.0.0.5:40001 is closed"');
  assert.match(header(res, 'x-trunkgate-peer') ?? '', /origin=engine/);
  assert.deepEqual(h.hub.cdrs.map((c) => c.kind), ['attempt', 'stop']);
  // A name from before a restart is not honoured either.
  h.transport.open = [conn('tcp-4')];
  h.fromApp(pinnedInvite('tcp-4.AAAAAAAA'));
  await flush();
  assert.equal(h.transport.sent.length, 0);
});

test('a proxied MESSAGE pinned to a closed connection: 430 with a Reason upstream, the app hears it, nothing sent to the phone', async () => {
  const h = rig();
  h.transport.open = [conn('tcp-9')];
  const registrar: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.2', remotePort: 5070, listenerId: 'udp-1' };
  h.fromNet(invite('z9hG4bKmsg1', 'msg-1').replace(/INVITE/g, 'MESSAGE'), registrar);
  const dest = `sip:phone1@${PHONE.address}:${PHONE.port};transport=tcp`;
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px1', transactionId: h.hub.sips.at(-1)!.meta.transactionId, remainInDialog: false, fullResponse: true,
    followRedirects: false, simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: [dest],
    sip: `MESSAGE ${dest} SIP/2.0\r\nX-Trunkgate-Route: conn=${connName('tcp-4')}\r\n\r\n`,
  });
  await flush();
  const up = h.transport.sent.map((s) => s.msg);
  assert.deepEqual(h.transport.sent.map((s) => s.target.address), ['127.0.0.2'], 'only the answer upstream');
  assert.equal(up[0]!.kind === 'response' && up[0]!.status, 430);
  assert.equal(header(up[0]!, 'reason'), 'SIP;cause=430;text="the connection for tcp 127.0.0.5:40001 is closed"');
  assert.equal(header(up[0]!, 'x-trunkgate-peer'), undefined);
  const told = h.hub.replies.filter((r) => r.appMsgId === 'px1');
  assert.match(told[0]?.sip ?? '', /^SIP\/2\.0 430 Flow Failed\r\n[\s\S]*X-Trunkgate-Peer: verified=0;transport=tcp;origin=engine/);
  assert.deepEqual(told.at(-1)?.fields, ['OK', 'done']);
});

test('a network request\'s own X-Trunkgate-Peer with a conn= never reaches an app: only the engine\'s, naming the real connection', () => {
  const h = rig();
  const flow: Flow = { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: PHONE.address, remotePort: PHONE.port, connectionId: 'tcp-3', listenerId: 'tcp-1' };
  h.fromNet(invite('z9hG4bKspoof', 'spoof-1', `X-Trunkgate-Peer: tenant=registrar;verified=1;transport=tcp;conn=${connName('tcp-1')}\nx-trunkgate-peer: conn=${connName('tcp-2')}\n`), flow);
  const got = parseAppText(h.hub.sips.at(-1)!.sip)!;
  const peers = got.headers.filter((x) => x.name === 'x-trunkgate-peer').map((x) => x.value);
  assert.deepEqual(peers, [`verified=0;transport=tcp;conn=${connName('tcp-3')}`]);
});
