// Without a token, the admin API answers only a local client: a request to a Host that is not a loopback name (a
// page whose name was rebound to 127.0.0.1) or with the Origin of another site (any page open in the operator's
// browser) is refused 403 ERR_ADMIN_ORIGIN_REFUSED, before any service is asked, counted as `origin` and logged
// once a minute; the console's own calls (same origin, or none) and a local client (curl, trunkgate reload) are
// served. With a token, the bearer check alone decides.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { loopbackOrigin } from '../../../src/admin/auth.js';
import { minimalAdminServices } from '../../support/admin-services.js';
import { captureLog } from '../../support/log-capture.js';
import { parsePromText } from '../../support/prom-text.js';

/** Services whose reloads say they were called. */
function reloading(): { services: AdminServices; reloads: string[] } {
  const reloads: string[] = [];
  const services: AdminServices = {
    ...minimalAdminServices(),
    reloadConfig: async () => { reloads.push('config'); return { ok: true } as never; },
    reloadTls: async () => { reloads.push('tls'); return { ok: true } as never; },
  };
  return { services, reloads };
}

test('a loopback Host is 127.x.x.x, [::1] or localhost with any port; any other name or address is not', () => {
  for (const h of ['127.0.0.1', '127.0.0.1:8080', '127.3.2.1:1', 'localhost', 'LocalHost:8080', '[::1]', '[::1]:8080', '[0:0:0:0:0:0:0:1]:9']) {
    assert.ok(loopbackOrigin(h) !== undefined, h);
  }
  assert.equal(loopbackOrigin('127.0.0.1:8080'), 'http://127.0.0.1:8080');
  assert.equal(loopbackOrigin('localhost:80'), 'http://localhost');
  for (const h of [undefined, '', 'evil.example', 'evil.example:8080', '127.0.0.1.evil.example', 'localhost.evil.example', 'localhost.',
    '10.0.0.1', '[::2]', '[::ffff:10.0.0.1]', 'user@127.0.0.1', '127.0.0.1/x', '127.0.0.1:99999', '127.0.0.1:8080, evil.example']) {
    assert.equal(loopbackOrigin(h), undefined, String(h));
  }
});

test('without a token, a page of another site cannot reload, read or act: 403 ERR_ADMIN_ORIGIN_REFUSED, counted, logged once', async (t) => {
  const { services, reloads } = reloading();
  const { log, records } = captureLog();
  const app = await buildAdmin(services, { log, processMetrics: false });
  t.after(() => app.close());
  const host = '127.0.0.1:8080';
  const refused = [
    // A simple cross-site request (a form post) from any page the operator opens.
    await app.inject({ method: 'POST', url: '/reload/config', headers: { host, origin: 'http://evil.example' } }),
    await app.inject({ method: 'POST', url: '/reload/tls', headers: { host, origin: 'https://evil.example' } }),
    // Another port of loopback is another site; so is a sandboxed or file: page.
    await app.inject({ method: 'POST', url: '/reload/config', headers: { host, origin: 'http://127.0.0.1:3000' } }),
    await app.inject({ method: 'POST', url: '/reload/config', headers: { host, origin: 'null' } }),
    // After a DNS rebind the page is same-origin with its own name, which is not loopback.
    await app.inject({ method: 'GET', url: '/stats', headers: { host: 'evil.example:8080', origin: 'http://evil.example:8080' } }),
    await app.inject({ method: 'DELETE', url: '/calls/abc', headers: { host: 'evil.example:8080' } }),
    await app.inject({ method: 'GET', url: '/health', headers: { host: 'evil.example:8080' } }),
    await app.inject({ method: 'GET', url: '/metrics', headers: { host: 'evil.example:8080' } }),
  ];
  for (const r of refused) {
    assert.equal(r.statusCode, 403, r.body);
    assert.equal((r.json() as { code: string }).code, 'ERR_ADMIN_ORIGIN_REFUSED');
  }
  assert.deepEqual(reloads, [], 'no service was asked');
  const stats = (await app.inject({ method: 'GET', url: '/stats', headers: { host } })).json() as { adminRefused: Record<string, number> };
  assert.equal(stats.adminRefused.origin, refused.length);
  const prom = parsePromText((await app.inject({ method: 'GET', url: '/metrics', headers: { host } })).body);
  assert.equal(prom.value('trunkgate_admin_refused_total', { cause: 'origin' }), refused.length);
  const lines = records.filter((l) => l.code === 'ERR_ADMIN_ORIGIN_REFUSED');
  assert.equal(lines.length, 1, 'one line a minute per code and source');
  assert.equal(lines[0]!.origin, 'http://evil.example');
});

test('without a token, a local client and the console (same origin, or none) are served', async (t) => {
  const { services, reloads } = reloading();
  const app = await buildAdmin(services, { processMetrics: false });
  t.after(() => app.close());
  const served = [
    await app.inject({ method: 'POST', url: '/reload/config', headers: { host: '127.0.0.1:8080' } }),
    await app.inject({ method: 'POST', url: '/reload/config', headers: { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' } }),
    await app.inject({ method: 'POST', url: '/reload/tls', headers: { host: '[::1]:8080', origin: 'http://[::1]:8080' } }),
    await app.inject({ method: 'POST', url: '/reload/tls', headers: { host: 'localhost', origin: 'http://localhost:80' } }),
    await app.inject({ method: 'GET', url: '/health', headers: { host: 'localhost:9000' } }),
    await app.inject({ method: 'GET', url: '/console/', headers: { host: '127.0.0.1:8080' } }),
    await app.inject({ method: 'GET', url: '/stats' }),
  ];
  assert.deepEqual(served.map((r) => r.statusCode), served.map(() => 200), served.map((r) => r.body.slice(0, 100)).join('\n'));
  assert.deepEqual(reloads, ['config', 'config', 'tls', 'tls']);
});

test('with a token, the bearer check decides: another Host or Origin with the token is served', async (t) => {
  const { services, reloads } = reloading();
  const app = await buildAdmin(services, { token: 'tok', processMetrics: false });
  t.after(() => app.close());
  const r = await app.inject({ method: 'POST', url: '/reload/config', headers: { host: 'gw.example:8080', origin: 'https://ops.example', authorization: 'Bearer tok' } });
  assert.equal(r.statusCode, 200, r.body);
  const cross = await app.inject({ method: 'POST', url: '/reload/config', headers: { host: 'gw.example:8080', origin: 'https://evil.example' } });
  assert.equal(cross.statusCode, 401);
  assert.equal((await app.inject({ method: 'GET', url: '/health', headers: { host: 'gw.example' } })).statusCode, 200);
  assert.deepEqual(reloads, ['config']);
});

test('over a real socket: a client that names the address it reached is served, a rebound name is refused', async (t) => {
  const app = await buildAdmin(minimalAdminServices(), { processMetrics: false });
  t.after(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  assert.equal((await fetch(`http://127.0.0.1:${port}/stats`)).status, 200);
  const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/stats', headers: { host: `rebound.example:${port}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
  assert.equal(rebound.status, 403);
  assert.equal((JSON.parse(rebound.body) as { code: string }).code, 'ERR_ADMIN_ORIGIN_REFUSED');
});
