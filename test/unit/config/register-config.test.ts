import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';

const base = 'gateway: { listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }] }\n';

test('tenants.register: an unset password variable is a warning naming it; no registrar and no sipServer is refused', () => {
  const text = (tenant: string) => `${base}tenants:\n  carrier: ${tenant}\n`;
  const unset = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060", register: { username: trunk1, passwordEnv: REG_PW } }') }], { env: {} });
  assert.ok(unset.ok, JSON.stringify(!unset.ok && unset.problems));
  assert.deepEqual(unset.warnings.map((w) => [w.code, w.path]), [['WARN_CONFIG_ENV', 'tenants.carrier.register.passwordEnv']]);
  const set = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060", register: { username: trunk1, passwordEnv: REG_PW } }') }], { env: { REG_PW: 'x' } });
  assert.ok(set.ok);
  assert.equal(set.warnings.length, 0);
  const nowhere = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, register: { username: trunk1, passwordEnv: REG_PW } }') }], { env: { REG_PW: 'x' } });
  assert.equal(nowhere.ok, false);
  if (!nowhere.ok) assert.deepEqual(nowhere.problems.map((p) => [p.code, p.path]), [['ERR_CONFIG_TENANT', 'tenants.carrier.register.registrar']]);
  const inline = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060", register: { username: trunk1, passwordEnv: REG_PW, password: hunter2 } }') }]);
  assert.equal(inline.ok, false, 'an inline password is refused');
});
