// Edits of one entry in the shipped profiles: the bytes outside the entry stay as they were (comments, blank lines,
// alignment, quoting), a replaced entry keeps the comments between its values, and every edit reads back as intended.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { changedValue, editEntry, MAX_LIST_DIFF_CELLS, type EntryChange } from '../../../../src/config/write/index.js';

const profiles = join(import.meta.dirname, '../../../../profiles');
const shipped = (name: string) => readFileSync(join(profiles, name), 'utf8');

/** The region two texts differ in: [start, endA) of `a` became [start, endB) of `b`. */
function changed(a: string, b: string): { start: number; endA: number; endB: number } {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  return { start, endA, endB };
}

/** Applies the change and checks it reads back as intended and touched only the text between `from` and `to`. */
function edit(text: string, c: EntryChange, from: string, to?: string): string {
  const r = editEntry(text, c);
  assert.equal(r.method, 'in-place');
  assert.deepEqual(parseDocument(r.text).toJS(), changedValue(parseDocument(text).toJS(), c));
  const d = changed(text, r.text);
  const lo = text.indexOf(from);
  const hi = to === undefined ? text.length : text.indexOf(to, lo) + to.length;
  assert.ok(lo >= 0 && hi >= lo, `${from}…${to} in the text`);
  assert.ok(d.start >= lo && d.endA <= hi, `changed ${JSON.stringify(text.slice(d.start, d.endA))} outside ${from}…${to}`);
  return r.text;
}

const comments = (t: string) => t.split('\n').filter((l) => l.trimStart().startsWith('#'));

test('replace a tenant: only its changed values are rewritten; its comments and every other byte stay', () => {
  const text = shipped('tenants.yaml');
  const out = edit(text, {
    kind: 'tenants', name: 'carrier', value: {
      description: 'Carrier SIP trunk over TLS', transport: 'tls', tlsProfile: 'default', url: 'sip', sipServer: '127.0.0.1:5070',
      srtpCrypto: ['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'], defaultPermissions: { international: false, '900Dialing': false },
      unknownPeer: 'reject', trustedSources: ['192.0.2.0/24'],
    },
  }, '  carrier:\n', '  # A second carrier');
  assert.deepEqual(comments(out), comments(text), 'every comment line kept, in order');
  assert.match(out, /^ {4}url: sip {34}# sips: TLS on every hop \(RFC 5630\)$/m, 'a trailing comment keeps its column');
  assert.match(out, /^ {4}sipServer: 127\.0\.0\.1:5070\n/m);
  assert.doesNotMatch(out, /optionsPing: \{ intervalSeconds: 30 \}\n {4}# Digest/);
  assert.match(out, /^ {4}unknownPeer: reject\n {4}trustedSources: \[192\.0\.2\.0\/24\]\n/m);
});

test('create a tenant: appended after the last one in the same style; nothing else moves', () => {
  const text = shipped('tenants.yaml');
  const out = edit(text, { kind: 'tenants', name: 'acme', value: { description: 'Acme PBX', sipServer: '127.0.0.1:5090', optionsPing: { intervalSeconds: 10 }, trustedSources: ['127.0.0.1'] } }, '  carrier-backup:');
  assert.ok(out.startsWith(text));
  assert.equal(out.slice(text.length), '  acme:\n    description: Acme PBX\n    sipServer: 127.0.0.1:5090\n    optionsPing: { intervalSeconds: 10 }\n    trustedSources: [127.0.0.1]\n');
});

test('delete a tenant: its lines and the comment paragraph above it go, one blank line with them', () => {
  const text = shipped('tenants.yaml');
  const out = edit(text, { kind: 'tenants', name: 'carrier', value: undefined }, '  # The carrier', '  # A second');
  assert.doesNotMatch(out, /SBC over TLS|carrier:\n/);
  assert.match(out, /trustedSources: \[127\.0\.0\.0\/8\]\n\n {2}# A second carrier trunk/);
  const first = edit(text, { kind: 'tenants', name: 'pbx', value: undefined }, 'tenants:', '  carrier:');
  assert.match(first, /^tenants:\n {2}# The carrier's SBC/m);
});

test('dial peers, one line each: create goes last, replace rewrites its line, delete removes it; group comments stay', () => {
  const text = shipped('dial-peers.yaml');
  const created = edit(text, { kind: 'dialPeers', name: '400', value: { id: 400, destinationPattern: '^5\\d{3}$', tenant: 'pbx', from: ['pbx'] } }, '  - { id: 300');
  assert.ok(created.endsWith('  - { id: 300, destinationPattern: "^\\\\d{4}$", tenant: pbx, from: [pbx] }\n  - { id: 400, destinationPattern: "^5\\\\d{3}$", tenant: pbx, from: [pbx] }\n'));
  const replaced = edit(text, { kind: 'dialPeers', name: '110', value: { id: 110, destinationPattern: '^011\\d{7,}$', tenant: 'carrier', from: ['pbx'], preference: 3 } }, '  - { id: 110', '  - { id: 120');
  assert.match(replaced, /^ {2}- \{ id: 110, destinationPattern: "\^011\\\\d\{7,\}\$", tenant: carrier, from: \[pbx\], preference: 3 \}$/m);
  const removed = edit(text, { kind: 'dialPeers', name: '100', value: undefined }, '  - { id: 100', '  - { id: 101');
  assert.match(removed, /# PBX → carrier: North American numbers, international, toll free, emergency\.\n {2}- \{ id: 101,/);
});

test('a block list (a cipher list) keeps the comment of each item it keeps', () => {
  const text = shipped('tls.yaml');
  const out = edit(text, { kind: 'tlsCiphers', name: 'strict', value: ['TLS_AES_256_GCM_SHA384', 'ECDHE_RSA_AES256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] }, '  strict:', '# A trustpoint');
  assert.match(out, / {4}- TLS_AES_256_GCM_SHA384 {18}# TLS 1\.3\n {4}- ECDHE_RSA_AES256_GCM_SHA384 {13}# CUBE name\n {4}- TLS_CHACHA20_POLY1305_SHA256\n\n/);
});

test('a TLS peer named by a wildcard is quoted as a key; a section no file has yet is appended to the file', () => {
  const text = shipped('permissions.yaml');
  const out = edit(text, { kind: 'tlsPeers', name: '*.pbx.example', value: { permissions: { international: true }, tenants: ['carrier'] } }, 'tenants: [carrier, carrier-backup]');
  assert.ok(out.endsWith('  "*.pbx.example":\n    permissions: { international: true }\n    tenants: [carrier]\n'));
  const gw = shipped('gateway.yaml');
  const added = edit(gw, { kind: 'tlsPeers', name: 'sbc.example', value: { permissions: {} } }, '  #   maxQueueBytes');
  assert.ok(added.endsWith('  #   maxQueueBytes: 268435456\n\ntlsPeers:\n  sbc.example:\n    permissions: {}\n'));
});

test('the last entry of a section deleted leaves an empty section the loader accepts', () => {
  const text = 'tlsPeers:\n  # the only one\n  a.example: { permissions: {} }\n# after\n';
  const r = editEntry(text, { kind: 'tlsPeers', name: 'a.example', value: undefined });
  assert.equal(r.text, 'tlsPeers: {}\n# after\n');
});

test('a layout it cannot edit in place (a section on one line) is written out again by the YAML library, comments kept', () => {
  const text = '# top comment\ntenants: { a: { sipServer: "127.0.0.1:5080" } }  # inline\n';
  const r = editEntry(text, { kind: 'tenants', name: 'b', value: { sipServer: '127.0.0.1:5090' } });
  assert.equal(r.method, 'rewritten');
  assert.match(r.text, /^# top comment\n/);
  assert.deepEqual(parseDocument(r.text).toJS(), { tenants: { a: { sipServer: '127.0.0.1:5080' }, b: { sipServer: '127.0.0.1:5090' } } });
});

test('a file with CRLF line ends keeps them', () => {
  const text = 'tenants:\r\n  # one\r\n  a: { sipServer: 127.0.0.1:5080 }\r\n';
  const r = editEntry(text, { kind: 'tenants', name: 'b', value: { sipServer: '127.0.0.1:5090' } });
  assert.equal(r.text, `${text}  b: { sipServer: 127.0.0.1:5090 }\r\n`);
});

test('two long lists are not compared item by item: the list is written again whole, and reads back as intended', () => {
  const n = 14_000;
  const text = `permissions:\n  # big\n  big:\n    patterns:\n${'      - "^a$"\n'.repeat(n)}  small:\n    patterns:\n      # kept\n      - "^1$"\n      - "^2$"\n`;
  const value = { patterns: Array.from({ length: n }, (_, i) => `^b${i}$`) };
  assert.ok(n * n > MAX_LIST_DIFF_CELLS);
  const r = editEntry(text, { kind: 'permissions', name: 'big', value });
  assert.equal(r.listsWhole, 1);
  assert.deepEqual(parseDocument(r.text).toJS(), changedValue(parseDocument(text).toJS(), { kind: 'permissions', name: 'big', value }));
  assert.ok(r.text.startsWith('permissions:\n  # big\n  big:\n'));
  assert.ok(r.text.endsWith('  small:\n    patterns:\n      # kept\n      - "^1$"\n      - "^2$"\n'));
  // A short list is still edited item by item: the comment above a kept item stays.
  const s = editEntry(text, { kind: 'permissions', name: 'small', value: { patterns: ['^1$', '^2$', '^3$'] } });
  assert.equal(s.listsWhole, 0);
  assert.equal(s.method, 'in-place');
  assert.match(s.text, /# kept\n {6}- "\^1\$"\n {6}- "\^2\$"\n/);
});
