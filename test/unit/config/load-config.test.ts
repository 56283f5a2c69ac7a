import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILTIN_CATEGORIES,
  exportJsonSchema,
  formatPath,
  loadConfig,
  parseConfig,
  parseSipServer,
  reloadConfig,
  resolveConfigDir,
  tryLoadConfig,
  type GatewayConfig,
} from '../../../src/config/index.js';
import { configCheck } from '../../../src/cli/config-check.js';
import { validateCipherName } from '../../../src/tls/cipher-names.js';
import { isGatewayError } from '../../../src/common/index.js';

const repo = join(import.meta.dirname, '../../..');
const fixtures = join(repo, 'test/fixtures/config');

test('the shipped profiles/ load as is, with what npm start needs', () => {
  const cfg = loadConfig(join(repo, 'profiles'), { validateCipherName });
  assert.equal(cfg.gateway.engine.mode, 'embedded');
  const l = cfg.listeners.map((x) => `${x.transport}/${x.host}:${x.port}${x.tlsProfile ? `/${x.tlsProfile}` : ''}`);
  assert.ok(l.includes('udp/127.0.0.1:5060'));
  assert.ok(l.includes('tcp/127.0.0.1:5060'));
  assert.ok(l.includes('tls/127.0.0.1:5061/default'));
  // ../pki in profiles/tls.yaml is the pki/ folder beside profiles/, whatever the working directory.
  assert.deepEqual(cfg.trustpoints.gw, { dir: join(repo, 'pki/trustpoints/gw') });
  assert.deepEqual(cfg.trustStores.local, [join(repo, 'pki/ca/ca.crt')]);
  assert.equal(cfg.tlsProfiles.default?.trustpoint, 'gw');
  assert.ok(cfg.tenants.pbx && cfg.tenants.carrier);
  assert.ok(cfg.dialPeers.length > 0);
  assert.ok(Object.keys(cfg.tlsPeers).length >= 1);
  assert.deepEqual(cfg.permissionCategories.map((c) => c.name), ['emergency', 'tollFree', '900Dialing', 'international', 'mobile', 'longDistance', 'local']);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.tenants.pbx) && Object.isFrozen(cfg.dialPeers[0]) && Object.isFrozen(cfg.listeners[0]));
  assert.throws(() => {
    (cfg.tenants as Record<string, unknown>).x = 1;
  }, TypeError);
});

test('parseConfig: defaults, merge order, listeners and id coercion, without I/O', () => {
  const r = parseConfig([
    { file: 'b.yaml', text: 'dialPeers:\n  - { id: 7, destinationPattern: "^7", tenant: t }\n' },
    {
      file: 'a.yaml',
      text: [
        'gateway: { bindHost: 127.0.0.2 }',
        'trustpoints: { gw: { dir: d } }',
        'tlsProfiles: { p: { trustpoint: gw } }',
        'tenants:',
        '  t: { sipServer: "dns:sip.example.com", listen: { port: 5070 }, listenPortSecure: 5071, tlsProfile: p }',
        'dialPeers:',
        '  - { id: x, destinationPattern: "^8", tenant: t }',
      ].join('\n'),
    },
  ]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  if (!r.ok) return;
  const c = r.config;
  assert.deepEqual(c.dialPeers.map((d) => d.id), ['7', 'x']); // file order as given
  assert.equal(c.gateway.admin.port, 8080);
  assert.equal(c.gateway.admin.host, '127.0.0.1');
  assert.equal(c.gateway.engine.mode, 'embedded');
  const t = c.tenants.t!;
  assert.equal(t.transport, 'udp');
  assert.equal(t.url, 'sip');
  assert.equal(t.unknownPeer, 'allow');
  assert.deepEqual(t.defaultPermissions, {});
  const p = c.tlsProfiles.p!;
  assert.deepEqual([p.minVersion, p.maxVersion, p.cnSanValidate, p.sni, p.allowWildcard, p.requireClientCert], ['TLSv1.2', 'TLSv1.3', 'server', 'send', false, false]);
  assert.deepEqual(
    c.listeners.map((l) => [l.transport, l.host, l.port, l.tenant, l.tlsProfile, formatPath(l.path)]),
    [
      ['udp', '127.0.0.2', 5070, 't', undefined, 'tenants.t.listen'],
      ['tls', '127.0.0.2', 5071, 't', 'p', 'tenants.t.listenPortSecure'],
    ],
  );
  assert.deepEqual(c.files, ['b.yaml', 'a.yaml']);
  assert.deepEqual(c.permissionCategories, [...BUILTIN_CATEGORIES]);
});

test('loadConfig throws ERR_CONFIG_INVALID carrying every problem', () => {
  try {
    loadConfig(join(fixtures, 'bad/all-problems-at-once'));
    assert.fail('should throw');
  } catch (e) {
    assert.ok(isGatewayError(e, 'ERR_CONFIG_INVALID'));
    const problems = (e.details as { problems: { code: string }[] }).problems;
    assert.equal(problems.length, 5);
  }
  const missing = tryLoadConfig(join(fixtures, 'does-not-exist'));
  assert.equal(missing.ok, false);
  assert.equal(!missing.ok && missing.problems[0]?.code, 'ERR_CONFIG_READ');
});

test('a reserved name (__proto__, constructor, prototype) as an entry or a section is a problem with its line, never dropped unseen', () => {
  const r = parseConfig([{
    file: 'a.yaml',
    text: ['tenants:', '  ok: { transport: udp }', '  __proto__: { transport: udp }', 'constructor: {}'].join('\n'),
  }]);
  assert.equal(r.ok, false);
  const reserved = !r.ok ? r.problems.filter((p) => /reserved name/.test(p.message)) : [];
  assert.deepEqual(reserved.map((p) => [p.code, p.path, p.line]), [['ERR_CONFIG_SCHEMA', 'tenants.__proto__', 3], ['ERR_CONFIG_SCHEMA', 'constructor', 4]]);
});

test('a list of files can be loaded instead of a directory', () => {
  const dir = join(fixtures, 'good/split-files');
  const r = tryLoadConfig([join(dir, '10-gateway.yml'), join(dir, '20-tls.yaml')]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  const partial = tryLoadConfig([join(dir, '20-tls.yaml')]);
  assert.equal(partial.ok, false); // the trustpoint lives in the other file
  assert.deepEqual(!partial.ok && [...new Set(partial.problems.map((p) => p.code))], ['ERR_CONFIG_REFERENCE']);
});

test('secrets are named by environment variable: unset gives a warning, not an error', () => {
  const dir = join(fixtures, 'good/split-files');
  const unset = tryLoadConfig(dir, { env: {} });
  assert.ok(unset.ok);
  assert.deepEqual(unset.warnings.map((w) => [w.code, w.path]), [['WARN_CONFIG_ENV', 'tenants.acme.digest.passwordEnv']]);
  const set = tryLoadConfig(dir, { env: { ACME_PASSWORD: 'x' } });
  assert.ok(set.ok);
  assert.deepEqual(set.warnings, []);
  assert.ok(set.ok && !JSON.stringify(set.config).includes('"x"'));
});

test('cipher names are checked only through the injected validator', () => {
  const bad = join(fixtures, 'bad/bad-ciphers');
  const without = tryLoadConfig(bad);
  assert.ok(!without.ok);
  assert.deepEqual(!without.ok && without.problems.map((p) => p.code), ['ERR_CONFIG_SCHEMA']); // only the empty list
  const calls: string[] = [];
  tryLoadConfig(bad, { validateCipherName: (n) => (calls.push(n), undefined) });
  assert.equal(calls.length, 5);
});

test('reloadConfig: a bad configuration leaves the running one in place; a good one says what changed', () => {
  const current: GatewayConfig = loadConfig(join(fixtures, 'good/minimal'));
  const snapshot = JSON.stringify(current);
  const bad = reloadConfig(current, join(fixtures, 'bad/all-problems-at-once'));
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.current === current && bad.code === 'ERR_CONFIG_INVALID' && bad.problems.length === 5);
  assert.equal(JSON.stringify(current), snapshot);
  const same = reloadConfig(current, join(fixtures, 'good/minimal'));
  assert.ok(same.ok);
  assert.deepEqual(same.ok && same.changed, []);
  assert.ok(same.ok && same.config !== current && same.previous === current);
  const other = reloadConfig(current, join(fixtures, 'good/external-engine-plain'));
  assert.ok(other.ok);
  assert.deepEqual(other.ok && other.changed, ['gateway', 'tenants', 'dialPeers']);
});

test('resolveConfigDir: flag, then TRUNKGATE_PROFILES, then profiles', () => {
  assert.equal(resolveConfigDir('x', { TRUNKGATE_PROFILES: 'y' }), 'x');
  assert.equal(resolveConfigDir(undefined, { TRUNKGATE_PROFILES: 'y' }), 'y');
  assert.equal(resolveConfigDir(undefined, {}), 'profiles');
  assert.equal(resolveConfigDir('', { TRUNKGATE_PROFILES: '' }), 'profiles');
});

test('parseSipServer: host:port or dns:name[:port]', () => {
  const table: [string, unknown][] = [
    ['127.0.0.1:5080', { kind: 'static', host: '127.0.0.1', port: 5080 }],
    ['sbc.example.com:5061', { kind: 'static', host: 'sbc.example.com', port: 5061 }],
    ['[::1]:5060', { kind: 'static', host: '::1', port: 5060 }],
    ['[2001:db8::1]:5061', { kind: 'static', host: '2001:db8::1', port: 5061 }],
    ['dns:sip.example.com', { kind: 'dns', name: 'sip.example.com', port: undefined }],
    ['dns:sip.example.com.:5061', { kind: 'dns', name: 'sip.example.com', port: 5061 }],
    ['sip.example.com', undefined],
    ['127.0.0.1', undefined],
    ['127.0.0.1:0', undefined],
    ['127.0.0.1:70000', undefined],
    ['::1:5060', undefined],
    ['[not-ip]:5060', undefined],
    ['dns:10.0.0.1', undefined],
    ['dns:', undefined],
    ['dns:bad_name!.example', undefined],
    ['host name:5060', undefined],
    ['', undefined],
  ];
  for (const [s, want] of table) assert.deepEqual(parseSipServer(s), want, s);
});

test('formatPath', () => {
  assert.equal(formatPath(['tenants', 'acme', 'tlsProfile']), 'tenants.acme.tlsProfile');
  assert.equal(formatPath(['dialPeers', 2, 'from', 0]), 'dialPeers[2].from[0]');
  assert.equal(formatPath(['tlsPeers', 'pbx.example.com', 'permissions', '900Dialing']), 'tlsPeers["pbx.example.com"].permissions.900Dialing');
  assert.equal(formatPath([]), '');
});

test('the committed JSON Schema is the exported one', () => {
  const committed = JSON.parse(readFileSync(join(repo, 'profiles/trunkgate.schema.json'), 'utf8'));
  assert.deepEqual(committed, exportJsonSchema(), 'regenerate: trunkgate config check --schema > profiles/trunkgate.schema.json');
  const props = (committed as { properties: Record<string, { properties?: Record<string, unknown> }> }).properties;
  assert.deepEqual(Object.keys(props).sort(), ['cdr', 'dialPeers', 'gateway', 'permissions', 'tenants', 'tlsCiphers', 'tlsPeers', 'tlsProfiles', 'trustStores', 'trustpoints']);
  assert.equal((committed as { additionalProperties?: boolean }).additionalProperties, false);
});

test('trunkgate config check prints every problem and returns non-zero', () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {} };
  assert.equal(configCheck([join(fixtures, 'bad/all-problems-at-once')], io), 1);
  assert.equal(err.length, 6); // five problems and the summary
  assert.match(err[0]!, /a-gateway\.yaml:4: gateway\.listen\[1\]: .*\[ERR_CONFIG_LISTENER_CONFLICT\]$/);
  assert.match(err.at(-1)!, /5 problems \[ERR_CONFIG_INVALID\]$/);
  out.length = 0;
  err.length = 0;
  assert.equal(configCheck([join(repo, 'profiles')], io), 0);
  assert.match(out[0]!, /OK \(5 files; 3 tenants/);
  assert.equal(configCheck(['--schema'], io), 0);
  assert.deepEqual(JSON.parse(out.at(-1)!), exportJsonSchema());
  err.length = 0;
  assert.equal(configCheck([], { ...io, env: { TRUNKGATE_PROFILES: join(fixtures, 'bad/no-yaml') } }), 1);
  assert.match(err[0]!, /ERR_CONFIG_READ/);
});

test('tenantsByServerName maps SNI to the tenant whose profile lists it', async () => {
  const { tenantsByServerName } = await import('../../../src/config/index.js');
  const cfg = loadConfig(join(fixtures, 'good/split-files'));
  assert.deepEqual(tenantsByServerName(cfg), { 'gw-acme.example.com': 'acme', 'gw-beta.example.com': 'beta' });
});

test('what the yaml library would print as a process warning (a key that is a map) is a problem of the file, nothing on stderr', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const r = parseConfig([{ file: 'gateway.yaml', text: 'gateway:\n  ? { a: 1 }\n  : x\n' }]);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.problems.some((p) => p.file === 'gateway.yaml' && p.line === 1), JSON.stringify(!r.ok && r.problems));
    // process.emitWarning delivers on a later tick.
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, []);
});
