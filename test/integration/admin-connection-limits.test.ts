// The admin API caps its connections at the TCP accept, before the token is checked: past gateway.admin.maxConnections
// (all sources) or maxConnectionsPerSource (one address) the server closes the socket at once, counts the refusal
// (/stats adminRefused, trunkgate_admin_refused_total{cause}) and writes one warn line per code and source a minute,
// however many it closed. Raw TCP connections over loopback; 127.0.0.2 stands in for a second source.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { startAdmin, type AdminServer } from '../../src/admin/index.js';
import { parsePromText } from '../support/prom-text.js';
import { minimalAdminServices } from '../support/admin-services.js';

interface Line { level: number; code?: string; msg: string; source?: string }

const services = minimalAdminServices();

/** Every client socket of a test, destroyed before its admin server is closed. */
const sockets = new Set<net.Socket>();

async function start(t: TestContext, limits: { maxConnections: number; maxConnectionsPerSource: number }): Promise<{ admin: AdminServer; lines: Line[] }> {
  const lines: Line[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  const admin = await startAdmin(services, { host: '127.0.0.1', port: 0, token: 'secret', log: pino({ level: 'info' }, dest), ...limits });
  t.after(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await admin.close();
  });
  return { admin, lines };
}

/** A raw TCP connection to the admin port; `closed` settles when the server ends it (true) or after `ms` (false). */
async function connect(port: number, localAddress = '127.0.0.1'): Promise<{ socket: net.Socket; closed: (ms?: number) => Promise<boolean> }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  sockets.add(socket);
  const ended = new Promise<true>((resolve) => socket.once('close', () => resolve(true)));
  await once(socket, 'connect');
  return {
    socket,
    closed: (ms = 300) => Promise.race([ended, new Promise<false>((resolve) => setTimeout(() => resolve(false), ms))]),
  };
}

/** One HTTP/1.1 request over an open socket: the status line's code. */
async function statusOver(socket: net.Socket, path: string): Promise<number> {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: admin\r\n\r\n`);
  const [chunk] = await once(socket, 'data') as [Buffer];
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString())?.[1]);
}

async function refused(admin: AdminServer): Promise<Record<string, number>> {
  const r = await admin.app.inject({ method: 'GET', url: '/stats', headers: { authorization: 'Bearer secret' } });
  return (r.json() as { adminRefused: Record<string, number> }).adminRefused;
}

test('past maxConnections a connection is closed at accept, counted, and logged once for several', async (t) => {
  const { admin, lines } = await start(t, { maxConnections: 2, maxConnectionsPerSource: 16 });
  const port = admin.address.port;
  const kept = [await connect(port), await connect(port, '127.0.0.2')];
  const extra = [await connect(port), await connect(port, '127.0.0.2'), await connect(port)];
  for (const c of extra) assert.equal(await c.closed(2_000), true, 'the server closes a connection past the cap');
  for (const c of kept) {
    assert.equal(await c.closed(), false, 'the connections within the cap stay open');
    assert.equal(await statusOver(c.socket, '/health'), 200);
  }
  assert.deepEqual(await refused(admin), { unauthorized: 0, origin: 0, 'connection-limit': 3, 'source-limit': 0, 'cdr-scan-busy': 0, 'pki-busy': 0, 'tls-probe-busy': 0, 'body-too-large': 0, 'bad-request': 0, 'client-error': 0 });
  const logged = lines.filter((l) => l.code === 'ERR_ADMIN_CONN_LIMIT');
  assert.deepEqual(logged.map((l) => l.source), ['127.0.0.1', '127.0.0.2'], 'one warn line per source, not one per refusal');
  assert.ok(logged.every((l) => l.level === 40));
  const prom = parsePromText((await admin.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer secret' } })).body);
  assert.equal(prom.value('trunkgate_admin_refused_total', { cause: 'connection-limit' }), 3);

  // A connection that ends gives its slot back.
  kept[0]!.socket.destroy();
  await once(kept[0]!.socket, 'close');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const again = await connect(port);
  assert.equal(await again.closed(), false);
  assert.equal(await statusOver(again.socket, '/health'), 200);
});

test('past maxConnectionsPerSource only that source is refused', async (t) => {
  const { admin, lines } = await start(t, { maxConnections: 64, maxConnectionsPerSource: 2 });
  const port = admin.address.port;
  const kept = [await connect(port), await connect(port)];
  const extra = [await connect(port), await connect(port), await connect(port), await connect(port)];
  const other = await connect(port, '127.0.0.2');
  for (const c of extra) assert.equal(await c.closed(2_000), true);
  for (const c of [...kept, other]) assert.equal(await c.closed(), false);
  assert.equal(await statusOver(other.socket, '/health'), 200, 'another source still gets in');
  assert.deepEqual(await refused(admin), { unauthorized: 0, origin: 0, 'connection-limit': 0, 'source-limit': 4, 'cdr-scan-busy': 0, 'pki-busy': 0, 'tls-probe-busy': 0, 'body-too-large': 0, 'bad-request': 0, 'client-error': 0 });
  const logged = lines.filter((l) => l.code === 'ERR_ADMIN_CONN_SOURCE_LIMIT');
  assert.equal(logged.length, 1, 'four refusals, one line');
  assert.equal(logged[0]!.source, '127.0.0.1');
});

test('a 401 over HTTP is counted and logged once per source, without the token given', async (t) => {
  const { admin, lines } = await start(t, { maxConnections: 64, maxConnectionsPerSource: 16 });
  const base = `http://127.0.0.1:${admin.address.port}`;
  // The wrong token goes first: only the first 401 from a source in the minute is written, and it is that line that
  // must leave the token out.
  for (const authorization of ['Bearer wrong-token-value', undefined, 'Basic abc']) {
    const r = await fetch(`${base}/stats`, authorization ? { headers: { authorization } } : {});
    assert.equal(r.status, 401);
    assert.equal((await r.json() as { code: string }).code, 'ERR_ADMIN_UNAUTHORIZED');
  }
  assert.equal((await fetch(`${base}/stats`, { headers: { authorization: 'Bearer secret' } })).status, 200);
  assert.equal((await refused(admin)).unauthorized, 3);
  const logged = lines.filter((l) => l.code === 'ERR_ADMIN_UNAUTHORIZED');
  assert.equal(logged.length, 1);
  assert.equal(logged[0]!.level, 40);
  assert.equal(logged[0]!.source, '127.0.0.1');
  assert.equal((logged[0] as Line & { authorization?: string }).authorization, 'another token', 'the line says a token was given, not which');
  assert.doesNotMatch(JSON.stringify(lines), /wrong-token-value/);
});

// What these timeouts do to a silent socket, a slow request and an idle keep-alive is tested in admin-timeouts.test.ts.
test('the listening server is given the API\'s timeouts', async (t) => {
  const { admin } = await start(t, { maxConnections: 64, maxConnectionsPerSource: 16 });
  const s = admin.app.server;
  assert.equal(s.timeout, 15_000);
  assert.equal(s.requestTimeout, 15_000);
  assert.equal(s.headersTimeout, 5_000);
  assert.equal(s.keepAliveTimeout, 5_000);
});

test('closing the server does not wait for connections that never sent a request', async (t) => {
  const { admin } = await start(t, { maxConnections: 64, maxConnectionsPerSource: 16 });
  const silent = await connect(admin.address.port);
  const stalled = await connect(admin.address.port);
  stalled.socket.write('GET /health HTTP/1.1\r\nHo');
  const served = await connect(admin.address.port);
  assert.equal(await statusOver(served.socket, '/health'), 200);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const t0 = Date.now();
  await admin.close();
  assert.ok(Date.now() - t0 < 1_000, `closed in ${Date.now() - t0} ms, not at the connections' timeouts`);
  for (const c of [silent, stalled, served]) assert.equal(await c.closed(1_000), true);
});
