import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CIPHER_SUITES, cubeName, lookupCipher, resolveCipherList } from '../../../src/tls/index.js';

test('anchors §4.2 rows: the three names of each suite resolve to one entry', () => {
  const rows: [string, string, string][] = [
    ['TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384', 'AES256_GCM_SHA384'],
    ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE_RSA_AES256_GCM_SHA384'],
    ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE_ECDSA_AES128_GCM_SHA256'],
    ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE_ECDSA_AES256_SHA384'],
    ['TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 'DHE-RSA-AES256-SHA256', 'DHE_RSA_AES256_SHA256'],
    ['TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'DHE-RSA-AES128-SHA', 'DHE_RSA_WITH_AES_128_CBC_SHA'],
    ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA', 'RSA_WITH_AES_128_CBC_SHA'],
  ];
  for (const [iana, openssl, cube] of rows) {
    const a = lookupCipher(iana);
    assert.ok(a, iana);
    assert.equal(a.openssl, openssl);
    assert.equal(a.cube, cube);
    assert.equal(lookupCipher(openssl), a);
    assert.equal(lookupCipher(cube), a);
    assert.equal(lookupCipher(cube.toLowerCase()), a, 'case-insensitive');
  }
});

test('cubeName rules', () => {
  assert.equal(cubeName('TLS_CHACHA20_POLY1305_SHA256', true), 'CHACHA20_POLY1305_SHA256');
  assert.equal(cubeName('TLS_RSA_WITH_AES_256_CBC_SHA', false), 'RSA_WITH_AES_256_CBC_SHA');
  assert.equal(cubeName('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', false), 'ECDHE_RSA_AES128_SHA256');
});

test('every table name is unique per suite', () => {
  const seen = new Map<string, string>();
  for (const s of CIPHER_SUITES) {
    for (const n of new Set([s.iana, s.openssl, s.cube])) {
      assert.ok(!seen.has(n) || seen.get(n) === s.iana, `${n} maps to two suites`);
      seen.set(n, s.iana);
    }
  }
});

test('mixed list resolves into ordered TLS 1.2 list and TLS 1.3 suites', () => {
  const r = resolveCipherList(['ECDHE_RSA_AES256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384', 'AES128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256']);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.value.tls12, 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(r.value.tls13, 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256');
  assert.equal(r.value.node, `${r.value.tls13}:${r.value.tls12}`);
});

test('duplicates under different names collapse', () => {
  const r = resolveCipherList(['ECDHE_RSA_AES256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384']);
  assert.ok(r.ok && r.value.tls12 === 'ECDHE-RSA-AES256-GCM-SHA384');
});

test('unknown names and names this OpenSSL cannot negotiate are errors naming each', () => {
  const r = resolveCipherList(['FOO_BAR', 'ECDHE_RSA_AES256_GCM_SHA384', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'baz']);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, 'ERR_TLS_CIPHER_UNKNOWN');
  assert.deepEqual((r as { unknown: string[] }).unknown, ['FOO_BAR', 'baz']);
  assert.deepEqual((r as { unsupported: string[] }).unsupported, ['TLS_RSA_WITH_3DES_EDE_CBC_SHA']);
  const u = resolveCipherList(['ECDHE-ARIA128-GCM-SHA256']);
  assert.equal(!u.ok && u.code, 'ERR_TLS_CIPHER_UNSUPPORTED');
  const fake = resolveCipherList(['ECDHE_RSA_AES256_GCM_SHA384'], new Set());
  assert.equal(!fake.ok && fake.code, 'ERR_TLS_CIPHER_UNSUPPORTED', 'checked against the supported set');
  assert.equal(resolveCipherList([]).ok, false);
});
