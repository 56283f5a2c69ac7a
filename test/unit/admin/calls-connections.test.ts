// The admin API's call list, clear call, clear connection and listener table over fastify's inject(), with fake
// services: what each answers (status, code, body), that the token guards them, that limits bound the lists, and that
// every action is counted in /stats and /metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import type { ActiveCallRow, HangUpResult } from '../../../src/b2bua/active-calls.js';
import type { ConnectionInfo } from '../../../src/sip/transport/index.js';

const row = (n: number): ActiveCallRow => ({
  id: `${n % 2}-0000000${n}`, app: n % 2, state: 'connected', callIds: [`a${n}@pbx`, `b${n}@gw`], tenantIn: 'pbx', tenantOut: 'carrier',
  dialPeer: '100', callingNumber: '1001', calledNumber: `300${n}`, startAt: 1_000, answerAt: 2_000, durationMs: 5_000,
});
const conn: ConnectionInfo = {
  id: 'c7', protocol: 'tcp', direction: 'inbound', state: 'open', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.1',
  remotePort: 40000, tenant: 'pbx', createdAt: 0, lastActivityAt: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0,
};
const snapshot = {
  connections: [conn, { ...conn, id: 'c8', remotePort: 40001 }], listenersDown: [{ id: 'tls-b', protocol: 'tls', host: '127.0.0.1', port: 5063, tenant: 'backup', error: 'EADDRINUSE' }],
  tls: { version: 1, profiles: [], failures: [] }, transport: { drops: {}, messagesIn: 0, messagesOut: 0 }, transactions: {},
};

function services(hangUps: string[] = []): AdminServices {
  return {
    engineSnapshot: async () => snapshot as never,
    b2buaStats: () => ({ attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 3 }) as never,
    reloadTls: async () => { throw new Error('unused'); },
    reloadConfig: async () => { throw new Error('unused'); },
    listeners: () => [{ id: 'udp-1', protocol: 'udp', address: '127.0.0.1', port: 5060, tenant: 'pbx' }],
    listCalls: async (limit) => ({ calls: [row(1), row(2), row(3)].slice(0, limit), total: 3, unanswered: [] }),
    hangUpCall: async (id): Promise<HangUpResult> => {
      hangUps.push(id);
      if (id === '1-00000001') return { outcome: 'ended', call: row(1) };
      if (id === '0-00000002') return { outcome: 'already-ending', call: { ...row(2), state: 'ending' } };
      return { outcome: 'unknown' };
    },
    closeConnection: async (id) => (id === 'c7' ? conn : undefined),
  };
}

test('GET /calls lists every call with its fields; ?limit cuts the rows and says so; a limit out of range is 400', async (t) => {
  const app = await buildAdmin(services());
  t.after(() => app.close());
  const all = (await app.inject({ method: 'GET', url: '/calls' })).json();
  assert.equal(all.count, 3);
  assert.equal(all.total, 3);
  assert.equal(all.truncated, false);
  assert.deepEqual(all.calls[0], row(1));
  const one = (await app.inject({ method: 'GET', url: '/calls?limit=1' })).json();
  assert.deepEqual([one.count, one.total, one.truncated], [1, 3, true]);
  for (const bad of ['0', '10001', 'x']) {
    const r = await app.inject({ method: 'GET', url: `/calls?limit=${bad}` });
    assert.equal(r.statusCode, 400, bad);
    assert.equal(r.json().code, 'ERR_ADMIN_REQUEST', bad);
  }
});

test('DELETE /calls/:id: 200 when cleared, 409 ERR_ADMIN_CALL_ENDING when already ending, 404 ERR_ADMIN_CALL_NOT_FOUND otherwise; each counted', async (t) => {
  const asked: string[] = [];
  const app = await buildAdmin(services(asked), { processMetrics: false });
  t.after(() => app.close());
  const ok = await app.inject({ method: 'DELETE', url: '/calls/1-00000001' });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json().state, 'ended');
  assert.deepEqual(ok.json().call.callIds, ['a1@pbx', 'b1@gw']);
  const ending = await app.inject({ method: 'DELETE', url: '/calls/0-00000002' });
  assert.equal(ending.statusCode, 409);
  assert.equal(ending.json().code, 'ERR_ADMIN_CALL_ENDING');
  const unknown = await app.inject({ method: 'DELETE', url: '/calls/0-deadbeef' });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().code, 'ERR_ADMIN_CALL_NOT_FOUND');
  assert.deepEqual(asked, ['1-00000001', '0-00000002', '0-deadbeef']);
  const stats = (await app.inject({ method: 'GET', url: '/stats' })).json();
  assert.deepEqual(stats.admin['clear-call'], { done: 1, 'not-found': 1, conflict: 1 });
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /^trunkgate_admin_actions_total\{action="clear-call",result="done"\} 1$/m);
  assert.match(metrics, /^trunkgate_admin_actions_total\{action="clear-call",result="not-found"\} 1$/m);
});

test('DELETE /connections/:id closes an open connection (200 with its addresses) and answers 404 ERR_ADMIN_CONNECTION_NOT_FOUND for any other id', async (t) => {
  const app = await buildAdmin(services());
  t.after(() => app.close());
  const ok = await app.inject({ method: 'DELETE', url: '/connections/c7' });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { id: 'c7', protocol: 'tcp', direction: 'inbound', remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 5060, tenant: 'pbx' });
  const gone = await app.inject({ method: 'DELETE', url: '/connections/c99' });
  assert.equal(gone.statusCode, 404);
  assert.equal(gone.json().code, 'ERR_ADMIN_CONNECTION_NOT_FOUND');
  const stats = (await app.inject({ method: 'GET', url: '/stats' })).json();
  assert.deepEqual(stats.admin['clear-connection'], { done: 1, 'not-found': 1, conflict: 0 });
  const limited = (await app.inject({ method: 'GET', url: '/connections?limit=1' })).json();
  assert.equal(limited.count, 2, 'the count is the whole table');
  assert.equal(limited.connections.length, 1);
});

test('GET /listeners: bound listeners are listening, a tenant listener that could not bind is down with its error', async (t) => {
  const app = await buildAdmin(services());
  t.after(() => app.close());
  assert.deepEqual((await app.inject({ method: 'GET', url: '/listeners' })).json(), {
    listeners: [
      { id: 'udp-1', tenant: 'pbx', address: '127.0.0.1', port: 5060, transport: 'udp', state: 'listening' },
      { id: 'tls-b', tenant: 'backup', address: '127.0.0.1', port: 5063, transport: 'tls', state: 'down', error: 'EADDRINUSE' },
    ],
  });
});

test('with a token, calls, connections and listeners answer 401 ERR_ADMIN_UNAUTHORIZED without it, and nothing is cleared', async (t) => {
  const asked: string[] = [];
  const app = await buildAdmin(services(asked), { token: 's3cret' });
  t.after(() => app.close());
  for (const [method, url] of [['GET', '/calls'], ['DELETE', '/calls/1-00000001'], ['DELETE', '/connections/c7'], ['GET', '/listeners']] as const) {
    const r = await app.inject({ method, url });
    assert.equal(r.statusCode, 401, url);
    assert.equal(r.json().code, 'ERR_ADMIN_UNAUTHORIZED');
    const wrong = await app.inject({ method, url, headers: { authorization: 'Bearer other' } });
    assert.equal(wrong.statusCode, 401, url);
  }
  assert.deepEqual(asked, []);
  const r = await app.inject({ method: 'GET', url: '/calls', headers: { authorization: 'Bearer s3cret' } });
  assert.equal(r.statusCode, 200);
});
