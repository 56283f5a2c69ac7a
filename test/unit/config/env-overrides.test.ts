import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEnvOverrides } from '../../../src/config/index.js';

test('good overrides are read and typed: ports become numbers, empty variables count as unset', () => {
  const r = readEnvOverrides({
    TRUNKGATE_CONTROL_PORT: '9023', TRUNKGATE_ADMIN_PORT: '0', TRUNKGATE_LOG_LEVEL: 'warn', TRUNKGATE_ENGINE_SECRET: 'cymru-abc!',
    TRUNKGATE_ADMIN_URL: 'http://127.0.0.1:8081', TRUNKGATE_PROFILES: '', OTHER: 'x',
  });
  assert.deepEqual(r, {
    ok: true,
    value: {
      TRUNKGATE_CONTROL_PORT: 9023, TRUNKGATE_ADMIN_PORT: 0, TRUNKGATE_LOG_LEVEL: 'warn', TRUNKGATE_ENGINE_SECRET: 'cymru-abc!',
      TRUNKGATE_ADMIN_URL: 'http://127.0.0.1:8081',
    },
  });
  assert.deepEqual(readEnvOverrides({}), { ok: true, value: {} });
});

test('each bad variable is one problem that names it, with the schema code and file `environment`', () => {
  const r = readEnvOverrides({
    TRUNKGATE_CONTROL_PORT: '65536', TRUNKGATE_ADMIN_PORT: ' 80', TRUNKGATE_LOG_LEVEL: 'verbose',
    TRUNKGATE_ENGINE_SECRET: 'has|pipe', TRUNKGATE_ADMIN_URL: 'ftp://x',
  });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.problems.map((p) => [p.path, p.code, p.file]).sort(), [
    ['TRUNKGATE_ADMIN_PORT', 'ERR_CONFIG_SCHEMA', 'environment'],
    ['TRUNKGATE_ADMIN_URL', 'ERR_CONFIG_SCHEMA', 'environment'],
    ['TRUNKGATE_CONTROL_PORT', 'ERR_CONFIG_SCHEMA', 'environment'],
    ['TRUNKGATE_ENGINE_SECRET', 'ERR_CONFIG_SCHEMA', 'environment'],
    ['TRUNKGATE_LOG_LEVEL', 'ERR_CONFIG_SCHEMA', 'environment'],
  ]);
});

test('the engine secret may hold neither the protocol separator nor a line end, and is at least 8 characters', () => {
  for (const bad of ['short', 'a|bcdefgh', 'abcdefgh\r\n', 'with space here', 'x'.repeat(257)]) {
    assert.equal(readEnvOverrides({ TRUNKGATE_ENGINE_SECRET: bad }).ok, false, JSON.stringify(bad));
  }
  assert.equal(readEnvOverrides({ TRUNKGATE_ENGINE_SECRET: '~!@#$%^&*()' }).ok, true);
});

test('TRUNKGATE_PREWARM_CALLS is a count within gateway.engine.prewarmCalls bounds', () => {
  assert.deepEqual(readEnvOverrides({ TRUNKGATE_PREWARM_CALLS: '0' }), { ok: true, value: { TRUNKGATE_PREWARM_CALLS: 0 } });
  assert.deepEqual(readEnvOverrides({ TRUNKGATE_PREWARM_CALLS: '2500' }), { ok: true, value: { TRUNKGATE_PREWARM_CALLS: 2500 } });
  for (const bad of ['-1', 'lots', '20001', '1e3']) {
    const r = readEnvOverrides({ TRUNKGATE_PREWARM_CALLS: bad });
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.deepEqual(r.problems.map((p) => [p.path, p.code]), [['TRUNKGATE_PREWARM_CALLS', 'ERR_CONFIG_SCHEMA']]);
  }
});
