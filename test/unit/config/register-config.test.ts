import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';

const base = 'gateway: { listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }] }\n';

test('tenants.register: an unset password variable is a warning naming it; no registrar and no sipServer is refused', () => {
  const text = (tenant: string) => `${base}tenants:\n  carrier: ${tenant}\n`;
  const unset = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060", register: { username: trunk1, realm: carrier.example, passwordEnv: REG_PW } }') }], { env: {} });
  assert.ok(unset.ok, JSON.stringify(!unset.ok && unset.problems));
  assert.deepEqual(unset.warnings.map((w) => [w.code, w.path]), [['WARN_CONFIG_ENV', 'tenants.carrier.register.passwordEnv']]);
  const set = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060", register: { username: trunk1, realm: carrier.example, passwordEnv: REG_PW } }') }], { env: { REG_PW: 'x' } });
  assert.ok(set.ok);
  assert.equal(set.warnings.length, 0);
  const nowhere = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, register: { username: trunk1, realm: carrier.example, passwordEnv: REG_PW } }') }], { env: { REG_PW: 'x' } });
  assert.equal(nowhere.ok, false);
  if (!nowhere.ok) assert.deepEqual(nowhere.problems.map((p) => [p.code, p.path]), [['ERR_CONFIG_TENANT', 'tenants.carrier.register.registrar']]);
  const inline = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060", register: { username: trunk1, passwordEnv: REG_PW, password: hunter2 } }') }]);
  assert.equal(inline.ok, false, 'an inline password is refused');
});

test('tenants.registerRelay: names a defined registrar tenant with somewhere to register; the policy carries the Path address', async () => {
  const { b2buaPolicyFromConfig } = await import('../../../src/config/index.js');
  const text = (relay: string, registrar = '{ transport: tcp, listen: { host: 127.0.0.1, port: 5070 }, sipServer: "192.0.2.20:5060" }') =>
    `${base}tenants:\n  phones: { transport: tcp, listen: { host: 127.0.0.1, port: 5080 }, registerRelay: ${relay} }\n  registrar: ${registrar}\n`;
  const good = parseConfig([{ file: '/p/gateway.yaml', text: text('{ to: registrar }') }]);
  assert.ok(good.ok, JSON.stringify(!good.ok && good.problems));
  const relay = b2buaPolicyFromConfig(good.config).tenants['phones']!.registerRelay;
  assert.deepEqual(relay, {
    to: 'registrar', registrar: '192.0.2.20:5060', transport: 'tcp', scheme: 'sip', path: { host: '127.0.0.1', port: 5070 }, maxBindings: 10_000, maxExpires: 7200,
  });
  const unknown = parseConfig([{ file: '/p/gateway.yaml', text: text('{ to: nowhere }') }]);
  assert.equal(unknown.ok, false);
  if (!unknown.ok) assert.deepEqual(unknown.problems.map((p) => [p.code, p.path]), [['ERR_CONFIG_REFERENCE', 'tenants.phones.registerRelay.to']]);
  const self = parseConfig([{ file: '/p/gateway.yaml', text: text('{ to: phones }') }]);
  assert.equal(self.ok, false);
  const noServer = parseConfig([{ file: '/p/gateway.yaml', text: text('{ to: registrar }', '{ transport: tcp }') }]);
  assert.equal(noServer.ok, false);
  if (!noServer.ok) assert.deepEqual(noServer.problems.map((p) => [p.code, p.path]), [['ERR_CONFIG_TENANT', 'tenants.phones.registerRelay.registrar']]);
  const bad = parseConfig([{ file: '/p/gateway.yaml', text: text('{ to: registrar, maxBindings: 0 }') }]);
  assert.equal(bad.ok, false, 'maxBindings is at least 1');
});

test('tenants.registerRelay: the Path needs a listener of the registrar tenant\'s transport, named by address or gateway.domain', () => {
  const text = (registrar: string, gateway = base) => `${gateway}tenants:\n  phones: { transport: tcp, listen: { host: 127.0.0.1, port: 5080 }, registerRelay: { to: registrar } }\n  registrar: ${registrar}\n`;
  const none = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: tls, sipServer: "192.0.2.20:5061" }') }]);
  assert.equal(none.ok, false);
  if (!none.ok) assert.deepEqual(none.problems.filter((p) => p.path === 'tenants.phones.registerRelay.to').map((p) => p.code), ['ERR_CONFIG_TENANT']);
  const shared = parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060" }') }]);
  assert.ok(shared.ok, 'the shared UDP listener on 127.0.0.1 serves');
  const wildcard = 'gateway: { listen: [{ transport: udp, host: 0.0.0.0, port: 5060 }] }\n';
  assert.equal(parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060" }', wildcard) }]).ok, false);
  const named = 'gateway: { domain: gw.example.com, listen: [{ transport: udp, host: 0.0.0.0, port: 5060 }] }\n';
  assert.ok(parseConfig([{ file: '/p/gateway.yaml', text: text('{ transport: udp, sipServer: "192.0.2.20:5060" }', named) }]).ok);
});
