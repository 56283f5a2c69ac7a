import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b2buaPolicyFromConfig, parseConfig } from '../../../src/config/index.js';
import { setupLimitMs } from '../../../src/b2bua/setup-deadline.js';

function parsed(gateway: string, noAnswer: number) {
  const r = parseConfig([{ file: 'test.yaml', text: `
gateway: ${gateway}
tenants:
  pbx: { sipServer: 127.0.0.1:5080 }
  itsp: { sipServer: 127.0.0.1:5090 }
dialPeers:
  - { id: a, destinationPattern: "^1", tenant: itsp, noAnswerTimeoutSeconds: ${noAnswer} }
` }]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r;
}

test('the b2bua ends a ringing call a little before the engine\'s appFinalTimeoutMs, which the policy carries', () => {
  const r = parsed('{ limits: { appFinalTimeoutMs: 60000 } }', 30);
  const policy = b2buaPolicyFromConfig(r.config);
  assert.equal(policy.calls?.appFinalTimeoutMs, 60_000);
  assert.equal(setupLimitMs(policy), 55_000);
  assert.equal(setupLimitMs(b2buaPolicyFromConfig(parsed('{}', 30).config)), 175_000, 'the engine\'s default, 180 s, less 5 s');
  assert.equal(setupLimitMs(b2buaPolicyFromConfig(parsed('{ limits: { appFinalTimeoutMs: 20000 } }', 10).config)), 18_000, 'less a tenth');
  // With drachtio-server as the engine, its own timers hold: the b2bua takes the default.
  assert.equal(b2buaPolicyFromConfig(parsed('{ engine: { mode: external, host: 127.0.0.1, port: 9022 } }', 30).config).calls?.appFinalTimeoutMs, undefined);
});

test('a dial peer\'s noAnswerTimeoutSeconds at or past the setup limit is warned about', () => {
  const at = parsed('{ limits: { appFinalTimeoutMs: 60000 } }', 55);
  assert.deepEqual(at.warnings.map((w) => [w.code, w.path]), [['WARN_CONFIG_LIMIT', 'dialPeers[0].noAnswerTimeoutSeconds']]);
  assert.match(at.warnings[0]!.message, /not below the call setup limit \(55 s/);
  assert.deepEqual(parsed('{ limits: { appFinalTimeoutMs: 60000 } }', 54).warnings, []);
  assert.deepEqual(parsed('{}', 300).warnings.map((w) => w.code), ['WARN_CONFIG_LIMIT'], 'the default 175 s');
});
