// A gateway running against drachtio-server (gateway.engine.mode external): /health names the server and whether
// the control connection is up; the routes that read or act on the embedded engine answer 501 with a code of the
// closed list, never a crash; /stats, /trunks and /metrics still serve the b2bua's part without touching the engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';

const noEngine = (): never => {
  throw new Error('the embedded engine was asked for');
};
const stats = { attempted: 4, connected: 3, completed: 3, failed: { 404: 1 }, failedTotal: 1, active: 0 };
let connected = true;
const services: AdminServices = {
  engineSnapshot: noEngine, b2buaStats: () => stats as never, reloadTls: noEngine, reloadConfig: noEngine,
  closeConnection: noEngine,
  engine: () => ({ mode: 'external', control: '127.0.0.1:9022', connected, hostport: 'udp/127.0.0.1:5060' }),
};

test('/health names drachtio-server, and is degraded while the control connection is down', async (t) => {
  const app = await buildAdmin(services, {});
  t.after(() => app.close());
  connected = true;
  const up = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(up.statusCode, 200);
  assert.deepEqual(up.json(), { status: 'ok', engine: { mode: 'external', control: '127.0.0.1:9022', connected: true, hostport: 'udp/127.0.0.1:5060' } });
  connected = false;
  const down = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(down.json().status, 'degraded');
  assert.equal(down.json().engine.connected, false);
  connected = true;
});

test('the embedded engine\'s routes answer 501 ERR_ADMIN_ENGINE_EXTERNAL', async (t) => {
  const app = await buildAdmin(services, {});
  t.after(() => app.close());
  for (const [method, url] of [['GET', '/connections'], ['GET', '/listeners'], ['GET', '/tls'], ['DELETE', '/connections/c1']] as const) {
    const r = await app.inject({ method, url });
    assert.equal(r.statusCode, 501, `${method} ${url}`);
    assert.equal(r.json().code, 'ERR_ADMIN_ENGINE_EXTERNAL', `${method} ${url}`);
    assert.match(r.json().message, /drachtio-server at 127\.0\.0\.1:9022/);
  }
});

test('/stats, /trunks and /metrics serve the b2bua\'s counters with no engine part', async (t) => {
  const app = await buildAdmin(services, { processMetrics: false });
  t.after(() => app.close());
  const s = await app.inject({ method: 'GET', url: '/stats' });
  assert.equal(s.statusCode, 200, s.body);
  assert.equal(s.json().engine, undefined);
  assert.equal(s.json().b2bua.attempted, 4);
  const tr = await app.inject({ method: 'GET', url: '/trunks' });
  assert.equal(tr.statusCode, 200, tr.body);
  assert.deepEqual(tr.json().listenersDown, []);
  const m = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(m.statusCode, 200, m.body);
  assert.match(m.body, /^trunkgate_calls_attempted_total 4$/m);
  // prom-client prints an unlabelled metric that read nothing as 0; labelled engine series are absent.
  assert.match(m.body, /^trunkgate_sip_messages_received_total 0$/m);
  assert.doesNotMatch(m.body, /^trunkgate_tls_handshake_failures_total\{/m);
});
