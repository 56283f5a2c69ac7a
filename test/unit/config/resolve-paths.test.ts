import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig, tryLoadConfig } from '../../../src/config/index.js';

const TLS_YAML = `
trustpoints:
  byDir: { dir: certs/trustpoints/byDir }
  byFiles: { certificate: img/publickey.pem, key: ./img/privateKey.pem, chain: [img/a.pem, /etc/abs/b.pem] }
  oneChain: { certificate: /abs/cert.pem, key: ../outside/key.pem, chain: img/CAList.pem }
trustStores:
  folder: cas
  bundle: img/CAList.pem
  list: [cas/one.pem, /abs/two.pem]
tlsProfiles:
  p:
    trustpoint: byDir
    trustStore: folder
    revocation: { crl: crl/carrier.pem }
  q:
    trustpoint: byFiles
    revocation: { crl: [crl/a.pem, /abs/crl.pem] }
`;

test('relative certificate paths resolve against the folder of the file that names them, not the working directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-paths-'));
  const profiles = join(root, 'etc', 'profiles');
  mkdirSync(profiles, { recursive: true });
  writeFileSync(join(profiles, 'tls.yaml'), TLS_YAML);
  assert.notEqual(process.cwd(), profiles);
  const r = tryLoadConfig(profiles);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  const c = r.config;
  assert.deepEqual(c.trustpoints.byDir, { dir: join(profiles, 'certs/trustpoints/byDir') });
  assert.deepEqual(c.trustpoints.byFiles, {
    certificate: join(profiles, 'img/publickey.pem'), key: join(profiles, 'img/privateKey.pem'),
    chain: [join(profiles, 'img/a.pem'), '/etc/abs/b.pem'],
  });
  assert.deepEqual(c.trustpoints.oneChain, { certificate: '/abs/cert.pem', key: join(root, 'etc/outside/key.pem'), chain: join(profiles, 'img/CAList.pem') });
  assert.equal(c.trustStores.folder, join(profiles, 'cas'));
  assert.equal(c.trustStores.bundle, join(profiles, 'img/CAList.pem'));
  assert.deepEqual(c.trustStores.list, [join(profiles, 'cas/one.pem'), '/abs/two.pem']);
  assert.deepEqual(c.tlsProfiles.p?.revocation, { crl: join(profiles, 'crl/carrier.pem') });
  assert.deepEqual(c.tlsProfiles.q?.revocation, { crl: [join(profiles, 'crl/a.pem'), '/abs/crl.pem'] });
});

test('files given one by one: each entry resolves against its own file\'s folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-paths-'));
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, 'b'));
  writeFileSync(join(root, 'a', 'tp.yaml'), 'trustpoints:\n  gw: { dir: pki/trustpoints/gw }\n');
  writeFileSync(join(root, 'b', 'store.yaml'), 'trustStores:\n  s: [ca.pem]\n');
  const r = tryLoadConfig([join(root, 'a', 'tp.yaml'), join(root, 'b', 'store.yaml')]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.config.trustpoints.gw, { dir: join(root, 'a', 'pki/trustpoints/gw') });
  assert.deepEqual(r.config.trustStores.s, [join(root, 'b', 'ca.pem')]);
});

test('a document named without a folder resolves against the working directory, as before', () => {
  const r = parseConfig([{ file: 'tls.yaml', text: 'trustpoints:\n  gw: { dir: pki/gw }\n' }]);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.config.trustpoints.gw, { dir: join(process.cwd(), 'pki/gw') });
});
