// The admin API's refusals are counted whatever the log shows: a 401 is `unauthorized` in /stats adminRefused and
// in trunkgate_admin_refused_total{cause}; gateway.admin bounds its connections by default.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin } from '../../../src/admin/index.js';
import { sourceAddress } from '../../../src/admin/admin-refusals.js';
import { AdminSchema } from '../../../src/config/gateway-schema.js';
import { parsePromText } from '../../support/prom-text.js';
import { minimalAdminServices } from '../../support/admin-services.js';

const services = minimalAdminServices();
const auth = { authorization: 'Bearer secret' };

test('each 401 counts as unauthorized in /stats and /metrics; a request with the token does not', async (t) => {
  const app = await buildAdmin(services, { token: 'secret', processMetrics: false });
  t.after(() => app.close());
  assert.equal((await app.inject({ method: 'GET', url: '/stats' })).statusCode, 401);
  assert.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } })).statusCode, 401);
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'an open route is no refusal');
  const stats = (await app.inject({ method: 'GET', url: '/stats', headers: auth })).json() as { adminRefused: Record<string, number> };
  assert.deepEqual(stats.adminRefused, { unauthorized: 2, origin: 0, 'connection-limit': 0, 'source-limit': 0, 'cdr-scan-busy': 0, 'pki-busy': 0, 'tls-probe-busy': 0, 'body-too-large': 0, 'bad-request': 0, 'client-error': 0 });
  const prom = parsePromText((await app.inject({ method: 'GET', url: '/metrics', headers: auth })).body);
  assert.equal(prom.types.get('trunkgate_admin_refused_total'), 'counter');
  assert.equal(prom.value('trunkgate_admin_refused_total', { cause: 'unauthorized' }), 2);
  assert.equal(prom.value('trunkgate_admin_refused_total', { cause: 'source-limit' }), 0);
});

test('gateway.admin caps connections by default: 64 in all, 16 from one address', () => {
  const a = AdminSchema.parse({});
  assert.equal(a.maxConnections, 64);
  assert.equal(a.maxConnectionsPerSource, 16);
  assert.equal(AdminSchema.safeParse({ maxConnections: 0 }).success, false);
  assert.equal(AdminSchema.parse({ maxConnections: 8, maxConnectionsPerSource: 2 }).maxConnectionsPerSource, 2);
});

test('a source is keyed by its address, IPv4-mapped IPv6 as IPv4', () => {
  assert.equal(sourceAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(sourceAddress('::1'), '::1');
  assert.equal(sourceAddress('FE80::1'), 'fe80::1');
  assert.equal(sourceAddress(undefined), '');
});
