// Requests Node's HTTP parser refuses before fastify sees them (a garbage request line: 400, headers over its limit:
// 431) are counted as client-error in adminRefused (/stats, /metrics) and logged once a minute per source with their
// code, the rest summed up in one line: a client sending them in a loop cannot flood the log.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { buildAdmin } from '../../src/admin/index.js';
import { minimalAdminServices } from '../support/admin-services.js';
import { captureLog } from '../support/log-capture.js';
import { parsePromText } from '../support/prom-text.js';

const EACH = 50;

/** Sends `bytes` on a new connection and resolves with what came back once the server closed it. */
async function exchange(port: number, bytes: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  let got = '';
  socket.on('data', (b: Buffer) => {
    got += b.toString('latin1');
  });
  await once(socket, 'connect');
  socket.write(bytes);
  await once(socket, 'close');
  return got;
}

test(`${EACH} garbage request lines and ${EACH} requests with 20 KB of headers: counted as client-error, a bounded number of lines`, async (t) => {
  const cap = captureLog();
  const app = await buildAdmin(minimalAdminServices(), { log: cap.log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  let closed = false;
  t.after(() => (closed ? undefined : app.close()));
  const a = app.server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;

  const statuses: string[] = [];
  for (let i = 0; i < EACH; i++) statuses.push((await exchange(port, `\u0001GARBAGE ${i} \u0002\r\n\r\n`)).split('\r\n')[0]!);
  const big = `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`;
  for (let i = 0; i < EACH; i++) statuses.push((await exchange(port, big)).split('\r\n')[0]!);
  assert.deepEqual([...new Set(statuses)], ['HTTP/1.1 400 Bad Request', 'HTTP/1.1 431 Request Header Fields Too Large']);

  const stats = (await app.inject({ method: 'GET', url: '/stats' })).json() as { adminRefused: Record<string, number> };
  assert.equal(stats.adminRefused['client-error'], 2 * EACH, JSON.stringify(stats.adminRefused));
  const prom = parsePromText((await app.inject({ method: 'GET', url: '/metrics' })).body);
  assert.equal(prom.value('trunkgate_admin_refused_total', { cause: 'client-error' }), 2 * EACH);

  closed = true;
  await app.close();
  const coded = cap.records.filter((r) => r.code === 'ERR_ADMIN_REQUEST' && (r.level as number) >= 30);
  const lines = coded.map((r) => String(r.msg)).join('\n');
  assert.ok(coded.length >= 1 && coded.length <= 3, `${coded.length} lines:\n${lines}`);
  assert.equal(coded[0]!.source, '127.0.0.1');
  assert.equal(coded[0]!.status, 400);
  const summary = coded.find((r) => r.event === 'LOG_LINES_LEFT_OUT');
  assert.equal(summary?.suppressed, 2 * EACH - 1, lines);
});
