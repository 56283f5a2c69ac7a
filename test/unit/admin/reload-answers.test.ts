// The answers of POST /reload/config and /reload/tls keep what the reports say: each warning's message and path (and
// the profile of a TLS one) reach the client, so `trunkgate reload` prints them; a refused reload is 422 with a
// top-level {code, message}, as every refusal of the API, beside the report and its problems.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdmin, type AdminServices } from '../../../src/admin/index.js';
import { minimalAdminServices } from '../../support/admin-services.js';

const host = { host: '127.0.0.1:8080' };

test('warnings keep their message, path and profile; a refusal carries its code and message', async (t) => {
  let configOk = true;
  let tlsOk = true;
  const warning = { code: 'WARN_NO_DIAL_PEERS', message: 'no dial peers are configured', path: 'dialPeers' };
  const problem = { code: 'ERR_CONFIG_SCHEMA', message: 'expected number', file: 'gateway.yaml', line: 3, path: 'gateway.admin.port' };
  const services: AdminServices = {
    ...minimalAdminServices(),
    reloadConfig: async () => ({
      ok: configOk, trigger: 'api', changed: [], applied: [], needsRestart: [], problems: configOk ? [] : [problem, { ...problem, line: 4 }], warnings: [warning],
    }) as never,
    reloadTls: async () => ({
      ok: tlsOk, trigger: 'api', version: 2, profiles: ['a'], added: [], removed: [], certificates: [],
      problems: tlsOk ? [] : [{ code: 'ERR_TLS_PROFILE_INVALID', message: 'key does not match', profile: 'a' }],
      warnings: [{ code: 'ERR_TLS_SNI_WIDENS', message: 'profile a answers more names', profile: 'a' }],
    }) as never,
  };
  const app = await buildAdmin(services);
  t.after(() => app.close());

  const config = await app.inject({ method: 'POST', url: '/reload/config', headers: host });
  assert.equal(config.statusCode, 200);
  assert.deepEqual(config.json().warnings, [warning]);
  assert.equal(config.json().code, undefined);
  const tls = await app.inject({ method: 'POST', url: '/reload/tls', headers: host });
  assert.deepEqual(tls.json().warnings, [{ code: 'ERR_TLS_SNI_WIDENS', message: 'profile a answers more names', profile: 'a' }]);

  configOk = false;
  tlsOk = false;
  const refused = await app.inject({ method: 'POST', url: '/reload/config', headers: host });
  assert.equal(refused.statusCode, 422);
  const body = refused.json();
  assert.equal(body.code, 'ERR_CONFIG_INVALID');
  assert.match(body.message, /gateway\.admin\.port: expected number \(and 1 more\)/);
  assert.deepEqual(body.problems[0], problem);
  assert.deepEqual(body.warnings, [warning]);
  const tlsRefused = await app.inject({ method: 'POST', url: '/reload/tls', headers: host });
  assert.deepEqual([tlsRefused.statusCode, tlsRefused.json().code], [422, 'ERR_TLS_PROFILE_INVALID']);
  assert.match(tlsRefused.json().message, /profile a: key does not match/);
});
