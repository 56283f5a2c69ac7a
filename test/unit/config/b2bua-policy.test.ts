import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { b2buaPolicyFromConfig, loadConfig, parseConfig, type GatewayConfig } from '../../../src/config/index.js';
import { validateCipherName } from '../../../src/tls/cipher-names.js';
import { classifyNumber, resolvePermissions, categoryDefaults, selectDialPeers } from '../../../src/policy/index.js';

const repo = join(import.meta.dirname, '../../..');

function parse(text: string): GatewayConfig {
  const r = parseConfig([{ file: 'test.yaml', text }]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.config;
}

/**
 * The warnings of a config with `workers` app workers, tenants pbx and itsp, and dial peers a and b to itsp, each with
 * its `keys`; each warning as [code, path] and its message.
 */
function limitWarnings(workers: number, keys: { pbx: string; itsp: string; a: string; b: string }): { paths: unknown[][]; messages: string[] } {
  const r = parseConfig([{ file: 'test.yaml', text: `
gateway: { workers: ${workers} }
tenants:
  pbx: { sipServer: 127.0.0.1:5080, ${keys.pbx} }
  itsp: { sipServer: 127.0.0.1:5090, ${keys.itsp} }
dialPeers:
  - { id: a, destinationPattern: "^1", tenant: itsp, ${keys.a} }
  - { id: b, destinationPattern: "^1", tenant: itsp, ${keys.b} }
` }]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return { paths: r.warnings.map((w) => [w.code, w.path]), messages: r.warnings.map((w) => w.message) };
}

test('the shipped profiles/ become a policy: tenants, listeners with tenants, categories, TLS peers, dial peers in order', () => {
  const cfg = loadConfig(join(repo, 'profiles'), { validateCipherName });
  const p = b2buaPolicyFromConfig(cfg);
  assert.deepEqual(Object.keys(p.tenants).sort(), ['carrier', 'carrier-backup', 'pbx']);
  assert.deepEqual(p.tenants.carrier, {
    transport: 'tls', url: 'sip', sipServer: '127.0.0.1:5062', tlsProfile: 'default',
    srtpCrypto: ['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'], optionsPing: { intervalSeconds: 30, downAfter: 1 },
    defaultPermissions: { international: false, '900Dialing': false }, unknownPeer: 'allow',
  });
  assert.deepEqual(p.tenants.pbx?.optionsPing, { intervalSeconds: 30, downAfter: 2 });
  assert.equal(p.defaultTenant, 'pbx');
  assert.deepEqual(p.dialPeers.map((d) => d.id), cfg.dialPeers.map((d) => d.id));
  assert.ok(p.listeners?.some((l) => l.transport === 'tls' && l.port === 5061 && l.tenant === 'carrier'));
  assert.ok(p.listeners?.some((l) => l.transport === 'tls' && l.port === 5063 && l.tenant === 'carrier-backup'));
  assert.ok(p.listeners?.some((l) => l.transport === 'udp' && l.port === 5060 && l.tenant === undefined));
  // Custom `emergency` (order 0) comes before the built-ins; `mobile` takes the file's pattern.
  assert.equal(p.categories[0]?.name, 'emergency');
  assert.equal(classifyNumber('07123456789', p.categories)?.category.name, 'mobile');
  assert.equal(classifyNumber('+442071234567', p.categories)?.category.name, 'international');
  assert.deepEqual(p.tlsPeers?.['sbc.carrier.example'], { permissions: { international: true, '900Dialing': false }, tenants: ['carrier', 'carrier-backup'] });
});

test('the policy decides as the configuration says: TLS peer over tenant defaults, dial peer by preference and source', () => {
  const p = b2buaPolicyFromConfig(parse(`
tenants:
  pbx: { transport: udp, sipServer: 127.0.0.1:5080 }
  itsp: { transport: tcp, sipServer: "dns:itsp.example", url: tel, defaultPermissions: { international: false }, unknownPeer: reject }
dialPeers:
  - { id: a, destinationPattern: "^\\\\+", tenant: itsp, from: [pbx], preference: 2 }
  - { id: b, destinationPattern: "^\\\\+44", tenant: itsp, from: [pbx], sipServer: 127.0.0.1:5099, preference: 1 }
permissions:
  international: { default: true }
tlsPeers:
  "*.peer.example": { permissions: { international: true } }
`));
  assert.deepEqual(p.tenants.itsp, { transport: 'tcp', url: 'tel', sipServer: 'dns:itsp.example', defaultPermissions: { international: false }, unknownPeer: 'reject' });
  assert.equal(p.defaultTenant, undefined);
  assert.deepEqual(p.dialPeers[1], { id: 'b', destinationPattern: '^\\+44', tenant: 'itsp', from: ['pbx'], preference: 1, sipServer: '127.0.0.1:5099' });
  assert.deepEqual(selectDialPeers('+442071234567', 'pbx', p.dialPeers).map((c) => c.dialPeer.id), ['b', 'a']);
  assert.deepEqual(selectDialPeers('+442071234567', 'itsp', p.dialPeers), []);
  const r = resolvePermissions({ identities: ['dns:sbc.peer.example'], tlsPeers: p.tlsPeers ?? {}, tenant: 'itsp',
    categoryDefaults: categoryDefaults(p.categories), tenantDefaults: p.tenants.itsp!.defaultPermissions!, unknownPeer: 'reject' });
  assert.ok(r.ok);
  assert.equal(r.permissions.international, true);
  const unknown = resolvePermissions({ identities: ['dns:other.example'], tlsPeers: p.tlsPeers ?? {}, tenant: 'itsp',
    categoryDefaults: categoryDefaults(p.categories), tenantDefaults: p.tenants.itsp!.defaultPermissions!, unknownPeer: 'reject' });
  assert.equal(unknown.ok, false);
});

test('the policy is a copy: the frozen configuration is left as it was', () => {
  const cfg = parse('tenants:\n  pbx: { sipServer: 127.0.0.1:5080 }\ndialPeers:\n  - { id: 1, destinationPattern: "^1", tenant: pbx }\n');
  const p = b2buaPolicyFromConfig(cfg);
  assert.ok(Object.isFrozen(cfg.tenants.pbx));
  assert.notEqual(p.tenants.pbx, cfg.tenants.pbx);
  assert.equal(p.listeners?.length, 0);
});

test('digest credentials take their password from the environment variable the tenant names, and only from there', () => {
  const cfg = parse(`
tenants:
  itsp:
    transport: udp
    sipServer: 127.0.0.1:5090
    digest: { username: trunk-7, realm: itsp.example, passwordEnv: ITSP_PASSWORD }
`);
  assert.deepEqual(b2buaPolicyFromConfig(cfg, { ITSP_PASSWORD: 's3cret' }).tenants.itsp?.digest,
    { username: 'trunk-7', password: 's3cret', realm: 'itsp.example' });
  assert.equal(b2buaPolicyFromConfig(cfg, {}).tenants.itsp?.digest, undefined, 'no password set: no credentials offered');
  assert.equal(b2buaPolicyFromConfig(cfg).tenants.itsp?.digest, undefined, 'the process environment is not read implicitly');
});

test('maxCalls on a tenant and a dial peer reach the policy; absent is no limit; 0 and fractions are refused; Retry-After comes from gateway.limits', () => {
  const p = b2buaPolicyFromConfig(parse(`
gateway: { limits: { retryAfterSeconds: 7 } }
tenants:
  pbx: { sipServer: 127.0.0.1:5080, maxCalls: 30 }
  itsp: { sipServer: 127.0.0.1:5090 }
dialPeers:
  - { id: a, destinationPattern: "^1", tenant: itsp, maxCalls: 2 }
  - { id: b, destinationPattern: "^1", tenant: itsp }
`));
  assert.equal(p.tenants.pbx?.maxCalls, 30);
  assert.equal('maxCalls' in p.tenants.itsp!, false);
  assert.equal(p.dialPeers[0]?.maxCalls, 2);
  assert.equal('maxCalls' in p.dialPeers[1]!, false);
  assert.equal(p.retryAfterSeconds, 7);
  for (const bad of ['0', '1.5', '1000001']) {
    const r = parseConfig([{ file: 'test.yaml', text: `tenants:\n  pbx: { sipServer: 127.0.0.1:5080, maxCalls: ${bad} }\n` }]);
    assert.equal(r.ok, false, `tenant maxCalls ${bad}`);
    const d = parseConfig([{ file: 'test.yaml', text: `tenants:\n  pbx: { sipServer: 127.0.0.1:5080 }\ndialPeers:\n  - { id: a, destinationPattern: "^1", tenant: pbx, maxCalls: ${bad} }\n` }]);
    assert.equal(d.ok, false, `dial peer maxCalls ${bad}`);
  }
});

test('a maxCalls that cannot bind as written is a warning: a dial peer above its tenant; a limit over app workers is not (they count together)', () => {
  // 10 over 3 apps binds as written: the apps keep one count (SharedCallCounts).
  const r = limitWarnings(3, { pbx: 'maxCalls: 30', itsp: 'maxCalls: 10', a: 'maxCalls: 12', b: 'maxCalls: 6' });
  assert.deepEqual(r.paths, [
    ['WARN_CONFIG_LIMIT', 'dialPeers[0].maxCalls'],
  ]);
  assert.match(r.messages[0]!, /maxCalls 12 is above tenant itsp's 10/);
  const one = parseConfig([{ file: 'test.yaml', text: 'tenants:\n  pbx: { sipServer: 127.0.0.1:5080, maxCalls: 5 }\n' }]);
  assert.deepEqual(one.ok && one.warnings, [], 'one app: no share to warn about');
});

test('maxCallsPerSecond and callBurst on a tenant and a dial peer reach the policy; callBurst goes only with a rate; 0, negative and 100001 are refused', () => {
  const p = b2buaPolicyFromConfig(parse(`
tenants:
  pbx: { sipServer: 127.0.0.1:5080, maxCallsPerSecond: 0.5, callBurst: 3 }
  itsp: { sipServer: 127.0.0.1:5090, callBurst: 4 }
dialPeers:
  - { id: a, destinationPattern: "^1", tenant: itsp, maxCallsPerSecond: 100000 }
  - { id: b, destinationPattern: "^1", tenant: itsp }
`));
  assert.equal(p.tenants.pbx?.maxCallsPerSecond, 0.5);
  assert.equal(p.tenants.pbx?.callBurst, 3);
  assert.equal('maxCallsPerSecond' in p.tenants.itsp!, false);
  assert.equal('callBurst' in p.tenants.itsp!, false, 'a burst without a rate is ignored');
  assert.equal(p.dialPeers[0]?.maxCallsPerSecond, 100000);
  assert.equal('callBurst' in p.dialPeers[0]!, false, 'absent: call-rates.ts gives the default');
  assert.equal('maxCallsPerSecond' in p.dialPeers[1]!, false);
  const bad = [['maxCallsPerSecond', '0'], ['maxCallsPerSecond', '-1'], ['maxCallsPerSecond', '100001'], ['callBurst', '0'], ['callBurst', '1.5']];
  const ok = (keys: string): [boolean, boolean] => [
    parseConfig([{ file: 'test.yaml', text: `tenants:\n  pbx: { sipServer: 127.0.0.1:5080, ${keys} }\n` }]).ok,
    parseConfig([{ file: 'test.yaml', text: `tenants:\n  pbx: { sipServer: 127.0.0.1:5080 }\ndialPeers:\n  - { id: a, destinationPattern: "^1", tenant: pbx, ${keys} }\n` }]).ok,
  ];
  assert.deepEqual(ok('maxCallsPerSecond: 0.25, callBurst: 1'), [true, true]);
  for (const [key, v] of bad) {
    assert.deepEqual(ok(key === 'callBurst' ? `maxCallsPerSecond: 1, callBurst: ${v}` : `maxCallsPerSecond: ${v}`), [false, false], `${key} ${v}`);
  }
});

test('a call rate that cannot bind as written is a warning: a callBurst without a rate, a burst not shared evenly over app workers', () => {
  const r = limitWarnings(2, {
    pbx: 'maxCallsPerSecond: 3', itsp: 'callBurst: 4', a: 'maxCallsPerSecond: 1, callBurst: 6', b: 'maxCallsPerSecond: 10, callBurst: 5',
  });
  assert.deepEqual(r.paths, [
    ['WARN_CONFIG_LIMIT', 'tenants.pbx.maxCallsPerSecond'],
    ['WARN_CONFIG_LIMIT', 'tenants.itsp.callBurst'],
    ['WARN_CONFIG_LIMIT', 'dialPeers[1].callBurst'],
  ]);
  assert.match(r.messages[0]!, /call burst 3 over 2 app workers: each holds 2, so up to 4 calls may come at once/);
  assert.match(r.messages[1]!, /callBurst is ignored without maxCallsPerSecond/);
});
