import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ManualClock } from '../../../../src/common/clock.js';
import { StreamConnection } from '../../../../src/sip/transport/stream-connection.js';

/** Just enough of a net.Socket for the connection: no kernel involved. */
class FakeSocket extends EventEmitter {
  localAddress = '::ffff:127.0.0.1';
  localPort = 5060;
  remoteAddress = '::ffff:127.0.0.2';
  remotePort = 40000;
  destroyed = false;
  writable = true;
  written: Buffer[] = [];
  ended = false;
  failWrites = false;
  /** What the kernel has not taken yet: a peer that does not read lets it grow. */
  writableLength = 0;
  options: string[] = [];
  setNoDelay(on: boolean): this {
    this.options.push(`nodelay:${on}`);
    return this;
  }
  setKeepAlive(on: boolean, delay: number): this {
    this.options.push(`keepalive:${on}:${delay}`);
    return this;
  }
  write(data: Buffer, cb: (e?: Error) => void): boolean {
    if (this.failWrites) queueMicrotask(() => cb(new Error('EPIPE')));
    else {
      this.written.push(data);
      queueMicrotask(() => cb());
    }
    return true;
  }
  end(): this {
    this.ended = true;
    return this;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.writable = false;
      queueMicrotask(() => this.emit('close'));
    }
    return this;
  }
}

function make(clock: ManualClock, over: { idle?: number; unused?: number; socketOptions?: 'now' | 'on-first-use'; remote?: { address: string; port: number }; maxSendBufferBytes?: number } = {}) {
  const socket = new FakeSocket();
  const events: string[] = [];
  const conn = new StreamConnection({
    id: 'tcp-1', protocol: 'tcp', direction: 'inbound', socket: socket as unknown as Socket, clock,
    idleTimeoutMs: over.idle ?? 10_000, unusedTimeoutMs: over.unused ?? 1_000, keepAliveMs: 30_000,
    user: {
      onFrame: (_c, m) => events.push(`frame:${m.length}`),
      onPing: () => events.push('ping'),
      onFrameError: (_c, e) => events.push(`error:${e.code}`),
      onClose: (_c, reason) => events.push(`close:${reason}`),
      onSendBufferFull: (_c, queued) => events.push(`send-buffer-full:${queued}`),
    },
    listenerId: 'l1',
    ...(over.maxSendBufferBytes !== undefined ? { maxSendBufferBytes: over.maxSendBufferBytes } : {}),
    ...(over.socketOptions ? { socketOptions: over.socketOptions } : {}),
    ...(over.remote ? { remote: over.remote } : {}),
  });
  return { socket, conn, events };
}

const tick = () => new Promise((r) => setImmediate(r));

test('addresses are normalised and the flow names the connection and listener', () => {
  const { conn } = make(new ManualClock());
  assert.deepEqual(conn.flow, { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.2', remotePort: 40000, connectionId: 'tcp-1', listenerId: 'l1' });
});

test('a connection that never carries a message is closed after the unused timeout', async () => {
  const clock = new ManualClock();
  const { socket, events } = make(clock);
  clock.advance(999);
  assert.equal(socket.destroyed, false);
  clock.advance(1);
  assert.equal(socket.destroyed, true);
  await tick();
  assert.deepEqual(events, ['close:unused timeout']);
});

test('bytes trickling in without ever completing a message do not keep a connection: the unused time counts from its opening', async () => {
  const clock = new ManualClock();
  const { socket, events } = make(clock, { unused: 1_000 });
  const msg = 'OPTIONS sip:a SIP/2.0\r\n';
  for (let i = 0; i < 5 && !socket.destroyed; i++) {
    socket.emit('data', Buffer.from(msg[i]!));
    clock.advance(300);
  }
  assert.equal(socket.destroyed, true, 'closed about 1 s after it opened, though a byte came every 300 ms');
  await tick();
  assert.deepEqual(events, ['close:unused timeout']);
});

test('a message still incomplete 10 s after its first byte ends the connection (slowloris), however the bytes trickle', async () => {
  const clock = new ManualClock();
  const { socket, conn, events } = make(clock, { idle: 60_000, unused: 1_000 });
  socket.emit('data', Buffer.from('OPTIONS sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(conn.info.messagesIn, 1);
  conn.markUsed();
  const next = 'OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKabc\r\n';
  for (let i = 0; i < 20 && !socket.destroyed; i++) {
    socket.emit('data', Buffer.from(next[i]!));
    clock.advance(1_000);
  }
  assert.equal(socket.destroyed, true);
  assert.ok(clock.now() <= 11_000, `ended ${clock.now()} ms in`);
  await tick();
  assert.deepEqual(events, ['frame:44', 'close:message timeout']);
});

test('a message completed in time clears its deadline', async () => {
  const clock = new ManualClock();
  const { socket, conn } = make(clock, { idle: 60_000, unused: 30_000 });
  socket.emit('data', Buffer.from('OPTIONS sip:a SIP/2.0\r\nContent'));
  clock.advance(9_000);
  socket.emit('data', Buffer.from('-Length: 0\r\n\r\n'));
  assert.equal(conn.info.messagesIn, 1);
  conn.markUsed();
  clock.advance(30_000);
  assert.equal(socket.destroyed, false);
  assert.equal(socket.ended, false);
});

test('traffic moves the idle deadline; a used connection gets the long idle timeout', async () => {
  const clock = new ManualClock();
  const { socket, conn, events } = make(clock);
  clock.advance(500);
  socket.emit('data', Buffer.from('OPTIONS sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(conn.info.messagesIn, 1);
  conn.markUsed();
  clock.advance(5_000);
  assert.equal(socket.ended, false, 'used: the unused timeout no longer applies');
  clock.advance(4_999);
  assert.equal(socket.ended, false);
  clock.advance(1);
  assert.equal(socket.ended, true);
  assert.equal(conn.info.state, 'closing');
  socket.destroy();
  await tick();
  assert.deepEqual(events, ['frame:44', 'close:idle timeout']);
  assert.equal(clock.pending, 0);
});

test('messages in and out do not make a connection used: until markUsed it is closed at the unused timeout', async () => {
  const clock = new ManualClock();
  const { socket, conn, events } = make(clock, { idle: 10_000, unused: 1_000 });
  clock.advance(500);
  socket.emit('data', Buffer.from('INVITE sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n'));
  await conn.write(Buffer.from('SIP/2.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
  clock.advance(499);
  assert.equal(socket.destroyed, false);
  clock.advance(1);
  assert.equal(socket.destroyed, true, 'destroyed 1 s after it opened, though it carried a message each way');
  await tick();
  assert.deepEqual(events, ['frame:43', 'close:unused timeout']);
});

test('an outbound connection is used from the start: it gets the idle timeout', () => {
  const clock = new ManualClock();
  const socket = new FakeSocket();
  const conn = new StreamConnection({
    id: 'tcp-2', protocol: 'tcp', direction: 'outbound', socket: socket as unknown as Socket, clock,
    idleTimeoutMs: 10_000, unusedTimeoutMs: 1_000, keepAliveMs: 30_000,
    user: { onFrame: () => undefined, onPing: () => undefined, onFrameError: () => undefined, onClose: () => undefined, onSendBufferFull: () => undefined },
  });
  clock.advance(9_999);
  assert.equal(socket.ended, false);
  clock.advance(1);
  assert.equal(socket.ended, true);
  assert.equal(conn.info.state, 'closing');
});

test('writes count bytes and messages; a pong is not a message; writes after close reject with a code', async () => {
  const clock = new ManualClock();
  const { socket, conn } = make(clock);
  socket.emit('data', Buffer.from('\r\n\r\n'));
  conn.pong();
  await conn.write(Buffer.from('hello'));
  assert.equal(conn.info.messagesOut, 1);
  assert.equal(conn.info.bytesOut, 7);
  assert.deepEqual(socket.written.map(String), ['\r\n', 'hello']);
  socket.failWrites = true;
  await assert.rejects(conn.write(Buffer.from('x')), { code: 'ERR_SIP_TRANSPORT_SEND' });
  conn.destroy('test');
  await tick();
  await assert.rejects(conn.write(Buffer.from('x')), { code: 'ERR_SIP_TRANSPORT_CLOSED' });
  assert.equal(conn.isOpen, false);
});

test('an error then close reports the error as the reason, once', async () => {
  const { socket, events } = make(new ManualClock());
  socket.emit('error', Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
  socket.destroy();
  socket.emit('close');
  await tick();
  assert.deepEqual(events, ['close:error ECONNRESET']);
});

test('socket options: set at once by default, on the first bytes in for an accepted connection, once', () => {
  const now = make(new ManualClock());
  assert.deepEqual(now.socket.options, ['nodelay:true', 'keepalive:true:30000']);

  const { socket } = make(new ManualClock(), { socketOptions: 'on-first-use' });
  assert.deepEqual(socket.options, [], 'nothing set while the connection carries nothing');
  socket.emit('data', Buffer.from('\r\n\r\n'));
  assert.deepEqual(socket.options, ['nodelay:true', 'keepalive:true:30000']);
  socket.emit('data', Buffer.from('\r\n\r\n'));
  assert.equal(socket.options.length, 2, 'set once');
});

test('socket options of an accepted connection are set before its first write', async () => {
  const { socket, conn } = make(new ManualClock(), { socketOptions: 'on-first-use' });
  await conn.write(Buffer.from('SIP/2.0 200 OK\r\n\r\n'));
  assert.deepEqual(socket.options, ['nodelay:true', 'keepalive:true:30000']);
  assert.equal(socket.written.length, 1);
  await conn.write(Buffer.from('x'));
  assert.equal(socket.options.length, 2);
});

test('a remote address given by the caller is used, not read from the socket again', () => {
  const { conn } = make(new ManualClock(), { remote: { address: '192.0.2.7', port: 5071 } });
  assert.equal(conn.info.remoteAddress, '192.0.2.7');
  assert.equal(conn.info.remotePort, 5071);
});

test('a peer that does not read: past the send bound the write is refused and the connection destroyed, reported once', async () => {
  const { socket, conn, events } = make(new ManualClock(), { maxSendBufferBytes: 1_000 });
  await conn.write(Buffer.alloc(600));
  socket.writableLength = 600;
  await conn.write(Buffer.alloc(400));
  socket.writableLength = 1_000;
  await assert.rejects(conn.write(Buffer.alloc(1)), (e: Error & { code?: string; details?: Record<string, unknown> }) => {
    assert.equal(e.code, 'ERR_SIP_TRANSPORT_SEND_BUFFER_FULL');
    assert.equal(e.details?.['queuedBytes'], 1_000);
    return true;
  });
  assert.equal(socket.destroyed, true);
  assert.equal(socket.written.length, 2, 'the refused bytes were not queued');
  conn.pong();
  await assert.rejects(conn.write(Buffer.alloc(1)), { code: 'ERR_SIP_TRANSPORT_CLOSED' });
  await tick();
  assert.deepEqual(events, ['send-buffer-full:1000', 'close:send buffer full']);
});

test('the send bound defaults to 1 MiB', async () => {
  const { socket, conn, events } = make(new ManualClock());
  socket.writableLength = 1_048_575;
  await conn.write(Buffer.alloc(1));
  socket.writableLength = 1_048_576;
  await assert.rejects(conn.write(Buffer.alloc(1)), { code: 'ERR_SIP_TRANSPORT_SEND_BUFFER_FULL' });
  assert.deepEqual(events.slice(0, 1), ['send-buffer-full:1048576']);
});
