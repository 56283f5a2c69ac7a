import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planStartup } from '../../src/startup.js';
import { silentLogger } from '../../src/log/index.js';
import { isGatewayError } from '../../src/common/index.js';
import { buildTlsProfile } from '../../src/tls/index.js';

function profiles(root: string, extra = ''): string {
  const dir = join(root, 'profiles');
  const pki = join(root, 'pki');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gateway.yaml'), `
gateway:
  domain: gw.test.example
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: default }
  defaultTenant: pbx
trustpoints:
  gw: { dir: ${join(pki, 'trustpoints', 'gw')} }
trustStores:
  local: [${join(pki, 'ca', 'ca.crt')}]
tlsCiphers:
  strict: [TLS_AES_256_GCM_SHA384, ECDHE_RSA_AES256_GCM_SHA384, ECDHE-ECDSA-AES256-GCM-SHA384]
tlsProfiles:
  default: { trustpoint: gw, trustStore: local, ciphers: strict, minVersion: TLSv1.2, maxVersion: TLSv1.3 }
tenants:
  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }
${extra}`);
  return dir;
}

test('first start creates the local CA and the gateway trustpoint (keys 0600); the second start reuses them', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-start-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = profiles(root);
  const first = planStartup(dir, {}, silentLogger());
  assert.deepEqual(first.bootstrapped, ['gw']);
  const key = join(root, 'pki', 'trustpoints', 'gw', 'key.pem');
  assert.ok(existsSync(key));
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.equal(statSync(join(root, 'pki', 'ca', 'ca.key')).mode & 0o777, 0o600);
  const tls = first.options.listen.find((l) => l.transport === 'tls');
  assert.equal(tls?.tlsProfile, 'default', 'the TLS listener names its profile');
  const input = first.options.tls?.profiles.find((p) => p.spec.name === 'default');
  assert.ok(input, 'the profile goes to the engine as plain data');
  assert.match(input.material.trustpoint.keyPem, /PRIVATE KEY/);
  assert.match(input.material.trustpoint.certPem, /BEGIN CERTIFICATE/);
  assert.equal(input.material.trustedCaPems.length, 1, 'the trust store is read');
  // What the engine does with it: the contexts build, the trustpoint verifies, the CUBE cipher name resolves.
  const built = buildTlsProfile(input.spec, input.material);
  assert.equal(built.minVersion, 'TLSv1.2');
  assert.ok(String(built.serverContextOptions.ciphers).includes('ECDHE-RSA-AES256-GCM-SHA384'), 'the CUBE cipher name is resolved to OpenSSL');
  assert.deepEqual(first.options.policy?.dialPeers, [], 'no dial peers: the pipeline with no route, not a bridge');
  assert.equal(first.options.prewarmCalls, 1000, 'the embedded engine pre-warms by default');
  const keyBefore = statSync(key).mtimeMs;
  const second = planStartup(dir, {}, silentLogger());
  assert.deepEqual(second.bootstrapped, []);
  assert.equal(statSync(key).mtimeMs, keyBefore);
});

test('a bad configuration is refused with every problem before anything is created', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-start-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = profiles(root, `dialPeers:
  - { id: 1, destinationPattern: "^(unclosed", tenant: nowhere }
`);
  try {
    planStartup(dir, {}, silentLogger());
    assert.fail('planStartup accepted a bad configuration');
  } catch (e) {
    assert.ok(isGatewayError(e, 'ERR_CONFIG_INVALID'));
    const problems = (e.details as { problems: Array<{ code: string }> }).problems.map((p) => p.code).sort();
    assert.ok(problems.includes('ERR_CONFIG_PATTERN'), problems.join(','));
    assert.ok(problems.includes('ERR_CONFIG_REFERENCE'), problems.join(','));
  }
  assert.equal(existsSync(join(root, 'pki')), false, 'no PKI is created for a configuration that does not load');
});

test('the gateway runs the policy pipeline by default: no dial peer is no route (warned), never a bridge; the environment cannot select one', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-start-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const empty = planStartup(profiles(root), { TRUNKGATE_TARGET: '127.0.0.1:5999' }, silentLogger());
  assert.equal(empty.options.target, undefined, 'no dial peers and an environment variable select no bridge');
  assert.deepEqual(empty.options.policy?.dialPeers, []);
  assert.deepEqual(empty.warnings.map((w) => w.code), ['WARN_NO_DIAL_PEERS']);

  const dir = profiles(root, `dialPeers:
  - { id: 1, destinationPattern: "^\\\\d{4}$", tenant: pbx }
`);
  const routed = planStartup(dir, { TRUNKGATE_TARGET: '127.0.0.1:5999;transport=tcp' }, silentLogger());
  assert.equal(routed.options.target, undefined);
  assert.deepEqual(routed.options.policy?.dialPeers.map((d) => d.id), ['1']);
  assert.equal(routed.options.policy?.defaultTenant, 'pbx');
  assert.ok(routed.options.policy?.listeners?.some((l) => l.transport === 'udp' && l.host === '127.0.0.1'));
  assert.deepEqual(routed.warnings, []);
});

test('policy bridge is chosen only in gateway.yaml: every call to the default tenant\'s sipServer, with a warning', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-start-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = profiles(root);
  const yaml = join(dir, 'gateway.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('  defaultTenant: pbx\n', '  defaultTenant: pbx\n  policy: bridge\n'));
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
  const bridge = planStartup(dir, {}, log);
  assert.equal(bridge.options.policy, undefined);
  assert.equal(bridge.options.target, '127.0.0.1:5080');
  assert.deepEqual(bridge.warnings.map((w) => w.code), ['WARN_POLICY_BRIDGE']);
  assert.ok(lines.some((l) => JSON.parse(l).code === 'WARN_POLICY_BRIDGE'), 'the start logs the bridge warning');
  assert.equal(bridge.options.bridgeMaxDurationSeconds, undefined, 'no longest duration unless gateway.calls sets one');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('  policy: bridge\n', '  policy: bridge\n  calls:\n    maxDurationSeconds: 7200\n'));
  assert.equal(planStartup(dir, {}, silentLogger()).options.bridgeMaxDurationSeconds, 7200, 'gateway.calls.maxDurationSeconds bounds bridged calls');

  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('  defaultTenant: pbx\n', ''));
  assert.throws(() => planStartup(dir, {}, silentLogger()), (e: unknown) => isGatewayError(e, 'ERR_CONFIG_INVALID'),
    'a bridge without a default tenant to send to does not start');
});
