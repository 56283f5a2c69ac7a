// The admin server's timeouts close what a slow or silent client holds: a connection that sends no request head (or
// sends it a line at a time, never idle) goes at the headers bound, and a response not delivered within the response
// bound loses its socket. Short bounds given through buildAdmin's options; each wait is generous, and a socket's
// close is what is checked, not when it came.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { buildAdmin, type AdminTimeouts } from '../../src/admin/index.js';
import { minimalAdminServices } from '../support/admin-services.js';

/** The client sockets of the running test, destroyed before its server is closed. */
const sockets = new Set<net.Socket>();

async function listen(t: TestContext, timeouts: Partial<AdminTimeouts>, stall = false): Promise<number> {
  const app = await buildAdmin(minimalAdminServices(), { timeouts });
  // A response that starts and never ends: a client reading it slowly looks the same to the server.
  if (stall) {
    app.get('/stall', { schema: { hide: true } }, (_req, reply) => {
      const body = new PassThrough();
      body.write('started');
      return reply.send(body);
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await app.close();
  });
  const a = app.server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/** A raw connection; `closed(ms)` is true once the server has closed it, false if it is still open after `ms`. */
async function connect(port: number): Promise<{ socket: net.Socket; closed: (ms: number) => Promise<boolean> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  sockets.add(socket);
  const ended = new Promise<true>((resolve) => socket.once('close', () => resolve(true)));
  await once(socket, 'connect');
  // Read what comes (a 408, a response), so the server's end of the connection is seen.
  socket.resume();
  return { socket, closed: (ms) => Promise.race([ended, new Promise<false>((resolve) => setTimeout(() => resolve(false), ms))]) };
}

test('a connection that sends no request head, or sends it a line at a time, is closed at the headers bound', async (t) => {
  const port = await listen(t, { headers: 300, check: 100 });
  const silent = await connect(port);
  const trickle = await connect(port);
  trickle.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const timer = setInterval(() => trickle.socket.writable && trickle.socket.write('X-Slow: 1\r\n'), 100);
  t.after(() => clearInterval(timer));
  assert.equal(await silent.closed(5_000), true, 'the silent connection is closed');
  assert.equal(await trickle.closed(5_000), true, 'the trickling one too, though never idle');
});

test('a response not delivered within the response bound loses its socket; one delivered leaves its keep-alive connection open', async (t) => {
  const port = await listen(t, { response: 300, connection: 60_000 }, true);
  const slow = await connect(port);
  slow.socket.write('GET /stall HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const [head] = await once(slow.socket, 'data') as [Buffer];
  assert.match(head.toString(), /^HTTP\/1\.1 200/, 'the response started');
  assert.equal(await slow.closed(5_000), true, 'its socket is closed at the deadline');

  const served = await connect(port);
  served.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const [answer] = await once(served.socket, 'data') as [Buffer];
  assert.match(answer.toString(), /^HTTP\/1\.1 200/);
  assert.equal(await served.closed(1_000), false, 'a delivered response leaves no deadline behind');
});
