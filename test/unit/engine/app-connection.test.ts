import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/index.js';
import {
  AppConnection, AppRegistry, FrameDecoder, encodeFrame, type AppProxyCommand, type AppSipCommand, type ControlSocket,
  type EngineCore,
} from '../../../src/engine/index.js';

/** A socket double: records what the connection writes, lets the test push bytes and close. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  ended = false;
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  readonly #decoder = new FrameDecoder();
  readonly out: string[] = [];
  write(b: Buffer | string): boolean {
    const r = this.#decoder.push(typeof b === 'string' ? Buffer.from(b, 'utf8') : b);
    assert.equal(r.error, undefined, 'the connection writes well-framed payloads');
    this.out.push(...r.frames);
    return true;
  }
  end(): this {
    this.ended = true;
    return this;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      queueMicrotask(() => this.emit('close', false));
    }
    return this;
  }
  feed(payload: string | Buffer): void {
    this.emit('data', typeof payload === 'string' ? encodeFrame(payload) : payload);
  }
  /** Fields of the reply to app msgId `id` (everything after `msgId|response|id|`). */
  replyTo(id: string): string[] | undefined {
    const line = this.out.map((p) => p.split('\r\n')[0]!.split('|')).find((t) => t[1] === 'response' && t[2] === id);
    return line?.slice(3);
  }
}

class FakeCore implements EngineCore {
  sip: AppSipCommand[] = [];
  proxy: AppProxyCommand[] = [];
  gone: string[] = [];
  throwOnSip = false;
  onAppSip(cmd: AppSipCommand): void {
    if (this.throwOnSip) throw new Error('core bug');
    this.sip.push(cmd);
  }
  onAppProxy(cmd: AppProxyCommand): void {
    this.proxy.push(cmd);
  }
  onAppDisconnected(connId: string): void {
    this.gone.push(connId);
  }
  hostports() {
    return { hostports: ['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060'], localHostports: ['udp/127.0.0.1:5060'] };
  }
}

function setup(opts: { authTimeoutMs?: number; maxFrameBytes?: number; maxSendBufferBytes?: number } = {}) {
  const socket = new FakeSocket();
  const core = new FakeCore();
  const clock = new ManualClock();
  const logs: { code?: string; msg: string; level?: number }[] = [];
  const log = pino({ level: 'debug' }, new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(JSON.parse(chunk.toString()));
      cb();
    },
  }));
  // The registry writes the rate-limited lines for what an app sent; the connection its own.
  const registry = new AppRegistry({ log });
  const conn = new AppConnection({
    socket: socket as unknown as ControlSocket, connId: 'app-1', secret: 'cymru', registry, core, log,
    version: 'v0.1.0-trunkgate', clock, ...opts,
  });
  // The codes of what went wrong: an app's authenticate is logged too (EVT_ENGINE_APP_CONNECTED), and left out here.
  const codes = () => logs.map((l) => l.code).filter((c) => c !== undefined && c !== 'EVT_ENGINE_APP_CONNECTED');
  return { socket, core, registry, clock, conn, codes, logs };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('authenticate with the right secret: OK|hostports|version|local hostports, tags kept, app registered', () => {
  const { socket, conn, registry } = setup();
  socket.feed('a1|authenticate|cymru|tag-a,tag-b');
  assert.deepEqual(socket.replyTo('a1'), ['OK', 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060', 'v0.1.0-trunkgate', 'udp/127.0.0.1:5060']);
  assert.equal(conn.authenticated, true);
  assert.deepEqual(conn.tags, ['tag-a', 'tag-b']);
  assert.equal(registry.isConnected('app-1'), true);
});

test('a wrong secret gets NO|incorrect secret, the socket is ended, later frames are ignored', async () => {
  const { socket, conn, registry, core, codes, clock } = setup();
  socket.feed('a1|authenticate|wrong|');
  assert.deepEqual(socket.replyTo('a1'), ['NO', 'incorrect secret']);
  assert.equal(socket.ended, true);
  assert.equal(conn.authenticated, false);
  assert.equal(registry.isConnected('app-1'), false);
  assert.deepEqual(codes(), ['ERR_ENGINE_AUTH_FAILED']);
  socket.feed('a2|authenticate|cymru|');
  assert.equal(socket.replyTo('a2'), undefined);
  // a peer that never closes its side is destroyed after the linger
  clock.advance(2_000);
  assert.equal(socket.destroyed, true);
  await tick();
  assert.equal(conn.closed, true);
  assert.deepEqual(core.gone, [], 'the core never saw an unauthenticated app');
});

test('secrets differing only in length or in the last byte are refused', () => {
  for (const s of ['cymr', 'cymru ', 'cymrU', '']) {
    const { socket } = setup();
    socket.feed(`x|authenticate|${s}|`);
    assert.deepEqual(socket.replyTo('x'), ['NO', 'incorrect secret'], JSON.stringify(s));
  }
});

test('anything before authenticate gets NOK and closes the connection', () => {
  const { socket, codes, core } = setup();
  socket.feed('p1|ping');
  assert.equal(socket.replyTo('p1')![0], 'NOK');
  assert.equal(socket.ended, true);
  assert.deepEqual(codes(), ['ERR_ENGINE_NOT_AUTHENTICATED']);
  socket.feed('s1|sip|||\r\nOPTIONS sip:x SIP/2.0\r\n\r\n');
  assert.equal(core.sip.length, 0);
});

test('no authenticate within the limit closes with ERR_ENGINE_AUTH_TIMEOUT', () => {
  const { socket, codes, clock } = setup({ authTimeoutMs: 5_000 });
  clock.advance(4_999);
  assert.equal(socket.destroyed, false);
  clock.advance(1);
  assert.equal(socket.destroyed, true);
  assert.deepEqual(codes(), ['ERR_ENGINE_AUTH_TIMEOUT']);
});

test('authenticating cancels the auth timer', () => {
  const { socket, clock } = setup({ authTimeoutMs: 5_000 });
  socket.feed('a1|authenticate|cymru|');
  clock.advance(60_000);
  assert.equal(socket.destroyed, false);
});

test('ping → OK|pong; route and remove_route → OK and update the registry (only the named verb)', () => {
  const { socket, registry } = setup();
  socket.feed('a1|authenticate|cymru|');
  socket.feed('p1|ping');
  assert.deepEqual(socket.replyTo('p1'), ['OK', 'pong']);
  socket.feed('r1|route|invite');
  socket.feed('r2|route|options');
  socket.feed('r3|remove_route|invite');
  for (const id of ['r1', 'r2', 'r3']) assert.deepEqual(socket.replyTo(id), ['OK']);
  assert.deepEqual(registry.routesOf('app-1'), ['options']);
  assert.equal(registry.selectApp('OPTIONS'), 'app-1');
  assert.equal(registry.selectApp('INVITE'), undefined);
});

test('sip and proxy commands reach the core as typed commands; nothing is replied by this layer', () => {
  const { socket, core } = setup();
  socket.feed('a1|authenticate|cymru|');
  const before = socket.out.length;
  socket.feed('s1|sip|txn-1|\r\nSIP/2.0 180 Ringing\r\nCall-ID: c\r\n\r\n');
  socket.feed('s2|sip|||sip:127.0.0.1:5080;lr\r\nINVITE sip:b@127.0.0.1 SIP/2.0\r\n\r\n');
  socket.feed('x1|proxy|txn-2|||followRedirects|simultaneous|2|30|sip:a@127.0.0.1\r\nINVITE sip:a@127.0.0.1 SIP/2.0\r\n\r\n');
  assert.equal(socket.out.length, before);
  assert.deepEqual(core.sip.map((c) => [c.connId, c.msgId, c.transactionId, c.dialogId, c.routeUri]),
    [['app-1', 's1', 'txn-1', '', undefined], ['app-1', 's2', '', '', 'sip:127.0.0.1:5080;lr']]);
  assert.equal(core.proxy[0]!.followRedirects, true);
  assert.deepEqual(core.proxy[0]!.destinations, ['sip:a@127.0.0.1']);
});

test('a malformed sip command gets NOK, the connection stays up', () => {
  const { socket, core } = setup();
  socket.feed('a1|authenticate|cymru|');
  socket.feed('s1|sip|txn-1|');
  assert.equal(socket.replyTo('s1')![0], 'NOK');
  assert.equal(core.sip.length, 0);
  assert.equal(socket.destroyed, false);
});

test('an unknown type gets NOK and a log line; the connection stays up', () => {
  const { socket, codes } = setup();
  socket.feed('a1|authenticate|cymru|');
  socket.feed('u1|frobnicate|x');
  assert.deepEqual(socket.replyTo('u1'), ['NOK', 'unknown message type: frobnicate']);
  assert.deepEqual(codes(), ['ERR_ENGINE_MESSAGE_UNKNOWN']);
  socket.feed('p1|ping');
  assert.deepEqual(socket.replyTo('p1'), ['OK', 'pong']);
});

test('an app that keeps sending bad commands gets a NOK for each, one warn line a minute, and an exact count', () => {
  const { socket, registry, logs } = setup();
  socket.feed('a1|authenticate|cymru|');
  for (let i = 0; i < 50; i++) socket.feed(`u${i}|frobnicate|x`);
  assert.equal(socket.replyTo('u49')![0], 'NOK');
  const warned = logs.filter((l) => l.code === 'ERR_ENGINE_MESSAGE_UNKNOWN' && l.level === 40);
  assert.equal(warned.length, 1);
  assert.equal(registry.counters()['controlErrors'], 50);
});

test('a core that throws: NOK internal error and ERR_ENGINE_CORE_FAILED, the connection survives', () => {
  const { socket, core, codes } = setup();
  socket.feed('a1|authenticate|cymru|');
  core.throwOnSip = true;
  socket.feed('s1|sip|||\r\nOPTIONS sip:x SIP/2.0\r\n\r\n');
  assert.deepEqual(socket.replyTo('s1'), ['NOK', 'internal error']);
  assert.deepEqual(codes(), ['ERR_ENGINE_CORE_FAILED']);
  assert.equal(socket.destroyed, false);
});

test('an oversized frame closes with ERR_ENGINE_FRAME_TOO_LARGE; frames before it were served', async () => {
  const { socket, codes, core, registry } = setup({ maxFrameBytes: 64 });
  socket.feed('a1|authenticate|cymru|');
  socket.feed(Buffer.concat([encodeFrame('p1|ping'), Buffer.from('65#')]));
  assert.deepEqual(socket.replyTo('p1'), ['OK', 'pong']);
  assert.equal(socket.destroyed, true);
  assert.deepEqual(codes(), ['ERR_ENGINE_FRAME_TOO_LARGE']);
  await tick();
  assert.equal(registry.isConnected('app-1'), false);
  assert.deepEqual(core.gone, ['app-1']);
});

test('garbage closes with ERR_ENGINE_FRAME_BAD_LENGTH', () => {
  const { socket, codes } = setup();
  socket.feed(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.equal(socket.destroyed, true);
  assert.deepEqual(codes(), ['ERR_ENGINE_FRAME_BAD_LENGTH']);
});

test('a frame without msgId|type closes with ERR_ENGINE_MESSAGE_MALFORMED', () => {
  const { socket, codes } = setup();
  socket.feed('nothing-here');
  assert.equal(socket.destroyed, true);
  assert.deepEqual(codes(), ['ERR_ENGINE_MESSAGE_MALFORMED']);
});

test('on close: removed from the registry, core told once, close event once', async () => {
  const { socket, core, conn, registry } = setup();
  socket.feed('a1|authenticate|cymru|');
  socket.feed('r1|route|invite');
  let closes = 0;
  conn.on('close', () => closes++);
  conn.close();
  conn.close();
  await tick();
  socket.emit('close', false);
  assert.equal(closes, 1);
  assert.deepEqual(core.gone, ['app-1']);
  assert.equal(registry.selectApp('invite'), undefined);
  conn.send('z|sip|x');
  assert.equal(socket.out.filter((p) => p.startsWith('z|')).length, 0);
});

test('a second app with the secret is refused (maxApps 1 by default) with NO and a reason, counted; maxApps 2 admits it', async () => {
  const first = setup();
  first.socket.feed('a1|authenticate|cymru|');
  assert.equal(first.socket.replyTo('a1')![0], 'OK');
  const socket = new FakeSocket();
  const make = (maxApps?: number) => new AppConnection({
    socket: socket as unknown as ControlSocket, connId: 'app-2', secret: 'cymru', registry: first.registry, core: first.core,
    log: pino({ level: 'silent' }), version: 'v0.1.0-trunkgate', clock: first.clock, ...(maxApps !== undefined ? { maxApps } : {}),
  });
  const second = make();
  socket.feed('b1|authenticate|cymru|');
  const reply = socket.replyTo('b1')!;
  assert.equal(reply[0], 'NO');
  assert.match(reply[1]!, /too many applications/);
  assert.equal(second.authenticated, false);
  assert.equal(socket.ended, true);
  assert.equal(first.registry.size, 1);
  assert.equal(first.registry.counters().appsRefused, 1);
  const socket3 = new FakeSocket();
  const third = new AppConnection({
    socket: socket3 as unknown as ControlSocket, connId: 'app-3', secret: 'cymru', registry: first.registry, core: first.core,
    log: pino({ level: 'silent' }), version: 'v0.1.0-trunkgate', clock: first.clock, maxApps: 2,
  });
  socket3.feed('c1|authenticate|cymru|');
  assert.equal(socket3.replyTo('c1')![0], 'OK');
  assert.equal(third.authenticated, true);
  assert.equal(first.registry.size, 2);
});

test('the send queue is bounded: past the bound the app is backlogged (new INVITEs refused), past four times it is closed', async () => {
  const { socket, conn, registry, codes } = setup({ maxSendBufferBytes: 1_000 });
  socket.feed('a1|authenticate|cymru|');
  await tick();
  assert.equal(registry.backlogged('app-1'), false);
  for (let i = 0; i < 3; i++) conn.send(`x|sip|${'a'.repeat(400)}`);
  assert.equal(registry.backlogged('app-1'), true);
  for (let i = 0; i < 10; i++) conn.send(`x|sip|${'a'.repeat(400)}`);
  assert.equal(socket.destroyed, true);
  assert.ok(codes().includes('ERR_ENGINE_SEND_BUFFER_FULL'));
  assert.equal(registry.counters().appSendBufferOverflows, 1);
});

test('an app routes at most 64 methods: the 65th gets NOK, counted and logged, and the routes it has stay', () => {
  const { socket, registry, codes } = setup();
  socket.feed('a1|authenticate|cymru|');
  for (let i = 0; i < 64; i++) socket.feed(`r${i}|route|method${i}`);
  socket.feed('r64|route|one-too-many');
  socket.feed('r65|route|method3');
  assert.deepEqual(socket.replyTo('r63'), ['OK']);
  assert.deepEqual(socket.replyTo('r64'), ['NOK', 'too many routes for one application']);
  assert.deepEqual(socket.replyTo('r65'), ['OK'], 'a method it routes already is no new route');
  assert.equal(registry.routesOf('app-1').length, 64);
  assert.ok(codes().includes('ERR_ENGINE_ROUTE_LIMIT'));
  assert.equal(registry.counters()['controlErrors'], 1);
});
