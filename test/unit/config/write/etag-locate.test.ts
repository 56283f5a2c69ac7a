// Entity tags (canonical JSON, strong comparison, If-Match lists) and where entries live in a profiles directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalJson, etagOf, fileForNew, ifMatchAllows, locateEntries, readProfiles, writeFileAtomic } from '../../../../src/config/write/index.js';

const profiles = join(import.meta.dirname, '../../../../profiles');

test('an ETag is the same for the same value whatever its key order, and differs for another value', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  assert.equal(etagOf({ a: 1, b: 2 }), etagOf({ b: 2, a: 1 }));
  assert.notEqual(etagOf({ a: 1 }), etagOf({ a: 2 }));
  assert.match(etagOf('x'), /^"[A-Za-z0-9_-]{22}"$/);
});

test('If-Match: *, one tag or a list, compared strongly (a weak tag never matches); nothing matches a missing entry', () => {
  const tag = etagOf({ a: 1 });
  assert.ok(ifMatchAllows(tag, tag));
  assert.ok(ifMatchAllows(`"other", ${tag}`, tag));
  assert.ok(ifMatchAllows('*', tag));
  assert.ok(!ifMatchAllows('*', undefined));
  assert.ok(!ifMatchAllows(`W/${tag}`, tag));
  assert.ok(!ifMatchAllows('"stale"', tag));
  assert.ok(!ifMatchAllows(tag.slice(1, -1), tag), 'an unquoted tag is not a tag');
});

test('entries of each kind are found in the file and at the line that holds them, dial peers by id', () => {
  const docs = readProfiles(profiles);
  // The 1-based line of the first line of `file` that starts with `start`, read here from the shipped file itself.
  const lineOf = (file: string, start: string): number => readFileSync(join(profiles, file), 'utf8').split('\n').findIndex((l) => l.startsWith(start)) + 1;
  const tenants = locateEntries(docs, 'tenants');
  assert.deepEqual(tenants.map((e) => [e.name, e.file.endsWith('tenants.yaml'), e.line]),
    ['pbx', 'carrier', 'carrier-backup'].map((n) => [n, true, lineOf('tenants.yaml', `  ${n}:`)]));
  assert.ok(tenants.every((e) => e.line > 1));
  const peers = locateEntries(docs, 'dialPeers');
  assert.deepEqual(peers.map((e) => e.name), ['100', '101', '110', '120', '200', '210', '300']);
  assert.equal(peers[0]!.line, lineOf('dial-peers.yaml', '  - { id: 100,'));
  assert.deepEqual(locateEntries(docs, 'tlsPeers')[0]?.value, { description: "The carrier's SBC may call international numbers, never 900", permissions: { international: true, '900Dialing': false }, tenants: ['carrier', 'carrier-backup'] });
  assert.deepEqual(locateEntries(docs, 'tlsCiphers')[0]?.value, ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'ECDHE_RSA_AES256_GCM_SHA384', 'ECDHE-RSA-AES128-GCM-SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384']);
});

test('a new entry goes to the file holding its kind (dial peers: the last such file), else to the shipped file name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-locate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.yaml'), 'dialPeers:\n  - { id: 1, destinationPattern: x, tenant: t }\ntenants: {}\n');
  writeFileSync(join(dir, 'b.yaml'), 'dialPeers: []\n');
  const docs = readProfiles(dir);
  assert.equal(fileForNew(dir, docs, 'dialPeers'), join(dir, 'b.yaml'));
  assert.equal(fileForNew(dir, docs, 'tenants'), join(dir, 'a.yaml'));
  assert.equal(fileForNew(dir, docs, 'tlsPeers'), join(dir, 'permissions.yaml'));
  assert.equal(fileForNew(dir, docs, 'tlsProfiles'), join(dir, 'tls.yaml'));
});

test('an atomic write replaces the whole text, keeps the mode and leaves no temporary file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'x.yaml');
  writeFileSync(f, 'old\n', { mode: 0o640 });
  writeFileAtomic(f, 'new\n');
  assert.equal(readFileSync(f, 'utf8'), 'new\n');
  assert.deepEqual(readdirSync(dir), ['x.yaml']);
  writeFileAtomic(join(dir, 'y.yaml'), 'made\n');
  assert.deepEqual(readdirSync(dir).sort(), ['x.yaml', 'y.yaml']);
});
