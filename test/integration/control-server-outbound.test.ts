import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import Srf from 'drachtio-srf';
import {
  ControlServer, OutboundDialer, type AppProxyCommand, type AppSipCommand, type EngineCore,
} from '../../src/engine/index.js';

const SECRET = 'outbound-secret';

class FakeCore implements EngineCore {
  sip: AppSipCommand[] = [];
  gone: string[] = [];
  onAppSip(cmd: AppSipCommand): void {
    this.sip.push(cmd);
  }
  onAppProxy(_cmd: AppProxyCommand): void {}
  onAppDisconnected(connId: string): void {
    this.gone.push(connId);
  }
  hostports() {
    return { hostports: ['udp/127.0.0.1:5060'], localHostports: ['udp/127.0.0.1:5060'] };
  }
}

interface ListeningSrf {
  listen(opts: { host: string; port: number; secret: string }): Server;
  invite(fn: (req: unknown, res: { send(status: number): void }) => void): void;
  on(event: 'error', fn: () => void): void;
}

async function setup(t: TestContext) {
  const core = new FakeCore();
  const server = new ControlServer({ core, secret: SECRET, port: 0 });
  t.after(() => server.close());
  const dialer = new OutboundDialer({ server, timeoutMs: 3_000 });
  return { core, server, dialer };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('the engine dials a listening drachtio-srf app, which authenticates and receives the pending request', async (t) => {
  const { core, server, dialer } = await setup(t);
  const srf = new Srf() as unknown as ListeningSrf;
  srf.on('error', () => undefined);
  srf.invite((_req, res) => res.send(480));
  const listener = srf.listen({ host: '127.0.0.1', port: 0, secret: SECRET });
  t.after(() => listener.close());
  if (!listener.listening) await once(listener, 'listening');
  const { port } = listener.address() as AddressInfo;

  const connId = await dialer.dial({ host: '127.0.0.1', port });
  assert.equal(server.registry.isConnected(connId), true);
  assert.deepEqual(server.registry.routesOf(connId), [], 'an outbound-mode app routes nothing');

  const invite = ['INVITE sip:100@127.0.0.1:5060 SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-o1',
    'From: <sip:a@127.0.0.1:5090>;tag=o1', 'To: <sip:100@127.0.0.1:5060>', 'Call-ID: out-1', 'CSeq: 1 INVITE',
    'Content-Length: 0', '', ''].join('\r\n');
  server.registry.sendSip(connId, { source: 'network', protocol: 'udp', address: '127.0.0.1', port: 5090,
    transactionId: 'txn-o1', dialogId: '', recvAddr: '127.0.0.1', recvPort: 5060 }, invite);
  await until(() => core.sip.length === 1, 'the 480');
  assert.equal(core.sip[0]!.connId, connId);
  assert.equal(core.sip[0]!.transactionId, 'txn-o1');
  assert.match(core.sip[0]!.sip, /^SIP\/2\.0 480 /);

  await server.close();
  await until(() => core.gone.includes(connId), 'disconnect reported');
});

test('a dial to a port where nothing listens rejects with ERR_ENGINE_DIAL', async (t) => {
  const { dialer } = await setup(t);
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  await assert.rejects(dialer.dial({ host: '127.0.0.1', port }), { code: 'ERR_ENGINE_DIAL' });
});

test('an app with the wrong secret is refused and the dial rejects with ERR_ENGINE_DIAL', async (t) => {
  const { dialer, server } = await setup(t);
  const srf = new Srf() as unknown as ListeningSrf;
  srf.on('error', () => undefined);
  const listener = srf.listen({ host: '127.0.0.1', port: 0, secret: 'wrong' });
  t.after(() => listener.close());
  if (!listener.listening) await once(listener, 'listening');
  const { port } = listener.address() as AddressInfo;
  await assert.rejects(dialer.dial({ host: '127.0.0.1', port }), { code: 'ERR_ENGINE_DIAL' });
  assert.equal(server.registry.size, 0);
});

test('dials under way are bounded: past maxPending a dial is refused at once with ERR_ENGINE_DIAL, counted', async (t) => {
  const core = new FakeCore();
  const server = new ControlServer({ core, secret: SECRET, port: 0 });
  t.after(() => server.close());
  const dialer = new OutboundDialer({ server, timeoutMs: 300, maxPending: 1 });
  // A listener that takes the connection and never authenticates: the first dial stays under way.
  const silent = createServer((s) => s.on('error', () => undefined));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => new Promise<void>((r) => silent.close(() => r())));
  const { port } = silent.address() as AddressInfo;
  const first = dialer.dial({ host: '127.0.0.1', port });
  first.catch(() => undefined);
  await assert.rejects(dialer.dial({ host: '127.0.0.1', port }), (e: Error & { code?: string }) => e.code === 'ERR_ENGINE_DIAL' && /1 dials under way/.test(e.message));
  assert.deepEqual(dialer.stats(), { connected: 0, failed: 0, refused: 1, pending: 1 });
  await assert.rejects(first, { code: 'ERR_ENGINE_DIAL' });
  assert.deepEqual(dialer.stats(), { connected: 0, failed: 1, refused: 1, pending: 0 });
});

test('parseUri reads host:port[;transport=tcp|tls]', () => {
  assert.deepEqual(OutboundDialer.parseUri('127.0.0.1:3001'), { host: '127.0.0.1', port: 3001 });
  assert.deepEqual(OutboundDialer.parseUri('app.local:3002;transport=tls'), { host: 'app.local', port: 3002, tls: { servername: 'app.local' } });
  assert.deepEqual(OutboundDialer.parseUri('[::1]:3003;transport=tcp'), { host: '::1', port: 3003 });
  for (const bad of ['127.0.0.1', 'x:0', 'x:70000', 'x:1;transport=udp', '']) assert.equal(OutboundDialer.parseUri(bad), undefined, bad);
});
